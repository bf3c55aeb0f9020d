"""Text holding a NUL character is refused before any statement runs: PostgreSQL cannot
store it and SQLite would compare it differently (``engine._refuse_nul``, and the key
record writer that runs without SQLAlchemy, ``storage.sqlite_keys``)."""

from __future__ import annotations

from typing import Any

NUL_MESSAGE = "text containing a NUL character (U+0000) cannot be stored or looked up"


def has_nul(parameters: Any) -> bool:
    """True when a statement's parameters (one set or many) hold text with a NUL, also
    inside JSON values the driver was handed as objects (psycopg's ``Jsonb`` wrappers)."""
    sets = parameters if isinstance(parameters, list | tuple) and parameters and isinstance(
        parameters[0], dict | list | tuple) else [parameters]
    for one in sets:
        values = one.values() if isinstance(one, dict) else (one or ())
        if any(_holds_nul(v, 0) for v in values):
            return True
    return False


def _holds_nul(value: Any, depth: int) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 20:
        return False
    if isinstance(value, dict):
        return any(_holds_nul(k, depth + 1) or _holds_nul(v, depth + 1)
                   for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v, depth + 1) for v in value)
    inner = getattr(value, "obj", None)          # psycopg.types.json.Json / Jsonb
    return inner is not None and _holds_nul(inner, depth + 1)
