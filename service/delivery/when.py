"""Times in notices and on the key page, in the reader's language and a zone they use.

Japanese text shows Japan time, labelled (``2026年12月10日 16:49（日本時間）``); English
text shows the sender's organisation's zone when the policy names one
(``organization.default_time_zone``), else UTC (``10 Dec 2026, 07:49 UTC``); an
organisation zone outside Japan is used for Japanese text too, labelled with its name. Never a
bare UTC time in Japanese. Japan has no daylight saving time, so a fixed +09:00 is exact
and needs no time-zone database on the machine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

JST = timezone(timedelta(hours=9), "JST")
_JAPAN = {"Asia/Tokyo", "Japan", "JST"}


def zone_named(name: str | None) -> tzinfo | None:
    """The organisation's zone (policy ``organization.default_time_zone``), or None for
    UTC, an unknown name, or a machine without the zone database (then the defaults
    above apply)."""
    if not name or name.upper() == "UTC":
        return None
    if name in _JAPAN:
        return JST
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _local(value: datetime, locale: str, zone: tzinfo | None) -> tuple[datetime, str]:
    """``value`` in the zone the reader expects, and the zone's label: Japan time for
    Japanese text unless the organisation chose a zone, else that zone or UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if locale == "ja":
        local = value.astimezone(zone or JST)
        return local, "日本時間" if (zone or JST) is JST else (local.tzname() or "UTC")
    local = value.astimezone(zone or UTC)
    return local, local.tzname() or "UTC"


def format_time(value: datetime, locale: str, zone: tzinfo | None = None) -> str:
    """``zone``: the organisation's (``zone_named``), or None for the defaults."""
    local, label = _local(value, locale, zone)
    if locale == "ja":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（{label}）"
    return f"{local.day} {local:%b %Y, %H:%M} {label}"


def format_clock(value: datetime, locale: str, zone: tzinfo | None = None) -> str:
    """Just the time of day, for "valid until 16:59" on the same page."""
    local, label = _local(value, locale, zone)
    return f"{local:%H:%M}（{label}）" if locale == "ja" else f"{local:%H:%M} {label}"
