"""Running deploy/deploy.sh in tests: a PATH without gcloud, or with the fake one."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "deploy.sh"
FAKE = Path(__file__).with_name("fake_gcloud.py")
# Everything deploy.sh may call besides gcloud: a missing one here is a missing
# dependency of the script, and the tests fail.
TOOLS = ("bash", "dirname", "cat", "od", "tr", "date", "git", "mkdir", "rm")
TEMPLATE = """{
  "oauthScopes": ["https://www.googleapis.com/auth/gmail.addons.current.action.compose"],
  "addOns": {
    "common": {"name": "SendGuard",
               "homepageTrigger": {"runFunction": "${SERVICE_URL}/addon/homepage"}},
    "gmail": {"composeTrigger": {"actions": [{"runFunction": "${SERVICE_URL}/addon/compose"}],
                                 "draftAccess": "METADATA"}},
    "httpOptions": {"authorizationHeader": "SYSTEM_ID_TOKEN"}
  }
}
"""


def tool_dir(base: Path) -> Path:
    """A bin directory holding only the tools deploy.sh needs, gcloud not among them."""
    bin_dir = base / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} is not installed"
        link = bin_dir / tool
        if not link.exists():
            link.symlink_to(found)
    return bin_dir


def install_fake_gcloud(bin_dir: Path) -> None:
    gcloud = bin_dir / "gcloud"
    # -I -S: the fake needs only the standard library, and starts faster without site.
    gcloud.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -I -S "
                      f"{shlex.quote(str(FAKE))} \"$@\"\n")
    gcloud.chmod(0o755)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def commands(self) -> list[list[str]]:
        """Each traced command, split as a shell would."""
        return [shlex.split(line[2:], comments=True)
                for line in self.stdout.splitlines() if line.startswith("+ ")]


def run_deploy(args: list[str], bin_dir: Path, env: dict[str, str] | None = None,
               stdin: str = "") -> Result:
    full_env = {"PATH": str(bin_dir), "HOME": str(bin_dir.parent), "LANG": "C.UTF-8",
                **(env or {})}
    proc = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True,
                          env=full_env, input=stdin, timeout=120, check=False,
                          executable=str(bin_dir / "bash"))
    return Result(proc.returncode, proc.stdout, proc.stderr)


class FakeCloud:
    """The fake gcloud's world: its state file and its call log."""

    def __init__(self, base: Path, exists: list[str] | None = None) -> None:
        self.state = base / "gcloud-state.json"
        self.log = base / "gcloud-calls.jsonl"
        self.state.write_text(json.dumps({
            "exists": ["projects sample-proj", "logging sinks _Default", *(exists or [])],
            "exclusions": []}))
        self.log.write_text("")
        self.offset = 0

    def env(self, **extra: str) -> dict[str, str]:
        return {"FAKE_GCLOUD_STATE": str(self.state), "FAKE_GCLOUD_LOG": str(self.log),
                **extra}

    def calls_since_last(self) -> list[dict[str, Any]]:
        lines = self.log.read_text().splitlines()
        new, self.offset = lines[self.offset:], len(lines)
        return [json.loads(line) for line in new]


def joined(argv: list[str]) -> str:
    return " ".join(argv)


def first_index(commands: list[list[str]], pattern: str) -> int:
    """Index of the first command whose joined text matches ``pattern`` (regex)."""
    for i, argv in enumerate(commands):
        if re.search(pattern, joined(argv)):
            return i
    raise AssertionError(f"no command matches {pattern!r}")


def env_vars(argv: list[str], flag: str) -> dict[str, str]:
    """KEY=VALUE pairs of a --flag=K=V,K=V argument."""
    value = next(a.split("=", 1)[1] for a in argv if a.startswith(f"--{flag}="))
    return dict(pair.split("=", 1) for pair in value.split(","))


def write_template(base: Path, text: str = TEMPLATE) -> Path:
    path = base / "deployment.json"
    path.write_text(text)
    return path


def base_args(template: Path, out_dir: Path, *more: str) -> list[str]:
    return ["--project", "sample-proj", "--region", "asia-northeast1",
            "--addon-template", str(template), "--out-dir", str(out_dir), *more]


def sdk_root() -> Path | None:
    """The installed Google Cloud SDK, when there is one."""
    found = shutil.which("gcloud")
    if not found:
        return None
    root = Path(os.path.realpath(found)).parent.parent
    return root if (root / "lib" / "googlecloudsdk").is_dir() else None


def sdk_python(root: Path) -> str:
    bundled = root / "platform" / "bundledpythonunix" / "bin" / "python3"
    return str(bundled) if bundled.exists() else (shutil.which("python3") or sys.executable)
