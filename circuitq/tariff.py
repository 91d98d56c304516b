"""What energy costs at a moment: time-of-use periods, export credit and a dynamic series.

Pure: every query takes the time. `price(t)` is cached until the next boundary, so a month of
minute queries costs a few calendar lookups per period change. A dynamic series (from the
price topic) wins over the periods wherever it has a point.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from circuitq.calendars import Calendars
from circuitq.config.tariff import TariffConfig

DEFAULT_PERIOD = "default"
DYNAMIC_PERIOD = "dynamic"


@dataclass(frozen=True, slots=True)
class Price:
    import_per_kwh: float  # currency per kWh bought from the grid
    export_per_kwh: float  # currency per kWh sold to the grid
    period: str  # the time-of-use period's name, "default", or "dynamic"


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    start: datetime
    end: datetime
    import_per_kwh: float
    export_per_kwh: float | None = None  # None: the period's export credit


class Tariff:
    def __init__(self, cfg: TariffConfig, tz: ZoneInfo, country: str | None = "US",
                 subdivision: str | None = None):
        self.cfg = cfg
        self.currency = cfg.currency
        self.cals = Calendars({n: p.windows for n, p in cfg.periods.items()}, tz,
                              country if cfg.holidays else None, subdivision)
        self._cache: tuple[datetime, datetime, Price] | None = None
        self._starts: list[float] = []  # dynamic series, sorted by start (POSIX s)
        self._points: list[SeriesPoint] = []

    # ------------------------------------------------------------ the periods
    def _period_price(self, t: datetime) -> tuple[Price, datetime | None]:
        """The time-of-use price at t and the next moment any period starts or ends."""
        cfg = self.cfg
        found = None
        nxt = None
        for name, per in cfg.periods.items():
            inside, boundary = self.cals.status(name, t)
            if boundary is not None and (nxt is None or boundary < nxt):
                nxt = boundary
            if inside and found is None:
                exp = per.export_per_kwh if per.export_per_kwh is not None else cfg.export_per_kwh
                found = Price(per.per_kwh, exp, name)
        return found or Price(cfg.default_per_kwh, cfg.export_per_kwh, DEFAULT_PERIOD), nxt

    def price(self, t: datetime) -> Price:
        c = self._cache
        if c is not None and c[0] <= t < c[1]:
            return c[2]
        p, nxt = self._period_price(t)
        until = nxt or t + timedelta(hours=1)
        if self._points:
            i = bisect.bisect_right(self._starts, t.timestamp()) - 1
            if i >= 0 and t < self._points[i].end:
                pt = self._points[i]
                p = Price(pt.import_per_kwh, pt.export_per_kwh if pt.export_per_kwh is not None
                          else p.export_per_kwh, DYNAMIC_PERIOD)
                until = min(until, pt.end)
            if i + 1 < len(self._points):
                until = min(until, self._points[i + 1].start)
        self._cache = (t, until, p)
        return p

    def next_change(self, t: datetime) -> datetime:
        """The next moment the price may change (a period boundary or a series point)."""
        self.price(t)
        return self._cache[1]

    def slots(self, start: datetime, n: int, step: timedelta) -> list[Price]:
        """The price at the start of each of n slots of `step` from `start` (slot prices)."""
        return [self.price(start + i * step) for i in range(n)]

    # ------------------------------------------------------------ the dynamic series
    def set_series(self, points: list[SeriesPoint]) -> None:
        """Replace the dynamic series (a new one from the price topic replaces the old)."""
        pts = sorted(points, key=lambda p: p.start)
        for a, b in zip(pts, pts[1:]):
            if b.start < a.end:
                raise ValueError(f"price points overlap at {b.start.isoformat()}")
        self._points = pts
        self._starts = [p.start.timestamp() for p in pts]
        self._cache = None

    @property
    def series(self) -> list[SeriesPoint]:
        return list(self._points)

    def series_until(self) -> datetime | None:
        return self._points[-1].end if self._points else None

    # ------------------------------------------------------------ money
    def cost(self, t: datetime, import_kwh: float, export_kwh: float = 0.0) -> float:
        """What importing and exporting these kWh at t costs (negative: earns)."""
        p = self.price(t)
        return import_kwh * p.import_per_kwh - export_kwh * p.export_per_kwh


def from_config(cfg) -> Tariff | None:
    """The house's tariff, or None when the config has no tariff section."""
    if getattr(cfg, "tariff", None) is None:
        return None
    return Tariff(cfg.tariff, cfg.site.tz, cfg.site.country, cfg.site.subdivision)


def utc(t: datetime) -> datetime:
    return t.astimezone(timezone.utc)
