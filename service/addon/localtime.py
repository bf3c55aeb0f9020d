"""Times on cards in the user's own time zone (Gmail sends it with every event).

A held key is released "at 14:35": that only helps in the sender's zone. The zone id is
used when this machine knows it, else the offset Gmail sends; nothing valid means UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.addon.event import AddonEvent
from service.i18n import N_plural, ngettext


def user_zone(event: AddonEvent) -> tzinfo:
    if event.time_zone:
        try:
            return ZoneInfo(event.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    if event.tz_offset_ms:
        return timezone(timedelta(milliseconds=event.tz_offset_ms))
    return UTC


def local_time(value: datetime, zone: tzinfo, now: datetime) -> str:
    """``14:35 JST`` today, ``11-24 14:35 JST`` on another day (in ``zone``)."""
    local = value.astimezone(zone)
    label = local.tzname() or "UTC"
    if local.date() == now.astimezone(zone).date():
        return f"{local:%H:%M} {label}"
    return f"{local:%m-%d %H:%M} {label}"


_UNITS = ((86400, N_plural("duration.day.one", "duration.day")),
          (3600, N_plural("duration.hour.one", "duration.hour")),
          (60, N_plural("duration.minute.one", "duration.minute")),
          (1, N_plural("duration.second.one", "duration.second")))


def duration(seconds: int) -> str:
    """A policy delay in words: ``30 seconds``, ``5 minutes``, ``2 hours`` (or Japanese)."""
    for size, (one, other) in _UNITS:
        if seconds >= size and seconds % size == 0:
            return ngettext(one, other, seconds // size)
    return ngettext("duration.second.one", "duration.second", 0)
