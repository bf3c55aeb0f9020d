"""Runs gcloud commands through the real Google Cloud CLI's parser, offline.

Executed with the Cloud SDK's own Python (not pytest's): it loads the gcloud CLI once and
feeds it each command from a dry run, with an empty configuration and no account. A
command gcloud understands gets as far as needing credentials (exit 1, "no active
account"); a wrong flag, value or command stops in the parser first (exit 2) with the
reason. Prints one JSON object per command: its argv, exit code and first error line.

Usage: python gcloud_parse.py SDK_ROOT < commands (one shell-quoted command per line)
"""

import contextlib
import json
import os
import shlex
import sys
import tempfile


def main() -> None:
    root = sys.argv[1]
    sys.path[:0] = [os.path.join(root, "lib"), os.path.join(root, "lib", "third_party")]
    from googlecloudsdk import gcloud_main  # type: ignore[import-not-found]

    cli = gcloud_main.CreateCLI([])
    out = sys.stdout
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
        out.write(json.dumps({"argv": argv, "code": code,
                              "error": lines[0] if lines else ""}) + "\n")
        out.flush()


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
