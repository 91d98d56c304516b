"""Scheduler policy: calendars, the load queue, DRM thresholds. Owned by services/scheduler.

Units: watts (_w), seconds (_s), minutes (_min), hours (_h). Times of day are local to
site.timezone, "HH:MM". Priorities: a higher number is more important (evcc's convention).
See docs/scheduler.md for the policy reference.
"""
from __future__ import annotations

import re
from datetime import time
from typing import Literal, Union

from pydantic import Field, field_validator, model_validator

from .base import StrictModel

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DayFilter = Literal["all", "weekdays", "weekends"]
NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
THERMOSTAT_MAX_SHED_H = 2.0  # a shed always ends: the default max_off_h of a thermostat


def _hhmm(v):
    if isinstance(v, int):  # YAML 1.1 reads an unquoted 23:00 as the sexagesimal 1380
        return time(v // 60 % 24, v % 60)
    if isinstance(v, str):
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", v.strip())
        if not m or int(m[1]) > 24 or int(m[2]) > 59 or (int(m[1]) == 24 and int(m[2])):
            raise ValueError(f"{v!r} is not a time of day HH:MM")
        return time(int(m[1]) % 24, int(m[2]))
    return v


class Window(StrictModel):
    """One recurring interval. end <= start wraps past midnight; start == end is all day.
    `days` and `months` filter the day the window starts; public holidays count as weekends."""
    start: time
    end: time
    days: DayFilter | list[Literal[WEEKDAYS]] = "all"  # type: ignore[valid-type]
    months: list[int] | None = None

    _t = field_validator("start", "end", mode="before")(_hhmm)

    @field_validator("months")
    @classmethod
    def _months(cls, v):
        if v is not None and (not v or any(m < 1 or m > 12 for m in v)):
            raise ValueError("months are 1-12 (and at least one)")
        return v


class SeasonalThreshold(StrictModel):
    months: list[int]
    threshold_w: float = Field(ge=0)


class SolarGate(StrictModel):
    """Inside `window`, the load needs the rolling-average production above a threshold."""
    window: str = Field(description="calendar name")
    threshold_w: float = Field(ge=0, description="default threshold (W)")
    seasonal: list[SeasonalThreshold] = Field(default_factory=list, description="first match by month wins")
    hysteresis_w: float = Field(300, ge=0, description="closes below threshold - hysteresis")


# ---- conditions (block_when): any true -> the load is blocked (thermostat: shed)
class LoadRunning(StrictModel):
    load: str = Field(description="another load (usually observed) is running")


class CircuitAbove(StrictModel):
    circuits: list[str] = Field(min_length=1)
    above_w: float = Field(gt=0, description="sum of these circuits above this (W)")
    hysteresis_w: float = Field(200, ge=0)


Condition = Union[LoadRunning, CircuitAbove]


class RuntimeTarget(StrictModel):
    """Run `hours` a day inside `window` (a calendar); forced when the time left is short.
    With the planner, `hours` is a floor and `max_hours` a ceiling: it runs the cheapest
    hours of the window that meet the floor, and stops at the ceiling."""
    hours: float = Field(gt=0, le=24)
    window: str = Field(description="calendar whose end is the deadline")
    margin_min: float = Field(15, ge=0, description="force this much earlier than strictly needed")
    max_hours: float | None = Field(None, gt=0, le=24, description="planner: never more than this a "
                                    "day (default: hours + 15 min)")

    @model_validator(mode="after")
    def _ceiling(self):
        if self.max_hours is None:
            self.max_hours = min(24.0, self.hours + 0.25)
        if self.max_hours < self.hours:
            raise ValueError("max_hours is below hours")
        return self


# Water: kWh to warm one litre by one kelvin (4.186 kJ/kg/K x 0.998 kg/L / 3600 s/h).
KWH_PER_L_K = 0.00116


class HotWater(StrictModel):
    """A water heater's promise: never a cold draw. The planner decides when it heats.
    The tank's heat is counted from the cold inlet: a full tank holds
    tank_l x (setpoint_c - inlet_c) x 0.00116 kWh (190 L, 60 -> 15 C: 9.9 kWh)."""
    tank_l: float = Field(gt=0, le=2000, description="tank volume (L)")
    element_w: float = Field(gt=0, description="one element (W); the two of a tank never heat together")
    setpoint_c: float = Field(60, ge=40, le=85, description="the tank thermostat's setting (C)")
    inlet_c: float = Field(15, ge=0, le=35, description="cold mains temperature (C)")
    reserve: float = Field(0.4, ge=0.1, le=0.9, description="share of a full tank's heat the plan "
                           "keeps around the hours the household draws water (a bath's worth)")
    quiet_reserve: float | None = Field(None, ge=0.05, le=0.9, description="share kept in the hours "
                                        "it rarely does (learned); default: reserve")
    daily_l: float | None = Field(None, gt=0, description="first-days guess of hot water used a day "
                                  "(L at the setpoint; default: 0.8 x tank_l)")
    sensor: bool = Field(False, description="a tank temperature arrives on circuitq/load/<load>/tank")

    @property
    def full_kwh(self) -> float:
        return self.tank_l * (self.setpoint_c - self.inlet_c) * KWH_PER_L_K

    @model_validator(mode="after")
    def _quiet(self):
        if self.quiet_reserve is not None and self.quiet_reserve > self.reserve:
            raise ValueError("quiet_reserve is above reserve")
        return self


class Comfort(StrictModel):
    """A sheddable thermostat's promise: the room stays inside [min, max] (C or F)."""
    min_c: float | None = Field(None, ge=0, le=35)
    max_c: float | None = Field(None, ge=5, le=40)
    min_f: float | None = Field(None, ge=32, le=95)
    max_f: float | None = Field(None, ge=41, le=104)
    margin_c: float = Field(0.5, ge=0, le=3, description="release the shed this far inside the band")
    max_shed_duty: float = Field(0.25, gt=0, le=1, description="without an indoor temperature: shed "
                                 "at most this share of any 2 h")

    @model_validator(mode="after")
    def _band(self):
        if self.min_f is not None:
            if self.min_c is not None:
                raise ValueError("give min_c or min_f, not both")
            self.min_c = round((self.min_f - 32) / 1.8, 2)
        if self.max_f is not None:
            if self.max_c is not None:
                raise ValueError("give max_c or max_f, not both")
            self.max_c = round((self.max_f - 32) / 1.8, 2)
        if self.min_c is None or self.max_c is None:
            raise ValueError("a comfort band needs min_c and max_c (or min_f and max_f)")
        if self.max_c - self.min_c < 2 * self.margin_c + 0.5:
            raise ValueError("the comfort band is narrower than its margins")
        return self


class LoadConfig(StrictModel):
    kind: Literal["relay", "thermostat", "observed", "drm"] = "relay"
    description: str = ""
    name: str | None = Field(None, max_length=80, description="what people call it, e.g. 'North water "
                             "heater' (Home Assistant, texts); default: the key, readable")
    priority: int = Field(0, description="higher wins a slot")
    # While forced by a window or its runtime target, queue at this priority instead of going
    # to the top (a guarantee still goes to the top): a pool pump's runtime need not shed the
    # heat pump, only lesser loads. None: top of the queue.
    forced_priority: int | None = None
    relay: str | None = Field(None, description="kind relay: relay name (default: the load name)")
    thermostat: str | None = Field(None, description="kind thermostat: ecobee key (default: load name)")
    output: str | None = Field(None, description="kind drm: DRM output name")
    blocked_drm_mode: Literal[1, 2, 3] = Field(2, description="kind drm: mode asserted when not permitted")
    circuit: str | None = Field(None, description="circuit measured (default: the load name)")
    running_w: float = Field(300, gt=0, description="running at or above this (W)")
    hysteresis_w: float = Field(100, ge=0, description="stops below running_w - hysteresis_w")
    debounce_s: float = Field(30, ge=0, description="a level must hold this long to count")
    nominal_w: float | None = Field(None, ge=0, description="for the watt budget before it is measured")
    counts: bool = Field(True, description="takes a slot in the queue when running")
    # policy
    block: list[str] = Field(default_factory=list, description="calendars in which it may not run")
    only: list[str] = Field(default_factory=list, description="if set, may run only inside these")
    force: list[str] = Field(default_factory=list, description="calendars in which it is forced on")
    solar: SolarGate | None = None
    block_when: list[Condition] = Field(default_factory=list)
    min_on_s: float = Field(0, ge=0, description="policy minimum permitted time")
    min_off_s: float = Field(0, ge=0, description="policy minimum blocked time")
    max_off_h: float | None = Field(None, gt=0, description="guarantee: blocked at most this long")
    warn_before_h: float = Field(2, ge=0, description="alert this long before max_off_h")
    guarantee_min: float = Field(60, gt=0, description="a guarantee permits it at least this long")
    runtime: RuntimeTarget | None = None
    # contracts: what the household needs; the planner decides when (see docs/planner.md)
    hot_water: HotWater | None = None
    comfort: Comfort | None = None
    meter_check_min: float | None = Field(10, gt=0, description="kind relay: alert when it draws power "
                                          "this long while its relay is off (welded contact, wiring)")
    stale: Literal["windows", "off", "on", "hold"] = Field(
        "windows", description="behaviour without fresh data")
    override_default_min: float = Field(120, gt=0)
    override_max_min: float = Field(24 * 60, gt=0)

    @model_validator(mode="after")
    def _check(self):
        if self.override_default_min > self.override_max_min:
            raise ValueError("override_default_min is longer than override_max_min")
        if self.kind == "drm" and not self.output:
            raise ValueError("kind drm needs an output (a drm_outputs name)")
        if self.kind == "thermostat" and self.max_off_h is None:  # never shed without an end
            self.max_off_h = THERMOSTAT_MAX_SHED_H
        if (self.max_off_h is not None and "warn_before_h" not in self.model_fields_set
                and self.warn_before_h >= self.max_off_h):  # the 2 h default would alert at every block
            self.warn_before_h = self.max_off_h / 4
        return self


class DrmStep(StrictModel):
    below_w: float = Field(gt=0)
    mode: Literal[1, 2, 3]


class DrmPolicy(StrictModel):
    """dreadpi: DRM2 below 400 W, DRM3 below 700 W, mode 0 above; stale/invalid -> DRM0."""
    steps: list[DrmStep] = Field(default_factory=lambda: [DrmStep(below_w=400, mode=2),
                                                          DrmStep(below_w=700, mode=3)])
    hysteresis_w: float = Field(50, ge=0, description="rising needs threshold + this")
    min_dwell_s: float = Field(300, ge=0, description="policy time in a mode before the next")
    stale_mode: Literal[0, 1, 2, 3] = 0
    override_default_min: float = Field(120, gt=0)
    override_max_min: float = Field(24 * 60, gt=0)

    @field_validator("steps")
    @classmethod
    def _sorted(cls, v):
        return sorted(v, key=lambda s: s.below_w)


class DataHealth(StrictModel):
    reading_timeout_s: float = Field(300, gt=0, description="no reading this long -> stale")
    frozen_s: float = Field(600, gt=0, description="reading ts unchanged this long -> stale")
    solar_timeout_s: float = Field(1000, gt=0, description="dreadpi: data older than 1000 s")
    solar_average_s: float = Field(600, gt=0, description="rolling average for solar gates")
    stale_rotate_min: float = Field(60, gt=0, description="stale: one load at a time, rotated")
    fresh_again_s: float = Field(120, ge=0, description="after stale data, fresh data must last this "
                                 "long before it counts (a source flapping at its age limit)")
    solar_from_curb: bool = Field(False, description="use Curb's production_w as the solar reading "
                                  "(CircuitQueueing measured production with Curb)")


class PlannerConfig(StrictModel):
    """Loads with a contract (hot_water, runtime, comfort) are planned over the next hours."""
    enabled: bool = True
    slot_min: int = Field(15, ge=5, le=60, description="plan resolution (min)")
    horizon_h: float = Field(36, ge=12, le=72, description="how far ahead the plan looks")
    replan_min: float = Field(60, gt=0, description="re-plan at least this often; sooner when a tank, "
                              "a runtime or the sky strays from the plan, or prices, a forecast or an "
                              "override arrive")
    hot_water_margin: float = Field(1.3, ge=1, le=3, description="plan for the learned use x this")
    start_cost: float = Field(0.05, ge=0, description="price of one more start (currency): "
                              "fewer, longer runs spare relays and pumps (aim: <= 12 starts a day)")


class SchedulerConfig(StrictModel):
    max_running: int = Field(1, ge=1, le=10, description="big loads running at once")
    max_w: float | None = Field(None, gt=0, description="optional watt budget of the queue")
    max_w_hysteresis_w: float = Field(300, ge=0, description="a load already permitted keeps its "
                                      "place up to max_w + this (noisy meters do not chatter)")
    settle_s: float = Field(120, gt=0, description="demand discovery; also the gap between starts")
    lease_s: float = Field(300, gt=0, description="lease on relay/DRM/shed commands (s), renewed by half of it at the latest")
    startup_grace_s: float = Field(5, ge=0, description="wait for retained readings before commanding")
    calendars: dict[str, list[Window]] = Field(default_factory=dict)
    data: DataHealth = Field(default_factory=DataHealth)
    drm: dict[str, DrmPolicy] = Field(default_factory=dict, description="drm_outputs name -> policy")
    planner: PlannerConfig = Field(default_factory=PlannerConfig)
    ha_discovery: bool = True
    state_file: str = "scheduler_state.json"


def cross_check(cfg) -> None:
    """Names that refer to other sections must exist (called by the root model)."""
    cals = cfg.scheduler.calendars
    errs = []

    def need(name, where, have, what):
        if name not in have:
            errs.append(f"{where}: unknown {what} {name!r} (have: {', '.join(sorted(have)) or 'none'})")

    for lname, lc in cfg.loads.items():
        at = f"loads.{lname}"
        if not NAME.match(lname):
            errs.append(f"{at}: a load name is letters, digits, _ or - (it is a topic level)")
        for key in ("block", "only", "force"):
            for c in getattr(lc, key):
                need(c, f"{at}.{key}", cals, "calendar")
        if lc.solar:
            need(lc.solar.window, f"{at}.solar.window", cals, "calendar")
        if lc.runtime:
            need(lc.runtime.window, f"{at}.runtime.window", cals, "calendar")
        for i, cond in enumerate(lc.block_when):
            if isinstance(cond, LoadRunning):
                need(cond.load, f"{at}.block_when.{i}.load", cfg.loads, "load")
        if lc.kind == "relay":
            need(lc.relay or lname, f"{at}.relay", cfg.relays, "relay")
        planned = cfg.scheduler.planner.enabled and (
            (lc.kind == "relay" and (lc.hot_water or lc.runtime)) or (lc.kind == "thermostat" and lc.comfort))
        if planned and lc.solar:
            errs.append(f"{at}.solar: the planner follows the sun itself for a load with a contract "
                        f"(hot_water, runtime, comfort); remove `solar`, or set scheduler.planner.enabled: false")
        if lc.hot_water and lc.kind != "relay":
            errs.append(f"{at}.hot_water: only a `kind: relay` load heats water")
        if lc.comfort and lc.kind != "thermostat":
            errs.append(f"{at}.comfort: only a `kind: thermostat` load has a comfort band")
        if lc.kind == "drm":
            need(lc.output, f"{at}.output", cfg.drm_outputs, "DRM output")
    for name, pol in cfg.scheduler.drm.items():
        need(name, f"scheduler.drm.{name}", cfg.drm_outputs, "DRM output")
        if name in cfg.drm_outputs:
            for s in pol.steps:
                if s.mode not in cfg.drm_outputs[name].modes:
                    errs.append(f"scheduler.drm.{name}.steps: mode {s.mode} is not wired "
                                f"(modes: {sorted(cfg.drm_outputs[name].modes)})")
    if errs:
        raise ValueError("; ".join(errs))
