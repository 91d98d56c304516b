"""What the planner knows and keeps: the tanks' learned use, the rooms' drift, the sky's
clearness, the rest of the house, the prices and forecasts received, and the current plan.

`observe(st, now)` folds the latest readings in (called on every decision, cheap);
persistence (`dump`/`restore`) keeps everything learned across restarts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .baseline import Baseline
from .comfort import Zone
from .hotwater import Tank, new_tank
from .solar import Array, Clearness


@dataclass
class PlannerState:
    tanks: dict[str, Tank]
    zones: dict[str, Zone]
    runtime: tuple[str, ...]  # loads with a daily runtime contract
    array: Array | None
    clearness: Clearness = field(default_factory=Clearness)
    baseline: Baseline = field(default_factory=Baseline)
    forecast: list = field(default_factory=list)  # [(start, end, W)] from a forecast service
    plan: object = None  # plan.Plan
    next_plan_at: datetime | None = None
    replan: bool = True  # something changed the picture: plan again at this decision
    decisions: dict = field(default_factory=dict)  # load -> plan.Verdict
    last_reading: datetime | None = None  # the Curb reading last folded into the baseline
    solar_run: dict = field(default_factory=dict)  # tank -> True while heating on live surplus
    published: tuple | None = None
    clear_sky: dict = field(default_factory=dict)  # 5-min slot -> clear-sky W (a cache)
    plan_clearness: float | None = None  # the sky's clearness when the plan was made
    verdicts_key: tuple | None = None  # (plan, minute) the decisions were made for
    guard_kwh: dict = field(default_factory=dict)  # tank -> kWh heated in this guard stretch
    starts: dict = field(default_factory=dict)  # load -> [local date, starts that day, was permitted]

    @property
    def loads(self) -> tuple[str, ...]:
        return tuple(self.tanks) + self.runtime + tuple(self.zones)


def new_planner(pol) -> PlannerState | None:
    """A planner when any load has a contract and the planner is on, else None."""
    cfg = pol.cfg
    if not cfg.scheduler.planner.enabled:
        return None
    tanks, zones, runtime = {}, {}, []
    for name, lp in pol.loads.items():
        lc = lp.cfg
        if lc.hot_water is not None and lp.kind == "relay":
            tanks[name] = new_tank(lc.hot_water, cfg.scheduler.planner.hot_water_margin)
        elif lc.comfort is not None and lp.kind == "thermostat":
            zones[name] = Zone()
        elif lc.runtime is not None and lp.kind == "relay":
            runtime.append(name)
    if not (tanks or zones or runtime):
        return None
    array = None
    site, solar = cfg.site, cfg.solar
    if solar is not None and solar.array is not None and site.latitude is not None \
            and site.longitude is not None:
        a = solar.array
        array = Array(site.latitude, site.longitude, solar.system_size_w / 1000, a.tilt_deg, a.azimuth_deg,
                      a.inverter_w / 1000 if a.inverter_w else None, a.losses_pct / 100)
    return PlannerState(tanks, zones, tuple(runtime), array)


def observe(ps: PlannerState, st, now: datetime) -> None:
    """Fold the latest readings into what the planner learns."""
    pol = st.policy
    local = now.astimezone(pol.tz)
    fresh = st.curb.fresh
    day = local.date()
    for name in ps.tanks.keys() | set(ps.runtime):  # relay starts today (the daily wear budget)
        rec = ps.starts.get(name)
        p = bool(st.loads[name].permitted)
        if rec is None or rec[0] != day:
            rec = ps.starts[name] = [day, 0, p if rec is None else rec[2]]
        if p and not rec[2]:
            rec[1] += 1
        rec[2] = p
    for name, tank in ps.tanks.items():
        lt = st.loads[name]
        w = lt.power_w if fresh else None
        if tank.observe(now, local, w, lt.relay_level != "off", bool(lt.permitted)):
            ps.replan = True  # a measured tank: the plan's starting point moved
    for name, zone in ps.zones.items():
        lt = st.loads[name]
        zone.observe(now, lt.permitted is False, lt.indoor_c,
                     lt.indoor_at is not None and now - lt.indoor_at <= timedelta(minutes=30))
    if ps.array is not None and st.solar.fresh and st.solar_w is not None:
        ps.clearness.observe(now, st.solar_w, _clear_sky(ps, now), local.date())
    if fresh and st.curb.at is not None and st.curb.at != ps.last_reading:
        ps.last_reading = st.curb.at
        _observe_house(ps, st, local.hour)


def _observe_house(ps: PlannerState, st, hour: int) -> None:
    """The rest of the house this minute: consumption not planned, observed loads running."""
    pol = st.policy
    placed = set(ps.tanks) | set(ps.runtime)  # the loads the plan's grid places itself
    planned_w = sum(st.loads[n].power_w or 0.0 for n in placed)
    busy = 0
    other_w = 0.0
    for name, lp in pol.loads.items():
        if name in placed:
            continue
        lt = st.loads[name]
        other_w += lt.power_w or 0.0
        # places taken: loads nobody controls. A thermostat with a comfort band gives way to
        # a planned run (queue.py), so it does not take one from the plan.
        if lt.running and lp.cfg.counts and not lp.controllable:
            busy += 1
    base = st.consumption_w - planned_w if st.consumption_w is not None else other_w
    ps.baseline.observe(hour, max(0.0, base), busy)


def starts_today(ps: PlannerState, name: str) -> int:
    rec = ps.starts.get(name)
    return rec[1] if rec else 0


def dump(ps: PlannerState) -> dict:
    return {"tanks": {n: t.dump() for n, t in ps.tanks.items()},
            "zones": {n: z.dump() for n, z in ps.zones.items()},
            "clearness": ps.clearness.dump(), "baseline": ps.baseline.dump()}


def restore(ps: PlannerState, rec: dict, now: datetime, saved: datetime | None) -> list[str]:
    notes = []
    for name, r in (rec.get("tanks") or {}).items():
        if name in ps.tanks:
            tank = ps.tanks[name]
            tank.restore(r, now)
            if saved is not None and now > saved:  # the water used while we were down
                down = _use_between(tank, saved, now, ps)
                tank.deficit_kwh = min(tank.full_kwh, tank.deficit_kwh + down)
                tank.cautious_kwh = min(tank.full_kwh, tank.cautious_kwh + down * tank.margin(tank.margin_floor))
            notes.append(f"{name}: learned hot-water use restored ({tank.intervals} measured intervals, "
                         f"x{tank.level:.2f})")
    for name, r in (rec.get("zones") or {}).items():
        if name in ps.zones:
            ps.zones[name].restore(r)
    if isinstance(rec.get("clearness"), dict):
        ps.clearness.restore(rec["clearness"])
    if isinstance(rec.get("baseline"), dict):
        ps.baseline.restore(rec["baseline"])
    ps.replan = True
    return notes


def _use_between(tank: Tank, a: datetime, b: datetime, ps: PlannerState) -> float:
    hours = min((b - a).total_seconds() / 3600, 48.0)
    return sum(tank.profile) / len(tank.profile) * tank.level * hours


def _clear_sky(ps: PlannerState, t: datetime) -> float:
    """The array's clear-sky watts, cached at 5-min resolution (the sky model is the cost)."""
    key = int(t.timestamp() // 300)
    w = ps.clear_sky.get(key)
    if w is None:
        if len(ps.clear_sky) > 2000:
            ps.clear_sky.clear()
        w = ps.clear_sky[key] = ps.array.clear_sky_w(t)
    return w
