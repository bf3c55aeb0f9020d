"""The policy file (SPEC section 3): TOML, every key optional, strict about the rest.

An unknown key or a wrong type is a ``PolicyError`` naming the key and its line; a
policy silently ignored is how a safeguard quietly stops working.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from service.errors import PolicyError

DEFAULT_KEYWORDS = ("社外秘", "部外秘", "極秘", "関係者外秘", "取扱注意", "Confidential",
                    "Internal only")
DEFAULT_BLOCKED_EXTENSIONS = (".exe", ".bat", ".cmd", ".com", ".scr", ".js", ".vbs", ".ps1",
                              ".lnk", ".msi")
RELEASE_MODES = ("delay", "manual", "sender_only")
LANGUAGES = ("ja", "en")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Policy:
    # [organization]
    internal_domains: tuple[str, ...] = ()
    trusted_domains: tuple[str, ...] = ()
    default_language: str = "en"      # cards when Gmail does not send the user's locale
    default_time_zone: str = "UTC"    # times on cards when Gmail does not send the zone
    # [recipients]
    max_visible_external: int = 10
    max_visible_external_orgs: int = 1
    max_bcc: int = 50
    personal_domains: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    required_bcc_external: tuple[str, ...] = ()
    # [content]
    confidential_keywords: tuple[str, ...] = DEFAULT_KEYWORDS
    personal_data_threshold: int = 10
    # [attachments]
    require_encryption_external: bool = False
    blocked_extensions: tuple[str, ...] = DEFAULT_BLOCKED_EXTENSIONS
    # [confirm] which block findings a sender may override with a typed reason
    allow_override: tuple[str, ...] = ()
    # [delivery] the misdelivery brake for encrypted attachments (SPEC section 6)
    release_mode: str = "delay"
    release_delay: int = 300          # seconds
    key_expiry: int = 7 * 86400       # seconds
    reveal_limit: int = 5
    # one inner archive in the AES ZIP, so file names and sizes need the password too
    hide_names: bool = False
    source: str | None = field(default=None, compare=False)


# section -> key -> (field name, kind)
SCHEMA: dict[str, dict[str, str]] = {
    "organization": {"internal_domains": "domains", "trusted_domains": "domains",
                     "default_language": "language", "default_time_zone": "time_zone"},
    "recipients": {
        "max_visible_external": "count",
        "max_visible_external_orgs": "count",
        "max_bcc": "count",
        "personal_domains": "domains",
        "blocked_domains": "strings",
        "required_bcc_external": "strings",
    },
    "content": {"confidential_keywords": "strings", "personal_data_threshold": "count"},
    "attachments": {"require_encryption_external": "bool", "blocked_extensions": "extensions"},
    "confirm": {"allow_override": "strings"},
    "delivery": {
        "release_mode": "release_mode",
        "release_delay": "duration",
        "key_expiry": "duration",
        "reveal_limit": "count",
        "hide_names": "bool",
    },
}
assert {k for s in SCHEMA.values() for k in s} == {
    f.name for f in fields(Policy) if f.name != "source"
}


def default_policy() -> Policy:
    return Policy()


def load_policy(path: str | Path | None) -> Policy:
    """Read a policy file; ``None`` gives the defaults."""
    if path is None:
        return Policy()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError("policy file not found", path=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read policy file: {exc}", path=str(p)) from None
    return parse_policy(text, source=str(p))


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise PolicyError(f"invalid TOML: {exc}", path=source,
                          line=int(m.group(1)) if m else None) from None
    locate = _Locator(text)
    values: dict[str, Any] = {}
    for section, table in data.items():
        if section not in SCHEMA:
            raise PolicyError(f"unknown section [{section}] (known: {', '.join(SCHEMA)})",
                              key=section, line=locate(None, section), path=source)
        if not isinstance(table, dict):
            raise PolicyError(f"'{section}' must be a table [{section}]", key=section,
                              line=locate(None, section), path=source)
        for key, value in table.items():
            dotted = f"{section}.{key}"
            kind = SCHEMA[section].get(key)
            line = locate(section, key)
            if kind is None:
                raise PolicyError(f"unknown key '{dotted}' (known in [{section}]: "
                                  f"{', '.join(SCHEMA[section])})", key=dotted, line=line,
                                  path=source)
            try:
                values[key] = _convert(kind, value)
            except ValueError as exc:
                raise PolicyError(f"'{dotted}': {exc}", key=dotted, line=line,
                                  path=source) from None
    return Policy(source=source, **values)


def _convert(kind: str, value: Any) -> Any:
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, not {_tname(value)}")
        if value < 0:
            raise ValueError("must not be negative")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, not {_tname(value)}")
        return value
    if kind == "duration":
        if isinstance(value, bool):
            raise ValueError("must be seconds or a duration like \"5m\", \"7d\"")
        if isinstance(value, int) and value >= 0:
            return value
        if isinstance(value, str) and (m := _DURATION.match(value)):
            return int(m.group(1)) * _UNIT[m.group(2)]
        raise ValueError("must be seconds or a duration like \"30s\", \"5m\", \"1h\", \"7d\"")
    if kind == "language":
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value
    if kind == "time_zone":
        return _time_zone(value)
    if kind == "release_mode":
        if value not in RELEASE_MODES:
            raise ValueError(f"must be one of {', '.join(RELEASE_MODES)}")
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a list of strings, not {_tname(value)}")
    items = [v.strip() for v in value]
    if any(not v for v in items):
        raise ValueError("must not contain empty strings")
    if kind == "domains":
        from service.policy.domains import normalize_domain

        out = []
        for v in items:
            d = normalize_domain(v)
            if d is None:
                raise ValueError(f"'{v}' is not a valid domain")
            out.append(d)
        return tuple(out)
    if kind == "extensions":
        return tuple(v.lower() if v.startswith(".") else "." + v.lower() for v in items)
    return tuple(items)


def _time_zone(value: Any) -> str:
    """An IANA zone name this machine knows (``Asia/Tokyo``), checked with zoneinfo."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be an IANA time zone name such as \"Asia/Tokyo\"")
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not a known IANA time zone (e.g. \"Asia/Tokyo\")") from None
    return value.strip()


def _tname(value: Any) -> str:
    return {str: "a string", int: "a number", float: "a number", bool: "true/false",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


class _Locator:
    """Finds the line of a key in TOML source, for error messages tomllib cannot give."""

    _header = re.compile(r"^\s*\[\s*([A-Za-z0-9_\-\"'. ]+?)\s*\]\s*(#.*)?$")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def __call__(self, section: str | None, key: str) -> int | None:
        current = None
        for n, line in enumerate(self.lines, 1):
            m = self._header.match(line)
            if m:
                current = m.group(1).strip("\"' ")
                if section is None and current == key:
                    return n
                continue
            stripped = line.lstrip()
            if section is None:
                if current is None and re.match(rf"{re.escape(key)}\s*[.=]", stripped):
                    return n
                continue
            if current == section and re.match(rf"[\"']?{re.escape(key)}[\"']?\s*=",
                                               stripped):
                return n
            if current is None and re.match(rf"{re.escape(section)}\.{re.escape(key)}\s*=",
                                            stripped):
                return n
        return None
