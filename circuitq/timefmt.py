"""One time format for everything a person or a tool reads.

Payloads: ISO 8601 with the site's UTC offset (`2026-07-01T14:05:00-04:00`), never `Z` in one
field and a local offset in the next. Every Outbound payload serialises its datetimes through
`iso()` (circuitq/payloads.py), so a service only has to say once which zone the site is in
(`set_site_timezone`, at start-up). Without it, times keep their own offset (UTC: `+00:00`).

Texts: `clock_text()` gives a local clock time (`19:00`, `Mon 19:00` beyond a day) and adds
the zone (`01:30 EDT`) where the time alone could be read two ways: the hour a DST change
repeats, or when the offset at that time differs from the offset now (a DST change between).
"""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

_SITE_TZ: tzinfo | None = None
DAY = timedelta(days=1)


def set_site_timezone(tz: tzinfo | None) -> None:
    """The zone every published time is shown in (the process's site.timezone)."""
    global _SITE_TZ
    _SITE_TZ = tz


def site_timezone() -> tzinfo | None:
    return _SITE_TZ


def site_time(dt: datetime, tz: tzinfo | None = None) -> datetime:
    """An aware datetime in the site's zone (naive ones are returned as they are)."""
    tz = tz or _SITE_TZ
    if tz is None or dt.tzinfo is None:
        return dt
    return dt.astimezone(tz)


def iso(dt: datetime | None, tz: tzinfo | None = None) -> str | None:
    """ISO 8601 with the site's UTC offset: the one format of every payload time."""
    return None if dt is None else site_time(dt, tz).isoformat()


def _ambiguous(local: datetime) -> bool:
    """This wall time happens twice (the hour a DST change repeats)."""
    other = local.replace(fold=1 - local.fold)
    return other.utcoffset() != local.utcoffset()


def clock_text(when: datetime | None, now: datetime, tz: tzinfo) -> str:
    """'19:00' within a day of now, else 'Mon 19:00'; with the zone ('01:30 EDT') where
    the clock time alone is ambiguous. None: 'further notice'."""
    if when is None:
        return "further notice"
    loc = when.astimezone(tz)
    text = loc.strftime("%H:%M") if when - now < DAY else loc.strftime("%a %H:%M")
    if _ambiguous(loc) or loc.utcoffset() != now.astimezone(tz).utcoffset():
        text += f" {loc.tzname()}"
    return text
