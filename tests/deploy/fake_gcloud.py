"""A stand-in ``gcloud`` for running deploy.sh here, where Google Cloud cannot be reached.

It keeps a small world in a JSON state file: which resources exist (made by the
``create``/``deploy`` commands deploy.sh issues, or preloaded by a test), which exclusions
the log sink has, and what each secret received on stdin. Every call is appended to a log
as JSON, with the stdin and ``--flags-file`` contents it was given, so a test can check
what a real gcloud would have been asked to do and with which secret values.

``workspace-add-ons deployments create|replace`` parse the descriptor with Google's
``Deployment`` proto (``descriptor.py``) and fail like the API on one that does not parse.
``describe`` answers exit 1 (NOT_FOUND) for what does not exist, exit 0 and the requested
``--format=value(...)`` for what does. ``FAKE_GCLOUD_FAIL`` names a command prefix
(``run jobs execute``) that fails, to test that deploy.sh stops there.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

PROJECT_NUMBER = "123456789012"
SERVICE_URL = "https://sendguard-x7fq2kd3ua-an.a.run.app"
ADDON_SA = f"service-{PROJECT_NUMBER}@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
OAUTH_CLIENT = "1098765432-fakeaddon.apps.googleusercontent.com"
VERBS = {"describe", "create", "deploy", "update", "replace", "install", "execute", "add",
         "enable", "submit", "set-password", "add-iam-policy-binding", "get-authorization"}


def split(argv: list[str]) -> tuple[list[str], str, list[str], dict[str, str]]:
    """(group words, verb, positionals after the verb, --flags) of one gcloud call."""
    words = [a for a in argv if not a.startswith("--")]
    flags: dict[str, str] = {}
    for a in argv:
        if a.startswith("--"):
            name, _, value = a[2:].partition("=")
            flags[name] = value
    for i, w in enumerate(words):
        if w in VERBS:
            return words[:i], w, words[i + 1:], flags
    return words, "", [], flags


def resource_key(group: list[str], verb: str, rest: list[str]) -> str:
    if group == ["run"] and verb == "deploy":
        group = ["run", "services"]
    if group[:2] == ["scheduler", "jobs"] and rest[:1] == ["http"]:
        rest = rest[1:]
    name = rest[0] if rest else ""
    if group == ["iam", "service-accounts"]:
        name = name.split("@")[0]
    return " ".join([*group, name])


def value_of(field: str, key: str, state: dict[str, Any]) -> str:
    answers = {
        "projectNumber": PROJECT_NUMBER,
        "status.url": SERVICE_URL,
        "serviceAccountEmail": ADDON_SA,
        "oauthClientId": OAUTH_CLIENT,
        "exclusions[].name": ";".join(state["exclusions"]),
    }
    return answers.get(field, f"fake-{field}-of-{key}")


def check_descriptor(path: str) -> int:
    """As the API does: a descriptor that does not parse as Google's ``Deployment`` proto
    is refused (exit 1, INVALID_ARGUMENT). Parsed in a child interpreter with site-packages
    (this fake runs without them, for speed)."""
    if not path:
        print("ERROR: (gcloud.workspace-add-ons.deployments) --deployment-file is required",
              file=sys.stderr)
        return 1
    checker = Path(__file__).with_name("descriptor.py")
    return subprocess.run([sys.executable, "-I", str(checker), path], check=False).returncode


def main(argv: list[str]) -> int:
    state_path = Path(os.environ["FAKE_GCLOUD_STATE"])
    state = json.loads(state_path.read_text())
    group, verb, rest, flags = split(argv)
    call: dict[str, Any] = {"argv": argv}
    if flags.get("data-file") == "-":
        call["stdin"] = sys.stdin.read()
    if "flags-file" in flags:
        call["flags_file"] = Path(flags["flags-file"]).read_text()
    with open(os.environ["FAKE_GCLOUD_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(call) + "\n")

    failing = os.environ.get("FAKE_GCLOUD_FAIL", "")
    if failing and " ".join(argv).startswith(failing):
        print(f"ERROR: (gcloud.{'.'.join(group)}.{verb}) simulated failure", file=sys.stderr)
        return 1
    key = resource_key(group, verb, rest)
    code = 0
    if group[-2:] == ["workspace-add-ons", "deployments"] and verb in ("create", "replace"):
        failed = check_descriptor(flags.get("deployment-file", ""))
        if failed:
            return failed
    if verb == "describe":
        if key not in state["exists"]:
            print(f"ERROR: (gcloud.{'.'.join(group)}.describe) NOT_FOUND: {key}",
                  file=sys.stderr)
            return 1
    elif verb == "create":
        if key in state["exists"]:
            print(f"ERROR: ALREADY_EXISTS: {key}", file=sys.stderr)
            return 1
        state["exists"].append(key)
    elif verb == "deploy" and key not in state["exists"]:   # run deploy: create or update
        state["exists"].append(key)
    elif group == ["logging", "sinks"] and verb == "update":
        match = re.match(r"name=([^,]+),", flags.get("add-exclusion", ""))
        if match:
            state["exclusions"].append(match.group(1))
    state_path.write_text(json.dumps(state))
    fmt = re.fullmatch(r"value\((.+)\)", flags.get("format", ""))
    if fmt:
        print(value_of(fmt.group(1), key, state))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
