"""Run the ``sendguard`` command in process and capture what it printed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from service.commands.main import main

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
