"""The READMEs tell the truth about the command line: the example output is what the
command prints today, verbatim, in both languages; README.ja keeps step with README (every
setting, the Debian packages ``make test`` installs, the screenshots)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = {"en": ROOT / "README.md", "ja": ROOT / "README.ja.md"}
EXAMPLE = re.compile(r"```console\n\$ (?:LANG=(\S+) )?(sendguard check [^\n]+)\n(.*?)```",
                     re.DOTALL)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_example_output_is_verbatim(lang: str) -> None:
    m = EXAMPLE.search(README[lang].read_text(encoding="utf-8"))
    assert m, f"no sendguard check example in {README[lang].name}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "SENDGUARD_"))}
    env["LANG"] = m.group(1) or "en_US.UTF-8"
    args = m.group(2).split()[1:]
    r = subprocess.run([sys.executable, "-m", "service", *args], capture_output=True,
                       text=True, cwd=ROOT, env=env, check=False, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == m.group(3), f"README example differs from `{m.group(2)}` today"


def _settings() -> set[str]:
    source = (ROOT / "service" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'"(SENDGUARD_[A-Z_]+|DATABASE_URL|PORT)"', source))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_setting_is_documented(lang: str) -> None:
    text = README[lang].read_text(encoding="utf-8")
    missing = sorted(name for name in _settings() if f"`{name}`" not in text)
    assert not missing, f"{README[lang].name} does not document {missing}"


@pytest.mark.parametrize("words", [
    "shellcheck", "SENDGUARD_MAIL_FROM", "SENDGUARD_VAR_DIR", "docs/screenshots/compose.png",
    "docs/screenshots/encrypt.png", "docs/screenshots/keypage.png", "scripts/screenshots.py",
    "--version", "sender_only",
])
def test_readmes_in_step(words: str) -> None:
    for path in README.values():
        assert words in path.read_text(encoding="utf-8"), (path.name, words)
