"""The policy file (SPEC section 3): TOML, every key optional, strict about the rest.

An unknown key or a wrong type is a ``PolicyError`` naming the key and its line; a
policy silently ignored is how a safeguard quietly stops working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from service.errors import PolicyError, Text
from service.i18n import N_

DEFAULT_KEYWORDS = ("社外秘", "部外秘", "極秘", "関係者外秘", "取扱注意", "Confidential",
                    "Internal only")
DEFAULT_BLOCKED_EXTENSIONS = (".exe", ".bat", ".cmd", ".com", ".scr", ".js", ".vbs", ".ps1",
                              ".lnk", ".msi")
RELEASE_MODES = ("delay", "manual", "sender_only")
DELIVERY_METHODS = ("zip", "link")
DEFAULT_MAX_TOTAL_SIZE = 10 * 1024 * 1024      # "10MB"
# Patterns compiled (and cached by ``re``) when a policy file is read, not at start-up.
_SIZE = r"(?i)^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$"
_SIZE_UNIT = {None: 1, "b": 1, "kb": 1024, "kib": 1024, "mb": 1024 ** 2, "mib": 1024 ** 2,
              "gb": 1024 ** 3, "gib": 1024 ** 3}
LANGUAGES = ("ja", "en")
# A Check & send may wait one deadline for a free analysis slot and then run one (plus a
# 2 s grace): 2 x 50 + 2 s stays below the 120 s request timeout
# (SENDGUARD_REQUEST_TIMEOUT, service/server.py).
MAX_CHECK_DEADLINE = 50
_DURATION = r"^\s*(\d+)\s*([smhd]?)\s*$"
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Policy:
    """An organisation's policy, one field per key of the policy file (SPEC 5)."""

    # [organization]
    internal_domains: tuple[str, ...] = ()
    trusted_domains: tuple[str, ...] = ()
    # Google Workspace domains whose users may use the add-on (the ID token's ``hd``);
    # empty: the internal domains
    workspace_domains: tuple[str, ...] = ()
    default_language: str = "en"      # cards when Gmail does not send the user's locale
    default_time_zone: str = "UTC"    # times on cards when Gmail does not send the zone
    # [recipients]
    max_visible_external: int = 10
    max_visible_external_orgs: int = 1
    max_bcc: int = 50
    personal_domains: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    caution_domains: tuple[str, ...] = ()
    required_bcc_external: tuple[str, ...] = ()
    # [content]
    confidential_keywords: tuple[str, ...] = DEFAULT_KEYWORDS
    personal_data_threshold: int = 10
    blocked_keywords: tuple[str, ...] = ()
    check_internal: bool = False
    # paragraphs matching one of these (regular expressions) are not the sender's content
    ignore_patterns: tuple[str, ...] = ()
    # [attachments]
    require_encryption_external: bool = False
    warn_unencrypted: bool = False      # SPEC 10.6: every external attachment warns
    blocked_extensions: tuple[str, ...] = DEFAULT_BLOCKED_EXTENSIONS
    max_total_size: int = DEFAULT_MAX_TOTAL_SIZE     # bytes
    max_link_size: int = 2 * 1024**3                 # bytes per link-mode package ("2GB")
    check_deadline: int = 10          # seconds for the whole content analysis of a draft
    # [history]
    history_enabled: bool = True
    # [confirm] which block findings a sender may override with a typed reason
    allow_override: tuple[str, ...] = ()
    # [confirm] ticks per recipient on every mail, not only on mail that interrupts (10.6)
    always_tick_recipients: bool = False
    # [delivery] the misdelivery brake for encrypted attachments (SPEC section 6)
    delivery_method: str = "zip"
    release_mode: str = "delay"
    release_delay: int = 300          # seconds
    key_expiry: int = 7 * 86400       # seconds
    reveal_limit: int = 5
    # one inner archive in the AES ZIP, so file names and sizes need the password too
    hide_names: bool = False
    source: str | None = field(default=None, compare=False)


# section -> key -> (field name, kind)
SCHEMA: dict[str, dict[str, str]] = {
    "organization": {"internal_domains": "patterns", "trusted_domains": "patterns",
                     "workspace_domains": "domains",
                     "default_language": "language", "default_time_zone": "time_zone"},
    "recipients": {
        "max_visible_external": "count",
        "max_visible_external_orgs": "count",
        "max_bcc": "count",
        "personal_domains": "patterns",
        "blocked_domains": "patterns",
        "caution_domains": "patterns",
        "required_bcc_external": "patterns",
    },
    "content": {
        "confidential_keywords": "strings",
        "personal_data_threshold": "count",
        "blocked_keywords": "strings",
        "check_internal": "bool",
        "ignore_patterns": "regexes",
    },
    "attachments": {
        "require_encryption_external": "bool",
        "warn_unencrypted": "bool",
        "blocked_extensions": "extensions",
        "max_total_size": "size",
        "max_link_size": "size",
        "check_deadline": "deadline",
    },
    "history": {"enabled": "bool"},
    "confirm": {"allow_override": "strings", "always_tick_recipients": "bool"},
    "delivery": {
        "method": "delivery_method",
        "release_mode": "release_mode",
        "release_delay": "duration",
        "key_expiry": "duration",
        "reveal_limit": "count",
        "hide_names": "bool",
    },
}
# Keys whose field name is not the key itself (a bare "enabled" or "method" says nothing).
FIELD_NAMES = {("history", "enabled"): "history_enabled", ("delivery", "method"):
               "delivery_method"}


def field_name(section: str, key: str) -> str:
    return FIELD_NAMES.get((section, key), key)


assert {field_name(sec, k) for sec, keys in SCHEMA.items() for k in keys} == {
    f.name for f in fields(Policy) if f.name != "source"
}


class InvalidValue(ValueError):
    """A value a policy key cannot take; ``text`` says why in any language, ``entry`` is
    the list item at fault (to find its line), when there is one."""

    def __init__(self, code: str, entry: str | None = None, **params: Any) -> None:
        self.text = Text(code, params)
        self.entry = entry
        super().__init__(str(self.text))


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
        raise PolicyError(Text("policy.not_found"), path=str(p)) from None
    except IsADirectoryError:
        raise PolicyError(Text("policy.is_directory"), path=str(p)) from None
    except UnicodeDecodeError as exc:
        raise PolicyError(Text("policy.not_utf8", {"offset": exc.start}),
                          path=str(p)) from None
    except OSError as exc:
        raise PolicyError(Text("policy.unreadable", {"reason": exc.strerror or exc}),
                          path=str(p)) from None
    return parse_policy(text, source=str(p))


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    import tomllib  # here: commands on the built-in defaults never parse TOML (issue 12)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise PolicyError(Text("policy.invalid_toml", {"reason": exc}), path=source,
                          line=int(m.group(1)) if m else None) from None
    locate = _Locator(text)
    values: dict[str, Any] = {}
    for section, table in data.items():
        if section not in SCHEMA:
            raise PolicyError(Text("policy.unknown_section", {
                "section": section, "known": ", ".join(SCHEMA)}), key=section,
                line=locate(None, section), path=source)
        if not isinstance(table, dict):
            raise PolicyError(Text("policy.not_table", {"section": section}), key=section,
                              line=locate(None, section), path=source)
        for key, value in table.items():
            dotted = f"{section}.{key}"
            kind = SCHEMA[section].get(key)
            line = locate(section, key)
            if kind is None:
                raise PolicyError(Text("policy.unknown_key", {
                    "key": dotted, "section": section,
                    "known": ", ".join(SCHEMA[section])}), key=dotted, line=line, path=source)
            try:
                values[field_name(section, key)] = _convert(kind, value)
            except ValueError as exc:
                entry = getattr(exc, "entry", None)
                if entry is not None and line is not None:
                    line = locate.item(line, entry)
                reason = getattr(exc, "text", None) or str(exc)
                raise PolicyError(Text("policy.bad_value", {"key": dotted, "reason": reason}),
                                  key=dotted, line=line, path=source) from None
    return Policy(source=source, **values)


def _convert(kind: str, value: Any) -> Any:
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValue("value.whole_number", type=_tname(value))
        if value < 0:
            raise InvalidValue("value.negative")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidValue("value.bool", type=_tname(value))
        return value
    if kind == "duration":
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and (m := re.match(_DURATION, value)):
            return int(m.group(1)) * _UNIT[m.group(2)]
        raise InvalidValue("value.duration")
    if kind == "deadline":
        seconds = _convert("duration", value)
        if not 1 <= seconds <= MAX_CHECK_DEADLINE:
            raise InvalidValue("value.deadline", max=MAX_CHECK_DEADLINE)
        return seconds
    if kind == "size":
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and (m := re.match(_SIZE, value)):
            unit = m.group(2).lower() if m.group(2) else None
            return int(float(m.group(1)) * _SIZE_UNIT[unit])
        raise InvalidValue("value.size")
    if kind == "delivery_method":
        if value not in DELIVERY_METHODS:
            raise InvalidValue("value.one_of", choices=", ".join(DELIVERY_METHODS))
        return value
    if kind == "language":
        if value not in LANGUAGES:
            raise InvalidValue("value.one_of", choices=", ".join(LANGUAGES))
        return value
    if kind == "time_zone":
        return _time_zone(value)
    if kind == "release_mode":
        if value not in RELEASE_MODES:
            raise InvalidValue("value.one_of", choices=", ".join(RELEASE_MODES))
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidValue("value.strings", type=_tname(value))
    items = [v.strip() for v in value]
    if any(not v for v in items):
        raise InvalidValue("value.empty_string")
    if kind == "domains":     # plain domains, no patterns (kept for keys that need them)
        from service.policy.domains import normalize_domain

        out_domains = []
        for v in items:
            d = normalize_domain(v)
            if d is None:
                raise InvalidValue("value.domain", entry=v, value=v)
            out_domains.append(d)
        return tuple(out_domains)
    if kind == "patterns":
        from service.policy.patterns import compile_pattern

        out = []
        for v in items:
            p = compile_pattern(v)     # PatternError (a ValueError) names the entry
            # Plain domains are kept normalised; patterns as written.
            out.append(p.exact if p.exact and not p.address and not p.exclude else v)
        return tuple(out)
    if kind == "regexes":
        for v in items:
            try:
                re.compile(v)
            except re.error as exc:
                err = ValueError(f"'{v}' is not a valid regular expression: {exc}")
                err.entry = v  # type: ignore[attr-defined]
                raise err from None
        return tuple(items)
    if kind == "extensions":
        return tuple(v.lower() if v.startswith(".") else "." + v.lower() for v in items)
    return tuple(items)


def _time_zone(value: Any) -> str:
    """An IANA zone name this machine knows (``Asia/Tokyo``), checked with zoneinfo."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(value, str) or not value.strip():
        raise InvalidValue("value.time_zone")
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue("value.unknown_time_zone", value=value) from None
    return value.strip()


def _tname(value: Any) -> Text | str:
    """The TOML type of ``value`` as a reader names it (a message id), else its name."""
    code = {str: N_("type.string"), int: N_("type.number"), float: N_("type.number"),
            bool: N_("type.bool"), list: N_("type.list"),
            dict: N_("type.table")}.get(type(value))
    return Text(code) if code else type(value).__name__


class _Locator:
    """Finds the line of a key in TOML source, for error messages tomllib cannot give."""

    _header = r"^\s*\[\s*([A-Za-z0-9_\-\"'. ]+?)\s*\]\s*(#.*)?$"

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def item(self, start: int, entry: str) -> int:
        """The line, from the key's line ``start`` on, where the list item ``entry`` is."""
        for quote in ('"', "'"):
            needle = quote + entry + quote
            for n in range(start, min(len(self.lines), start + 10_000) + 1):
                if needle in self.lines[n - 1]:
                    return n
        return start

    def __call__(self, section: str | None, key: str) -> int | None:
        current = None
        for n, line in enumerate(self.lines, 1):
            m = re.match(self._header, line)
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
