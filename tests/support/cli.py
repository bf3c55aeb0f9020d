"""Run the ``sendguard`` command in process and capture what it printed.

``run`` calls ``main(argv)`` as it is. ``cli`` does what the process-starting helpers of
the CLI tests did to the environment (``LANG`` set, ``LC_*``/``SENDGUARD_*``/
``DATABASE_URL`` of the caller removed, a working directory), for the tests that are about
a command's behaviour rather than the process: ~10 ms a call instead of a Python start-up
and the imports (0.3-1 s of CPU each). The tests about the process itself (exit status
through ``sys.exit``, what a start imports, signals, ``python -m`` and the console script)
start the real one. ``SENDGUARD_STRICT_TEXTS`` stays set: a text that cannot be rendered
fails here too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.commands.main import main
from service.i18n import STRICT_ENV

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run("keys", "list")`` -> (exit code, stdout, stderr)."""
    def go(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return go


@dataclass(frozen=True)
class Result:
    """What ``subprocess.run(..., capture_output=True, text=True)`` gives, from ``main``."""

    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., Result]


def _cleared(name: str) -> bool:
    return (name.startswith("LC_") or name == "DATABASE_URL"
            or (name.startswith("SENDGUARD_") and name != STRICT_ENV))


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("check", "m.eml", cwd=path, lang="ja_JP.UTF-8", env={...})`` -> ``Result``."""
    def go(*argv: str, cwd: Path | str | None = None, lang: str = "en_US.UTF-8",
           env: Mapping[str, str] | None = None) -> Result:
        with monkeypatch.context() as m:
            for name in [n for n in os.environ if _cleared(n)]:
                m.delenv(name)
            m.setenv("LANG", lang)
            for name, value in (env or {}).items():
                m.setenv(name, value)
            if cwd is not None:
                m.chdir(cwd)
            capsys.readouterr()
            code = main([str(a) for a in argv])
            out, err = capsys.readouterr()
        return Result(code, out, err)
    return go
