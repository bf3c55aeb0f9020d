"""Reading logs as Cloud Logging would: every line one JSON entry of the expected shape,
and no secret anywhere in any line (also not inside JSON-escaped text)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

SEVERITIES = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
SOURCE_KEY = "logging.googleapis.com/sourceLocation"
TRACE_KEY = "logging.googleapis.com/trace"
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def entry(line: str) -> dict[str, Any]:
    """One structured entry, or an AssertionError saying what is wrong with the line."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"not a JSON line ({exc}): {line[:200]!r}") from None
    assert isinstance(data, dict), line[:200]
    assert data.get("severity") in SEVERITIES, line[:200]
    assert isinstance(data.get("message"), str), line[:200]
    assert TIME.match(str(data.get("time", ""))), line[:200]
    assert isinstance(data.get("logger"), str) and data["logger"], line[:200]
    source = data.get(SOURCE_KEY)
    assert isinstance(source, dict) and {"file", "line", "function"} <= set(source), line[:200]
    request = data.get("httpRequest")
    if request is not None:
        assert isinstance(request, dict) and request.get("requestMethod") in (
            "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"), line[:200]
        assert str(request.get("requestUrl", "")).startswith("/"), line[:200]
    return data


def leaks(lines: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """``secret ... in line`` for every secret found in a line, raw or as the JSON
    encoder would have escaped it (non-ASCII text)."""
    wanted = {s for s in secrets if s}
    forms = {s: {s, json.dumps(s)[1:-1]} for s in wanted}
    found = []
    for line in lines:
        for secret, shapes in forms.items():
            if any(shape in line for shape in shapes):
                found.append(f"{secret[:6]}... in {line[:160]!r}")
    return found
