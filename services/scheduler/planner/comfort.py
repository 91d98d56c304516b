"""A sheddable thermostat's comfort band, held with the room temperature it reports.

A shed only moves the heat pump's work: after it, the heat pump catches up. It is worth it
when the same work costs less later, within the time the room can coast before it reaches
the edge of its band. How fast the room drifts while shed is learned (degC per hour,
smoothed); until then a cautious first guess. Without any room temperature, the shed is
limited to a share of every two hours (max_shed_duty). Units: degC, hours.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DRIFT_ALPHA = 0.2  # weight of one measured shed spell in the drift rate
FIRST_DRIFT_C_H = 1.0  # degC/h a room drifts while shed, until measured
STALE = timedelta(minutes=30)  # an older room temperature is not used
DUTY_WINDOW = timedelta(hours=2)
WORTH = 0.9  # shed only if the work can be done later for at most this share of today's price
START_COAST_H = 1.0  # a shed starts only if the room can coast at least this long


@dataclass(slots=True)
class Zone:
    drift_c_h: float = FIRST_DRIFT_C_H  # |degC per hour| while shed
    direction: int = 0  # -1 the room cools while shed (heating season), +1 warms, 0 unknown
    spell_start: tuple | None = None  # (time, temp) when the current shed spell began
    released_at: datetime | None = None  # when comfort last ended a shed
    sheds: deque = field(default_factory=deque)  # (start, end or None): shed spells, for the duty

    def observe(self, now: datetime, shed: bool, indoor_c: float | None, fresh: bool) -> None:
        if shed and self.spell_start is None and indoor_c is not None and fresh:
            self.spell_start = (now, indoor_c)
        if shed and (not self.sheds or self.sheds[-1][1] is not None):
            self.sheds.append([now, None])
        if not shed and self.sheds and self.sheds[-1][1] is None:
            self.sheds[-1][1] = now
        while self.sheds and self.sheds[0][1] is not None and now - self.sheds[0][1] > DUTY_WINDOW:
            self.sheds.popleft()
        if self.spell_start is not None and indoor_c is not None and fresh:
            t0, c0 = self.spell_start
            hours = (now - t0).total_seconds() / 3600
            if hours >= 0.5 and abs(indoor_c - c0) >= 0.3:  # enough of a spell to measure
                rate = (indoor_c - c0) / hours
                self.direction = -1 if rate < 0 else 1
                self.drift_c_h += DRIFT_ALPHA * (abs(rate) - self.drift_c_h)
                self.spell_start = (now, indoor_c) if shed else None
        if not shed:
            self.spell_start = None

    def duty_used(self, now: datetime) -> float:
        """Share of the last two hours spent shed."""
        since = now - DUTY_WINDOW
        s = sum(((e or now) - max(a, since)).total_seconds() for a, e in self.sheds if (e or now) > since)
        return s / DUTY_WINDOW.total_seconds()

    def coast_h(self, indoor_c: float, low: float, high: float) -> float:
        """Hours until the room reaches an edge of [low, high] if shed now."""
        rate = max(self.drift_c_h, 0.2)
        if self.direction < 0:
            return max(0.0, (indoor_c - low) / rate)
        if self.direction > 0:
            return max(0.0, (high - indoor_c) / rate)
        return max(0.0, min(indoor_c - low, high - indoor_c) / rate)

    def dump(self) -> dict:
        return {"drift_c_h": round(self.drift_c_h, 3), "direction": self.direction}

    def restore(self, rec: dict) -> None:
        self.drift_c_h = min(10.0, max(0.05, float(rec.get("drift_c_h", FIRST_DRIFT_C_H))))
        self.direction = int(rec.get("direction", 0)) if rec.get("direction") in (-1, 0, 1) else 0


def decide_shed(zone: Zone, comfort, now: datetime, indoor_c: float | None, indoor_at: datetime | None,
                price_now: float, cheapest_within, shedding: bool) -> tuple[str, str]:
    """('shed' | 'run' | 'need', reason text). `cheapest_within(hours)` -> (price, when) of
    the cheapest slot in the next `hours`. `shedding`: the planner's own shed is in place.
    Hysteresis: a shed starts only with an hour of coast ahead, and goes on while the price
    it waits out lasts; the band's edge ends it (need)."""
    low, high = comfort.min_c + comfort.margin_c, comfort.max_c - comfort.margin_c
    fresh = indoor_c is not None and indoor_at is not None and now - indoor_at <= STALE
    band = f"{comfort.min_c:g}-{comfort.max_c:g} C band"
    if fresh:
        edge = f"within {comfort.margin_c:g} C of the edge of its {band}" if comfort.margin_c > 0 \
            else f"at the edge of its {band}"
        if indoor_c <= low and zone.direction <= 0:
            return "need", f"room at {indoor_c:.1f} C, {edge}"
        if indoor_c >= high and zone.direction >= 0:
            return "need", f"room at {indoor_c:.1f} C, {edge}"
        coast = zone.coast_h(indoor_c, low, high)
        if not shedding and coast < START_COAST_H:  # (shedding: held now, by the plan or the queue)
            return "run", f"room at {indoor_c:.1f} C could coast only {coast:.1f} h"
        price, when = cheapest_within(min(max(coast, 0.25), 6.0))
        if price <= price_now * WORTH:
            return "shed", (f"{price_now:.3f}/kWh now, {price:.3f} from {when}; room at {indoor_c:.1f} C "
                            f"can coast {coast:.1f} h")
        return "run", f"no cheaper hour within the {coast:.1f} h the room at {indoor_c:.1f} C can coast"
    used = zone.duty_used(now)
    if used >= comfort.max_shed_duty:
        if shedding:
            return "need", f"no room temperature: shed duty {used:.0%} of 2 h reached its limit"
        return "run", f"no room temperature: shed duty {used:.0%} of 2 h, limit {comfort.max_shed_duty:.0%}"
    price, when = cheapest_within(0.5)
    if price <= price_now * WORTH:
        return "shed", f"{price_now:.3f}/kWh now, {price:.3f} from {when} (no room temperature: duty-limited)"
    return "run", "no cheaper hour soon (no room temperature)"
