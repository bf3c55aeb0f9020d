"""Periods typed by people (``30d``, ``36h``, ``90m``): key retention in the configuration,
``--older-than`` on the command line."""

from __future__ import annotations

import re
from datetime import timedelta

from service.errors import InputError

_DURATION = re.compile(r"^\s*(\d{1,5})\s*([dhm]?)\s*$")
_UNITS = {"d": timedelta(days=1), "": timedelta(days=1), "h": timedelta(hours=1),
          "m": timedelta(minutes=1)}


def parse_duration(text: str, option: str = "--older-than") -> timedelta:
    """``30d``, ``36h``, ``90m`` or a bare number of days."""
    m = _DURATION.match(text or "")
    if not m:
        raise InputError(f"{option} must look like 30d, 36h or 90m, not {text!r}")
    return int(m.group(1)) * _UNITS[m.group(2)]
