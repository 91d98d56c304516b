"""How much hot water a tank's household uses, learned from the heater's own circuit.

The scheduler never sees the water. What it sees: a permitted heater that stays idle is full
(its thermostat is satisfied); the energy it then takes to be satisfied again is the heat
that left the tank meanwhile (draws and standby loss). Between two such "full" moments
that total is measured exactly; it is spread over the hours in between by the current
profile's shape, and teaches two things:
- `level`: a scale on the whole profile, learned from every measured interval (a household
  whose use doubles is followed within a day or two);
- `profile`: kWh per hour of the week (168 bins), the shape, learned mostly from short
  intervals (a heater permitted through the evening shows when its showers are).
Between measurements, the tank's deficit (kWh to be full again) runs on the prediction,
and falls by what the element delivers (its circuit's watts). Units: kWh, hours, watts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

HOW = 168  # hours of the week
LEVEL_UP = 0.4  # weight of one measured interval in the level when use was higher than thought
LEVEL_DOWN = 0.1  # ... and when it was lower: a cold shower costs more than a few cents of heat
LEARNING_INTERVALS = 6  # until this many intervals are measured, plan cautiously ...
LEARNING_MARGIN = 1.6  # ... for at least 1.6 x the default profile, and with the full reserve
LEVEL_SPAN_H = 12.0  # an interval this long (or longer) counts fully in the level
VAR_ALPHA = 0.15  # weight of one interval in the spread of use (relative to the prediction)
Z_SAFE = 1.5  # plan for use this many spreads above the mean (about 1 interval in 15 exceeded;
# the reserve, larger around the usual draw times, covers the rest)
SHAPE_ALPHA = 0.25  # weight of one measured hour in its profile bin
FULL_QUIET = timedelta(minutes=3)  # permitted, relay on, element silent this long: full
MIN_INTERVAL = timedelta(minutes=30)  # shorter measured intervals are too noisy to learn from
BIG_DRAW_SHARE = 0.15  # heating this share of the tank in one unbroken spell means a big draw
DEADBAND_SHARE = 0.12  # a tank thermostat calls only after losing about this share of its heat
# (a 5-8 K deadband on a lower thermostat of a 45 K tank, roughly)
STANDBY_SHARE = 0.012  # standby loss per hour as a share of the full tank's heat, first guess
# (190 L class-C tank: ~85 W at 60 C = 2 kWh/day of 9.9 kWh: 0.85 %/h; a little more for pipes)

# Share of a day's hot water by local hour: morning and evening peaks (DHWcalc-like), for the
# first days before the tank has taught its own (weekend: later morning, 15 % more).
WEEKDAY_SHAPE = (0.010, 0.005, 0.005, 0.005, 0.010, 0.030, 0.085, 0.105, 0.070, 0.045, 0.035, 0.030,
                 0.035, 0.030, 0.025, 0.025, 0.030, 0.050, 0.075, 0.085, 0.080, 0.060, 0.040, 0.020)
WEEKEND_SHAPE = (0.010, 0.005, 0.005, 0.005, 0.005, 0.010, 0.030, 0.060, 0.090, 0.090, 0.075, 0.055,
                 0.050, 0.040, 0.035, 0.030, 0.035, 0.050, 0.070, 0.080, 0.075, 0.060, 0.045, 0.025)
WEEKEND_FACTOR = 1.15


def default_profile(daily_kwh: float, standby_kwh_h: float) -> list[float]:
    """kWh per hour of the week (Monday 00:00 first) before anything is learned."""
    wd, we = sum(WEEKDAY_SHAPE), sum(WEEKEND_SHAPE)
    out = []
    for day in range(7):
        shape, norm, k = (WEEKEND_SHAPE, we, WEEKEND_FACTOR) if day >= 5 else (WEEKDAY_SHAPE, wd, 1.0)
        out.extend(daily_kwh * k * s / norm + standby_kwh_h for s in shape)
    return out


def hour_of_week(local: datetime) -> int:
    return local.weekday() * 24 + local.hour


@dataclass(slots=True)
class Tank:
    full_kwh: float  # heat of a full tank, counted from the cold inlet
    element_w: float
    profile: list[float]  # kWh per hour of the week
    level: float = 1.0
    deficit_kwh: float = 0.0  # estimated heat to be full again (at the learned mean use)
    cautious_kwh: float = 0.0  # the same at the planning margin: what the plan and the
    # hard need work from (water drawn since the last measurement is as uncertain as water
    # that will be drawn)
    margin_floor: float = 1.3
    full_at: datetime | None = None  # last time it was seen full
    in_since_full: float = 0.0  # kWh the element delivered since then
    pred_since_full: dict = field(default_factory=dict)  # hour of week -> [hours, predicted kWh]
    quiet_since: datetime | None = None  # permitted with the relay on and the element silent
    ran: bool = False  # the element drew power during the current permission
    spell_kwh: float = 0.0  # heat delivered since the element last started (an unbroken spell)
    intervals: int = 0  # measured intervals learned from
    spread: float = 0.35  # relative spread of measured use around the prediction (first guess)
    sensor_c: float | None = None  # tank temperature from a sensor, if one is configured
    sensor_at: datetime | None = None
    last: datetime | None = None

    # ------------------------------------------------------------ prediction
    def use_kwh(self, how: int, hours: float = 1.0) -> float:
        """Predicted heat use in `hours` of hour-of-week `how` (kWh)."""
        return self.level * self.profile[how] * hours

    @property
    def big_draw(self) -> bool:
        """The element has run long past its thermostat's deadband without stopping: a draw
        bigger than planned is under way (guests, a bath and showers together)."""
        return self.spell_kwh > BIG_DRAW_SHARE * self.full_kwh

    @property
    def learning(self) -> bool:
        """Too few measured intervals yet to trust what was learned (the first day or two)."""
        return self.intervals < LEARNING_INTERVALS

    def margin(self, floor: float) -> float:
        """Plan for this multiple of the predicted use: the configured floor, more when the
        household's use has been seen to swing more, and more still while it is learning."""
        m = max(floor, 1.0 + Z_SAFE * self.spread)
        return min(3.0, max(m, LEARNING_MARGIN) if self.learning else m)

    # ------------------------------------------------------------ observing the meter
    def observe(self, now: datetime, local: datetime, element_w: float | None, relay_on: bool,
                permitted: bool) -> bool:
        """Advance to `now`. element_w: the circuit's watts (None: unknown). Returns True when
        this observation moved the estimate by a measurement (the tank found full)."""
        last, self.last = self.last, now
        if last is None or now <= last:
            return False
        dt_h = min((now - last).total_seconds() / 3600, 1.0)
        how = hour_of_week(local)
        pred = self.use_kwh(how, dt_h)
        self.deficit_kwh += pred
        self.cautious_kwh += pred * self.margin(self.margin_floor)
        acc = self.pred_since_full.get(how)
        if acc is None:
            acc = self.pred_since_full[how] = [0.0, 0.0]
        acc[0] += dt_h
        acc[1] += pred
        drawing = element_w is not None and element_w >= 0.3 * self.element_w
        if drawing:
            delivered = min(element_w, self.element_w * 1.1) * dt_h / 1000
            self.deficit_kwh -= delivered
            self.cautious_kwh -= delivered
            self.in_since_full += delivered
            self.spell_kwh += delivered
        else:
            self.spell_kwh = 0.0
        self.deficit_kwh = min(max(self.deficit_kwh, 0.0), self.full_kwh)
        self.cautious_kwh = min(max(self.cautious_kwh, self.deficit_kwh), self.full_kwh)
        if self.spell_kwh > DEADBAND_SHARE * self.full_kwh:
            # still heating well past a thermostat's deadband: at least that much left the
            # tank, whatever the prediction said (a draw the plan did not foresee)
            self.deficit_kwh = max(self.deficit_kwh, min(self.full_kwh, self.spell_kwh * 0.5))
            self.cautious_kwh = max(self.cautious_kwh, self.deficit_kwh)
        on = permitted and relay_on
        if not on:
            self.ran = False
            self.quiet_since = None
            return False
        if drawing or element_w is None:
            self.ran = self.ran or drawing
            self.quiet_since = None
            return False
        if self.quiet_since is None:
            self.quiet_since = now
        if now - self.quiet_since < FULL_QUIET or self.quiet_since is None:
            return False
        self.quiet_since = now + timedelta(days=3650)  # once per quiet spell
        if self.ran:  # it heated, then its thermostat was satisfied: full, measured
            self._full(now)
            return True
        # permitted and silent from the start: the thermostat has not called, so the tank is
        # within its deadband of full; nothing is measured (the interval goes on)
        before = self.cautious_kwh
        self.deficit_kwh = min(self.deficit_kwh, DEADBAND_SHARE * self.full_kwh)
        self.cautious_kwh = min(self.cautious_kwh, DEADBAND_SHARE * self.full_kwh)
        return before - self.cautious_kwh > 0.5

    def _full(self, now: datetime) -> None:
        if self.full_at is not None and now - self.full_at >= MIN_INTERVAL:
            self._learn(self.in_since_full)
        self.full_at, self.in_since_full, self.pred_since_full = now, 0.0, {}
        self.deficit_kwh = self.cautious_kwh = 0.0

    def _learn(self, used: float) -> None:
        """`used` kWh left the tank over the hours in pred_since_full."""
        pred = sum(p for _, p in self.pred_since_full.values())
        if pred <= 0.05:
            return
        ratio = min(3.0, max(0.25, used / pred))
        # how far off the prediction was, weighted by how long the interval was (a day's use
        # varies more than a week's); the spread sets the plan's margin
        span_h = sum(h for h, _ in self.pred_since_full.values())
        err2 = (ratio - 1.0) ** 2 * min(1.0, span_h / 12.0)
        self.spread = min(1.5, max(0.1, (self.spread ** 2 + VAR_ALPHA * (err2 - self.spread ** 2)) ** 0.5))
        # an interval's weight grows with the share of a day it covers: a 40-min interval is
        # one shower or none, and must not move the household's level like a whole day
        alpha = (LEVEL_UP if ratio > 1 else LEVEL_DOWN) * min(1.0, span_h / LEVEL_SPAN_H)
        self.level = min(5.0, max(0.2, self.level * ((1 - alpha) + alpha * ratio)))
        # the shape: each hour's share of the measured use, by the old shape, but weighted
        # more where the interval was short (short intervals locate the use in time)
        alpha = SHAPE_ALPHA * min(1.0, 3.0 / max(span_h, 1.0))
        for how, (h, p) in self.pred_since_full.items():
            if h < 0.5:  # a sliver of an hour says little about that hour
                continue
            measured_rate = used * (p / pred) / h / self.level  # kWh/h at level 1
            self.profile[how] += alpha * (measured_rate - self.profile[how])
        self.intervals += 1

    def sensor(self, now: datetime, temp_c: float, setpoint_c: float, inlet_c: float) -> None:
        """A tank temperature: a single sensor near the top reads high on a stratified tank,
        so it can only raise the deficit estimate, never lower it."""
        self.sensor_c, self.sensor_at = temp_c, now
        frac = min(1.0, max(0.0, (setpoint_c - temp_c) / max(1.0, setpoint_c - inlet_c)))
        self.deficit_kwh = max(self.deficit_kwh, frac * self.full_kwh)
        self.cautious_kwh = max(self.cautious_kwh, self.deficit_kwh)

    # ------------------------------------------------------------ persistence
    def dump(self) -> dict:
        return {"profile": [round(x, 4) for x in self.profile], "level": round(self.level, 4),
                "deficit_kwh": round(self.deficit_kwh, 3), "cautious_kwh": round(self.cautious_kwh, 3),
                "intervals": self.intervals,
                "spread": round(self.spread, 4),
                "full_at": self.full_at.isoformat() if self.full_at else None}

    def restore(self, rec: dict, now: datetime) -> None:
        prof = rec.get("profile")
        if isinstance(prof, list) and len(prof) == HOW and all(isinstance(x, (int, float)) for x in prof):
            self.profile = [max(0.0, float(x)) for x in prof]
        self.level = min(5.0, max(0.2, float(rec.get("level", 1.0))))
        self.intervals = int(rec.get("intervals", 0))
        self.spread = min(1.5, max(0.1, float(rec.get("spread", self.spread))))
        self.deficit_kwh = min(self.full_kwh, max(0.0, float(rec.get("deficit_kwh", 0.0))))
        self.cautious_kwh = min(self.full_kwh, max(self.deficit_kwh, float(rec.get("cautious_kwh", 0.0))))
        self.last = now  # the time we were down is counted by the caller (restart margin)


def new_tank(hw, margin_floor: float) -> Tank:
    """A tank from its `hot_water` contract, with the first-days profile from its size."""
    full = hw.full_kwh
    daily_l = hw.daily_l if hw.daily_l is not None else 0.8 * hw.tank_l
    daily_kwh = daily_l * (hw.setpoint_c - hw.inlet_c) * 0.00116
    return Tank(full_kwh=full, element_w=hw.element_w,
                profile=default_profile(daily_kwh, STANDBY_SHARE * full), margin_floor=margin_floor)
