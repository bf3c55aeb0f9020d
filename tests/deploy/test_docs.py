"""The admin documentation stays true: links resolve, both languages say the same
commands, the names it deletes are the names deploy.sh creates, and (where the Cloud SDK
is installed) every gcloud command in it is one the real gcloud parser accepts.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import unicodedata
from pathlib import Path

import pytest

from .deploy_support import (
    ROOT,
    base_args,
    run_deploy,
    sdk_python,
    sdk_root,
    tool_dir,
    write_template,
)

DOCS = [ROOT / "docs" / name for name in
        ("admin-guide.md", "admin-guide.ja.md", "security.md", "security.ja.md")]
PAIRS = [("admin-guide.md", "admin-guide.ja.md"), ("security.md", "security.ja.md")]
PAGES = [*DOCS, ROOT / "deploy" / "README.md"]
PARSER = Path(__file__).with_name("gcloud_parse.py")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.strip().lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", path.read_text(), re.MULTILINE)}


@pytest.mark.parametrize("page", [pytest.param(p, id=p.name) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        path = (page.parent / file_part).resolve() if file_part else page
        assert path.exists(), f"{page.name}: broken link {target}"
        if anchor:
            assert anchor in anchors(path), f"{page.name}: no heading for #{anchor} in {path.name}"


def gcloud_commands(path: Path) -> list[str]:
    """gcloud commands in the page's shell blocks and inline code, variables filled in."""
    text = path.read_text()
    chunks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    chunks += [c for c in re.findall(r"`(gcloud [^`]+)`", text) if " --" in c]
    commands = []
    for chunk in chunks:
        joined = re.sub(r"\\\n\s*", " ", chunk)
        for line in joined.splitlines():
            for part in re.split(r"[|;{}]", line):
                part = part.strip()
                # Login and local configuration are the admin's own, not SendGuard's.
                if part.startswith("gcloud ") and not part.startswith(("gcloud auth ",
                                                                       "gcloud config ")):
                    commands.append(fill(part))
    return commands


def fill(command: str) -> str:
    command = command.replace("$(date -u -d '+90 days' +%FT%TZ)", "2027-01-01T00:00:00Z")
    command = re.sub(r"\$\([^)]*\)", "20270101", command)
    values = {"$P": "my-sendguard-project", "$R": "asia-northeast1", "$s": "sendguard-policy"}
    for var, value in values.items():
        command = re.sub(re.escape(var) + r"\b", value, command)
    return command.replace('"', "")


@pytest.mark.parametrize(("english", "japanese"), PAIRS)
def test_both_languages_give_the_same_commands_and_sections(english: str, japanese: str) -> None:
    en, ja = ROOT / "docs" / english, ROOT / "docs" / japanese
    assert sorted(gcloud_commands(en)) == sorted(gcloud_commands(ja))
    def count(p: Path) -> int:
        return len(re.findall(r"^##+ ", p.read_text(), re.MULTILINE))
    assert count(en) == count(ja)
    assert re.search(r"[\u3040-\u30ff]", ja.read_text()), "the Japanese page is in Japanese"


def test_removal_deletes_what_deploy_creates(tmp_path: Path) -> None:
    dry = run_deploy(["--dry-run", *base_args(write_template(tmp_path), tmp_path / "out",
                                              "--kms-key", "projects/p/locations/l/keyRings/r/"
                                              "cryptoKeys/k", "--policy", "/dev/null",
                                              "--mailer", "smtps://u@h.example:465",
                                              "--smtp-password-file", "/dev/null")],
                     tool_dir(tmp_path))
    plain = run_deploy(["--dry-run", *base_args(write_template(tmp_path), tmp_path / "out")],
                       tool_dir(tmp_path))
    created = dry.stdout.replace("sample-proj", "my-sendguard-project") + plain.stdout.replace(
        "sample-proj", "my-sendguard-project")
    deletes = [c for c in gcloud_commands(ROOT / "docs" / "admin-guide.md")
               if " delete " in c or "--remove-exclusions" in c]
    assert len(deletes) >= 10
    for command in deletes:
        argv = shlex.split(command)
        name = next((a.split("=", 1)[1] for a in argv if a.startswith("--remove-exclusions=")),
                    None) or argv[argv.index("delete") + 1]
        assert name in created, f"{command}: deploy.sh creates no {name}"


def test_every_documented_gcloud_command_parses(tmp_path: Path) -> None:
    root = sdk_root()
    if root is None:
        pytest.skip("the Google Cloud SDK is not installed (no registry here provides it)")
    commands = sorted({c for page in PAGES for c in gcloud_commands(page)})
    assert len(commands) >= 25
    proc = subprocess.run([sdk_python(root), str(PARSER), str(root), "commands"],
                          input="\n".join(commands) + "\n", capture_output=True, text=True,
                          timeout=120, check=False,
                          env={"CLOUDSDK_CONFIG": str(tmp_path), "HOME": str(tmp_path),
                               "CLOUDSDK_CORE_DISABLE_PROMPTS": "1", "PATH": "/usr/bin:/bin",
                               # as after the guide's `gcloud config set project`
                               "CLOUDSDK_CORE_PROJECT": "my-sendguard-project"})
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == len(commands)
    bad = [r for r in results if r["code"] != 1 or "active account" not in r["error"]]
    assert not bad, json.dumps(bad, indent=1, ensure_ascii=False)
