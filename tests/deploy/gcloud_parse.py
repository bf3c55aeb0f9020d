"""Asks the installed Google Cloud SDK's own code about deploy files, offline.

Executed with the Cloud SDK's Python (not pytest's), one mode per call, JSON on stdout:

``commands``  gcloud commands (one shell-quoted per line on stdin) go through the real
              CLI's parser with an empty configuration and no account. One gcloud
              understands gets as far as needing credentials (exit 1, "no active
              account"); a wrong flag, value or command stops in the parser (exit 2).
``upload DIR IGNORE_FILE``  the files ``gcloud builds submit DIR --ignore-file`` uploads.
``app-yaml FILE``  app.yaml as ``gcloud app deploy`` parses and validates it.

Usage: python gcloud_parse.py SDK_ROOT MODE [ARGS]
"""

import contextlib
import json
import os
import shlex
import sys
import tempfile


def main() -> None:
    root, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    sys.path[:0] = [os.path.join(root, "lib"), os.path.join(root, "lib", "third_party")]
    if mode == "commands":
        parse_commands()
    elif mode == "upload":
        from googlecloudsdk.command_lib.util import gcloudignore

        chooser = gcloudignore.GetFileChooserForDir(args[0], ignore_file=args[1],
                                                    write_on_disk=False)
        files = sorted(chooser.GetIncludedFiles(args[0], include_dirs=False))
        print(json.dumps(files))
    elif mode == "app-yaml":
        from googlecloudsdk.api_lib.app import yaml_parsing

        info = yaml_parsing.ServiceYamlInfo.FromFile(args[0])
        parsed = info.parsed
        print(json.dumps({
            "runtime": info.runtime, "env": str(info.env), "entrypoint": parsed.entrypoint,
            "service_account": parsed.service_account,
            "instance_class": parsed.instance_class,
            "env_variables": dict(parsed.env_variables or {}),
            "max_concurrent_requests": parsed.automatic_scaling.max_concurrent_requests,
            "handlers": [{"url": h.url, "secure": h.secure, "script": h.script}
                         for h in parsed.handlers],
        }))
    else:
        raise SystemExit(f"unknown mode {mode}")


def parse_commands() -> None:
    from googlecloudsdk import gcloud_main

    cli = gcloud_main.CreateCLI([])
    for line in sys.stdin.read().splitlines():
        argv = shlex.split(line, comments=True)
        if not argv or argv[0] != "gcloud":
            continue
        with tempfile.TemporaryFile(mode="w+") as err:
            saved = os.dup(2)
            os.dup2(err.fileno(), 2)
            try:
                with contextlib.redirect_stdout(sys.stderr):
                    code = run(cli, argv[1:])
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
            err.seek(0)
            lines = [x for x in err.read().splitlines() if x.strip()]
        # progress lines ("Creating gs://…") may come before the error itself
        errors = [x for x in lines if x.startswith("ERROR")] or lines
        print(json.dumps({"argv": argv, "code": code, "error": errors[0] if errors else ""}),
              flush=True)


def run(cli: object, args: list[str]) -> int:
    try:
        cli.Execute(args)  # type: ignore[attr-defined]
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # report it, never stop the batch
        sys.stderr.write(f"EXCEPTION {type(exc).__name__}: {exc}\n")
        return 99
    return 0


if __name__ == "__main__":
    main()
