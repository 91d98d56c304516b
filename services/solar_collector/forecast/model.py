"""Pure forecast rules: azimuth conventions, energy-preserving alignment, the PVWatts-like
irradiance-to-AC conversion, when to fetch next, and what the health says.

Nothing here does I/O or reads a clock: every function takes `now`.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..core import SourceError

# PVWatts v5 defaults: crystalline silicon loses 0.4 %/K above 25 degC cell temperature.
GAMMA_PER_K = -0.004
# Cell temperature rise per W/m2 of plane irradiance: NOCT 45 degC at 800 W/m2 and 20 degC air
# -> (45 - 20) / 800 = 0.031 K per W/m2 (a roof mount with some air behind the modules).
CELL_RISE_K_PER_WM2 = (45 - 20) / 800
MIN_GAP_S = 900  # never fetch again sooner than 15 min after a success (Forecast.Solar's rule)
HOUR_S = 3600


@dataclass(frozen=True)
class Point:
    """Mean AC power over [start, end)."""
    start: datetime
    end: datetime
    w: float


class Refused(SourceError):
    """The API refused our request itself (400/404/422: plane, coordinates, parameter).
    Retrying cannot help: a person must fix the config. It raises an alert."""


# ---------------------------------------------------------------- geometry
def api_azimuth(compass_deg: float) -> float:
    """Compass bearing (0 north, 90 east, 180 south, 270 west) -> the south-zero convention of
    Forecast.Solar and Open-Meteo (0 south, -90 east, 90 west, -180 north)."""
    return (compass_deg % 360) - 180


# ---------------------------------------------------------------- conversion
def ac_watts(gti_wm2: float, air_c: float | None, size_w: float, losses_pct: float,
             inverter_w: float | None) -> float:
    """PVWatts-like AC power from plane-of-array irradiance (W/m2): nameplate x G/1000, derated
    by -0.4 %/K of cell temperature above 25 degC and by the system losses, clipped at the
    inverter. Without an air temperature no derating is applied (cell at 25 degC)."""
    g = max(0.0, gti_wm2)
    derate = 1.0
    if air_c is not None:
        cell_c = air_c + CELL_RISE_K_PER_WM2 * g
        derate = max(0.0, 1 + GAMMA_PER_K * (cell_c - 25))
    w = size_w * g / 1000 * derate * (1 - losses_pct / 100)
    return min(w, inverter_w) if inverter_w else w


def clip(points: list[Point], inverter_w: float | None) -> list[Point]:
    if not inverter_w:
        return points
    return [Point(p.start, p.end, min(p.w, inverter_w)) for p in points]


# ---------------------------------------------------------------- alignment
def common_step_s(stamps: list[datetime]) -> float:
    """The most frequent gap between consecutive stamps (1 h on the public Forecast.Solar plan)."""
    gaps = Counter(round((b - a).total_seconds()) for a, b in zip(stamps, stamps[1:]) if b > a)
    if not gaps:
        raise ValueError("fewer than two timestamps")
    return float(gaps.most_common(1)[0][0])


def rebin(periods: list[tuple[datetime, datetime, float]], step_s: float, anchor: datetime) -> list[Point]:
    """Energy-preserving re-binning of (start, end, Wh) periods onto a regular grid of `step_s`
    through `anchor`: each period's energy is spread evenly over its own span, so a sunrise
    period 06:20:17-07:00 with 89 Wh becomes 89 W in the 06:00-07:00 slot, never 07:00-08:00."""
    if not periods:
        return []
    step = timedelta(seconds=step_s)
    first, last = periods[0][0], periods[-1][1]
    start = anchor - step * math.ceil((anchor - first) / step)
    energy: dict[int, float] = {}
    for a, b, wh in periods:
        span = (b - a).total_seconds()
        if span <= 0:
            continue
        k = math.floor((a - start) / step)
        while start + step * k < b:
            lo, hi = max(a, start + step * k), min(b, start + step * (k + 1))
            energy[k] = energy.get(k, 0.0) + wh * (hi - lo).total_seconds() / span
            k += 1
    n = math.ceil((last - start) / step)
    return [Point(start + step * k, start + step * (k + 1), round(energy.get(k, 0.0) * HOUR_S / step_s, 1))
            for k in range(n)]


def upcoming(points: list[Point], now: datetime) -> list[Point]:
    """The points that have not ended yet (the retained message carries no past)."""
    return [p for p in points if p.end > now]


# ---------------------------------------------------------------- scheduling
@dataclass
class FetchState:
    """What the schedule depends on; persisted, so a restart loop cannot spend the budget."""
    offset_s: float                      # this installation's random 0-900 s offset from the hour
    last_call: datetime | None = None
    last_ok: datetime | None = None      # when the forecast in hand was fetched (`made`)
    failures: int = 0
    retry_at: datetime | None = None     # 429 X-Ratelimit-Retry-At, or a limit's reset
    calls: tuple[datetime, ...] = ()     # calls in the last hour (the per-hour budget)


def next_fetch(st: FetchState, now: datetime, poll_s: float, retry_s: float, calls_per_hour: int) -> datetime:
    """When to call the API next.

    - never called: now; nothing in hand: 15 min after the last call;
    - after a success: the next slot (multiples of poll_s since the epoch, plus the random
      offset, so calls are not made on the hour) at least min(poll_s, 15 min) later;
    - after failures: retry_s doubled per failure, at most poll_s;
    - never before a rate limit's retry time, never above calls_per_hour in any hour."""
    if st.last_call is None:
        due = now
    elif st.last_ok is None and not st.failures:  # nothing in hand (a cache for another plane)
        due = st.last_call + timedelta(seconds=min(poll_s, MIN_GAP_S))
    elif st.failures:
        due = st.last_call + timedelta(seconds=min(poll_s, retry_s * 2 ** min(st.failures - 1, 20)))
    else:
        earliest = st.last_call + timedelta(seconds=min(poll_s, MIN_GAP_S))
        epoch = earliest.timestamp() - st.offset_s % poll_s
        slot = math.ceil(epoch / poll_s) * poll_s + st.offset_s % poll_s
        due = datetime.fromtimestamp(slot, timezone.utc)
    if st.retry_at is not None and st.retry_at > due:
        due = st.retry_at
    recent = sorted(c for c in st.calls if (now - c).total_seconds() < HOUR_S)
    if len(recent) >= calls_per_hour:
        due = max(due, recent[-calls_per_hour] + timedelta(seconds=HOUR_S))
    return due


def after_call(st: FetchState, now: datetime, ok: bool, retry_at: datetime | None = None) -> None:
    st.last_call = now
    st.calls = tuple(c for c in st.calls if (now - c).total_seconds() < HOUR_S) + (now,)
    st.retry_at = retry_at
    if ok:
        st.last_ok, st.failures = now, 0
    else:
        st.failures += 1


# ---------------------------------------------------------------- health
def health(made: datetime | None, error: SourceError | None, now: datetime, max_age_s: float) -> tuple[str, str]:
    """(state, message): a forecast older than max_age_s is `stale` whatever else is wrong;
    otherwise a failing fetch is its error state (the forecast in hand stays published)."""
    age = None if made is None else (now - made).total_seconds()
    why = f"; {type(error).__name__}: {error}" if error is not None else ""
    if age is None:
        return (error.state if error else "offline"), ("no forecast yet" + why)
    if age > max_age_s:
        return "stale", f"forecast is {age / 3600:.1f} h old (limit {max_age_s / 3600:g} h){why}"
    if error is not None:
        return error.state, f"keeping the forecast made {age / 60:.0f} min ago{why}"
    return "ok", f"forecast made {age / 60:.0f} min ago"
