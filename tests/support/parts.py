"""The Debian programs the real-parts tests use: found, or a skip outside CI and a failure
in CI (SPEC section 8: there a missing real part is a failure, never a skip)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium through Playwright, never a downloaded browser (SPEC section 8).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(what: str) -> None:
    """Fail in CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} is not installed")


def sevenzip_path() -> str:
    exe = shutil.which("7zz")
    if exe is None:
        unavailable("7zz (Debian package 7zip)")
    assert exe is not None
    return exe


def require_chromium() -> str:
    if not os.path.exists(CHROMIUM):
        unavailable(f"{CHROMIUM} (Debian package chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("Python Playwright")
    return CHROMIUM
