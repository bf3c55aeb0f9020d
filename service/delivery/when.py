"""Times in notices and on the key page, in the reader's language and a zone they use.

Japanese text shows Japan time, labelled (``2026年12月10日 16:49（日本時間）``); English
text shows the sender's zone when known, else UTC (``10 Dec 2026, 07:49 UTC``). Never a
bare UTC time in Japanese. Japan has no daylight saving time, so a fixed +09:00 is exact
and needs no time-zone database on the machine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

JST = timezone(timedelta(hours=9), "JST")


def format_time(value: datetime, locale: str, zone: tzinfo | None = None) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if locale == "ja":
        local = value.astimezone(zone or JST)
        label = "日本時間" if (zone or JST) is JST else (local.tzname() or "UTC")
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（{label}）"
    local = value.astimezone(zone or UTC)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname() or 'UTC'}"


def format_clock(value: datetime, locale: str, zone: tzinfo | None = None) -> str:
    """Just the time of day, for "valid until 16:59" on the same page."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if locale == "ja":
        local = value.astimezone(zone or JST)
        label = "日本時間" if (zone or JST) is JST else (local.tzname() or "UTC")
        return f"{local:%H:%M}（{label}）"
    local = value.astimezone(zone or UTC)
    return f"{local:%H:%M} {local.tzname() or 'UTC'}"
