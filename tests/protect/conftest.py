"""Fixtures of the protect tests: the real 7-Zip (a failure in CI when missing)."""

from __future__ import annotations

import pytest

from tests.support.parts import sevenzip_path

from .protect_helpers import SevenZip


@pytest.fixture(scope="session")
def sevenzip() -> SevenZip:
    return SevenZip(sevenzip_path())
