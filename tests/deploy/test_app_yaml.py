"""app.yaml kept in step with the Cloud Run deployment, without any YAML library.

(Full parsing and validation as ``gcloud app deploy`` does it is in test_gcloud_cli.py,
where the Cloud SDK is installed.) Here: the same Python as the image, the same server
command, every setting the Cloud Run service gets, HTTPS only, nothing secret.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .deploy_support import (
    ROOT,
    base_args,
    env_vars,
    first_index,
    run_deploy,
    tool_dir,
    write_template,
)

TEXT = (ROOT / "app.yaml").read_text()
# Settings the platform gives App Engine itself, or only Cloud Run needs.
PLATFORM = {"GOOGLE_CLOUD_PROJECT"}


def top_level(key: str) -> str:
    match = re.search(rf"^{key}:[ \t]*(.*)$", TEXT, re.MULTILINE)
    assert match, f"app.yaml has no {key}"
    return match.group(1).strip()


def block(key: str) -> dict[str, str]:
    """The ``key:`` mapping's entries (two-space indented ``NAME: value`` lines)."""
    lines = TEXT.split(f"\n{key}:\n", 1)[1].splitlines()
    entries = {}
    for line in lines:
        if line and not line.startswith(" "):
            break
        match = re.match(r"^  ([A-Za-z_]+):\s*(.*)$", line)
        if match:
            entries[match.group(1)] = match.group(2).strip().strip('"')
    return entries


def test_same_python_as_the_image() -> None:
    runtime = top_level("runtime")
    image = re.search(r"^FROM python:(\d+)\.(\d+)-slim", (ROOT / "Dockerfile").read_text(),
                      re.MULTILINE)
    assert image
    assert runtime == f"python{image.group(1)}{image.group(2)}"


def test_same_server_command_as_the_image() -> None:
    entrypoint = top_level("entrypoint")
    cmd = json.loads(re.search(r"^CMD (.+)$", (ROOT / "Dockerfile").read_text(),
                               re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert entrypoint.split() == cmd == ["sendguard", "serve"]


def test_every_cloud_run_setting_is_there(tmp_path: Path) -> None:
    result = run_deploy(["--dry-run", *base_args(write_template(tmp_path), tmp_path / "out")],
                        tool_dir(tmp_path))
    assert result.code == 0, result.stderr
    deploy = result.commands[first_index(result.commands, r"^gcloud run deploy sendguard ")]
    wanted = set(env_vars(deploy, "update-env-vars")) - PLATFORM
    env = block("env_variables")
    assert wanted <= set(env), f"missing in app.yaml: {sorted(wanted - set(env))}"
    assert env["SENDGUARD_ENV"] == "production"
    assert env["SENDGUARD_BASE_URL"].startswith("https://")
    assert env["SENDGUARD_ADDON_AUDIENCE"] == env["SENDGUARD_BASE_URL"]
    assert int(env["SENDGUARD_HTTP_WORKERS"]) * int(env["SENDGUARD_HTTP_THREADS"]) == int(
        block("automatic_scaling")["max_concurrent_requests"])
    # The secrets come from the git-ignored include, never from this file.
    secrets = set(env_vars(deploy, "set-secrets"))
    assert not secrets & set(env)
    assert "  - deploy/out/appengine-secrets.yaml" in TEXT


def test_https_only_and_nothing_secret() -> None:
    handlers = TEXT.split("\nhandlers:\n", 1)[1]
    assert handlers.count("- url:") == handlers.count("secure: always") >= 1
    code = "\n".join(line for line in TEXT.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"[0-9a-fA-F]{32,}", code)
    assert not re.search(r"://[^/\s:@]+:[^@\s]+@", code), "a password in a URL"
    assert "DATABASE_URL" not in code and "SENDGUARD_MASTER_KEY" not in code
