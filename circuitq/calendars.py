"""Named calendars: recurring local-time windows with weekday, month and holiday filters.

Shared by the scheduler (block/force/solar windows) and the tariff (time-of-use periods).

`status(name, now)` answers "inside?" and "until when?" and caches the answer until that
boundary, so a month of minute decisions costs one dict lookup per calendar per event.

Every datetime it returns is in UTC (`datetime.timezone.utc`), whatever the site's zone: the
scheduler's `now` is UTC, and two datetimes with the same tzinfo object compare and subtract
without asking the zone for its offset (a zoneinfo offset lookup on every comparison was a
fifth of a decision's time). Local wall times are made here and converted once.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays

from circuitq.config.scheduler import WEEKDAYS, Window
from circuitq.timefmt import clock_text

DAY = timedelta(days=1)
UTC = timezone.utc
LOOKAHEAD_DAYS = 8  # a boundary further away than this is reported as unknown (None)


class Calendars:
    def __init__(self, windows: dict[str, list[Window]], tz: ZoneInfo, country: str | None = "US",
                 subdivision: str | None = None):
        """country None: no public holidays (only Saturday and Sunday are weekends)."""
        self.windows = windows
        self.tz = tz
        try:
            self._holidays = holidays.country_holidays(country, subdiv=subdivision) if country else {}
        except NotImplementedError:  # unknown country: weekends only
            self._holidays = {}
        self._weekend: dict[date, bool] = {}
        self._spans: dict[tuple[str, date], list[tuple[datetime, datetime]]] = {}
        self._status: dict[str, tuple[datetime, datetime, bool, datetime | None]] = {}
        self._hhmm: dict[tuple, str] = {}
        self._now: datetime | None = None
        self._now_off: timedelta | None = None

    # ------------------------------------------------------------ days
    def is_weekend(self, d: date) -> bool:
        """Saturday, Sunday or a public holiday of site.country/subdivision."""
        v = self._weekend.get(d)
        if v is None:
            v = self._weekend[d] = d.weekday() >= 5 or d in self._holidays
        return v

    def holiday_name(self, d: date) -> str | None:
        return self._holidays.get(d) if self._holidays else None

    def _day_matches(self, w: Window, d: date) -> bool:
        if w.months is not None and d.month not in w.months:
            return False
        if w.days == "all":
            return True
        if w.days == "weekdays":
            return not self.is_weekend(d)
        if w.days == "weekends":
            return self.is_weekend(d)
        return WEEKDAYS[d.weekday()] in w.days

    def _local(self, d: date, t: time) -> datetime:
        """The local wall time t on day d, as a UTC datetime."""
        return datetime.combine(d, t, tzinfo=self.tz).astimezone(UTC)

    def _intervals(self, name: str, d: date) -> list[tuple[datetime, datetime]]:
        """Intervals of the windows that start on local day d."""
        out = []
        for w in self.windows[name]:
            if not self._day_matches(w, d):
                continue
            start = self._local(d, w.start)
            end_day = d if w.end > w.start else d + DAY
            out.append((start, self._local(end_day, w.end)))
        return out

    def spans(self, name: str, d: date) -> list[tuple[datetime, datetime]]:
        """Merged intervals touching local days d-1 .. d+LOOKAHEAD, sorted."""
        key = (name, d)
        got = self._spans.get(key)
        if got is None:
            raw = sorted(iv for k in range(-1, LOOKAHEAD_DAYS) for iv in self._intervals(name, d + k * DAY))
            got = []
            for s, e in raw:
                if got and s <= got[-1][1]:
                    if e > got[-1][1]:
                        got[-1] = (got[-1][0], e)
                else:
                    got.append((s, e))
            if len(self._spans) > 4096:
                self._spans.clear()
            self._spans[key] = got
        return got

    # ------------------------------------------------------------ queries
    def status(self, name: str, now: datetime) -> tuple[bool, datetime | None]:
        """(inside the calendar now, next boundary or None if none within a week)."""
        c = self._status.get(name)
        if c is not None and c[0] <= now < c[1]:
            return c[2], c[3]
        inside, nxt = False, None
        day = now.astimezone(self.tz).date()
        horizon = self._local(day + (LOOKAHEAD_DAYS - 1) * DAY, time(0))
        for s, e in self.spans(name, day):
            if e <= now:
                continue
            if s <= now:
                inside, nxt = True, (e if e < horizon else None)  # "all day, every day": no end
            else:
                nxt = s
            break
        self._status[name] = (now, nxt or now + DAY, inside, nxt)
        return inside, nxt

    def day_end(self, now: datetime) -> datetime:
        """The next local midnight: the end of the day `now` is in."""
        return self._local(now.astimezone(self.tz).date() + DAY, time(0))

    def inside(self, name: str, now: datetime) -> bool:
        return self.status(name, now)[0]

    def overlap_s(self, names, a: datetime, b: datetime) -> float:
        """Seconds of [a, b) inside any of the calendars `names` (b within a week of a);
        overlapping calendars are counted once."""
        day = a.astimezone(self.tz).date()
        # as POSIX seconds: two datetimes in the same zone subtract as wall-clock times, which
        # is an hour off across a DST change (a 00:00-06:00 block lasts 7 h on fall-back night)
        a_s, b_s = a.timestamp(), b.timestamp()
        ivs = sorted((max(s.timestamp(), a_s), min(e.timestamp(), b_s))
                     for n in names for s, e in self.spans(n, day) if e > a and s < b)
        total, end = 0.0, None
        for s, e in ivs:
            if end is not None and s < end:
                s = end
            if e > s:
                total += e - s
                end = e
        return total

    def hhmm(self, when: datetime | None, now: datetime) -> str:
        """'19:00' if within a day of now, else 'Mon 19:00', with the zone where the clock time
        alone is ambiguous (circuitq.timefmt.clock_text): for reason sentences."""
        if when is None:
            return "further notice"
        if self._now is not now:  # the offset now: clock_text adds the zone when `when`'s differs
            self._now, self._now_off = now, now.astimezone(self.tz).utcoffset()
        key = (when, when - now < DAY, self._now_off)
        got = self._hhmm.get(key)
        if got is None:
            if len(self._hhmm) > 4096:
                self._hhmm.clear()
            got = self._hhmm[key] = clock_text(when, now, self.tz)
        return got
