"""Fixtures of the protect tests: the real 7-Zip (a failure in CI when missing)."""

from __future__ import annotations

import os
import shutil

import pytest

from .protect_helpers import SevenZip


@pytest.fixture(scope="session")
def sevenzip() -> SevenZip:
    exe = shutil.which("7zz")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("7zz (Debian package 7zip) is required in CI")
        pytest.skip("7zz not installed (Debian package 7zip): archive checks skipped")
    return SevenZip(exe)
