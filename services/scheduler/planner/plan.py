"""Making the plan: the slots ahead with their prices, sunshine and free places, then each
planned load placed by solve.py. Pure: state and time in, a Plan out.

Order: runtime loads first (a pool pump fits inside the solar surplus; a 4.5 kW element
mostly imports around it), then tanks, the one that runs short soonest first, then tanks
take what surplus is left.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from .hotwater import hour_of_week
from .solve import (Grid, RunPlan, TankPlan, bridge_gaps, consolidate, fill_from_surplus, plan_runtime,
                    plan_tank)

NO_TARIFF = (1.0, 0.0)  # without a tariff: every kWh bought costs the same, solar is free
FILL_MIN_SHARE = 0.2  # solar tops a tank up only once it has this share of its heat to take
BRIDGE_H = 0.75  # a tank stays permitted through a gap this short between two planned runs ...
BRIDGE_RATIO = 1.2  # ... unless the gap is more than this much dearer than the runs around it
DRAW_AHEAD_H = 3  # hours ahead whose learned use decides which reserve a slot keeps
BUSY_PENALTY = 0.1  # per kWh, per expected observed load running: a run there may be cut short


@dataclass(slots=True)
class Schedule:
    contract: str  # hot_water | runtime | comfort
    on: list[bool]
    kwh: list[float]
    cost: float
    short_at: int | None = None  # tanks: a slot whose reserve nothing earlier can meet
    short_h: float = 0.0  # runtime: hours no slot could take
    reserve: list[float] | None = None  # tanks: the heat each slot must keep (kWh)
    expect: list[float] | None = None  # tanks: heat expected after each slot at the learned use
    # (no margin); runtime: hours run today expected after each slot. A reading that strays
    # from this makes the planner plan again.


@dataclass(slots=True)
class Plan:
    made: datetime
    starts: list[datetime]  # slot starts (UTC); starts[0] is `made`
    ends: list[datetime]
    dt_h: list[float]
    imp: list[float]
    exp: list[float]
    solar_w: list[float]
    base_w: list[float]
    surplus_kwh: list[float]  # before any load took it
    loads: dict[str, Schedule] = field(default_factory=dict)

    def slot_at(self, t: datetime) -> int | None:
        for i, e in enumerate(self.ends):
            if t < e:
                return i if t >= self.starts[i] else None
        return None

    def next_on(self, name: str, after: int = 0) -> int | None:
        s = self.loads[name]
        return next((i for i in range(after, len(s.on)) if s.on[i]), None)

    def from_solar(self, name: str, i: int) -> bool:
        """Was most of slot i's energy for this load forecast to come from surplus?"""
        s = self.loads[name]
        return s.kwh[i] > 0 and self.surplus_kwh[i] >= 0.5 * s.kwh[i] and self.exp[i] < self.imp[i]


# The grid coarsens with distance: slot_min for the next FINE_H hours, twice that up to
# MID_H, then hourly (at least slot_min). Near slots are decided soon and need precision; far
# ones only shape today's choices and are planned again, finer, as they come near.
FINE_H, MID_H = 6.0, 12.0


def slot_times(now: datetime, slot_min: int, horizon_h: float) -> list[datetime]:
    """Boundaries: now, then on the clock every slot_min, coarser further out, to now + horizon."""
    ts = now.timestamp()
    end = ts + horizon_h * 3600
    out = [now]
    t = ts
    for upto_h, step_min in ((FINE_H, slot_min), (MID_H, 2 * slot_min), (horizon_h, max(60, slot_min))):
        step = step_min * 60
        limit = min(end, ts + upto_h * 3600)
        t = (int(t // step) + 1) * step  # the next boundary on this step's clock
        while t <= limit:
            out.append(datetime.fromtimestamp(t, timezone.utc))
            t += step
        t = out[-1].timestamp()
    if out[-1].timestamp() < end:
        out.append(datetime.fromtimestamp(end, timezone.utc))
    return out


def make_plan(ps, st, now: datetime) -> Plan:
    pol = st.policy
    pc = pol.sched.planner
    bounds = slot_times(now, pc.slot_min, pc.horizon_h)
    starts, ends = bounds[:-1], bounds[1:]
    n = len(starts)
    tz = pol.tz
    dt_h = [(ends[i] - starts[i]).total_seconds() / 3600 for i in range(n)]
    locs = [s.astimezone(tz) for s in starts]
    imp, exp = [], []
    for s in starts:
        if pol.tariff is None:
            i_, e_ = NO_TARIFF
        else:
            p = pol.tariff.price(s)
            i_, e_ = p.import_per_kwh, p.export_per_kwh
        imp.append(i_)
        exp.append(e_)
    solar = [_solar_w(ps, s, e, now) for s, e in zip(starts, ends)]
    base = [ps.baseline.base_w[loc.hour] for loc in locs]
    surplus = [max(0.0, solar[i] - base[i]) * dt_h[i] / 1000 for i in range(n)]
    cap = pol.sched.max_running
    # free places: the cap less the observed big loads expected to run (a fraction: a load can
    # be planned where an observed one runs only part of the time, at a penalty for the
    # interruptions it risks)
    free, risk = [], []
    for loc in locs:
        busy = ps.baseline.busy[loc.hour]
        free.append(cap - busy)
        risk.append(BUSY_PENALTY * busy)
    plan = Plan(now, starts, ends, dt_h, imp, exp, solar, base, list(surplus))
    g = Grid(dt_h, imp, exp, surplus, free, risk)

    # runtime loads first: a small pump fits inside the surplus and takes it whole, while a
    # 4.5 kW element imports around whatever surplus it meets
    for name in ps.runtime:
        plan.loads[name] = _runtime_schedule(ps, st, name, g, starts, locs, dt_h)
    tank_inputs = {name: _tank_inputs(ps, st, name, starts, ends, locs, dt_h) for name in ps.tanks}
    order = sorted(tank_inputs, key=lambda n: tank_inputs[n]["first_short"])
    tank_plans: dict[str, TankPlan] = {}
    for name in order:
        ti = tank_inputs[name]
        tp = plan_tank(g, ti["start"], ti["full"], ti["reserve"], ti["kw"], ti["use"], ti["allowed"],
                       pc.start_cost, ti["must"])
        _keep_max_off(g, tp, ti, starts, ends)
        cap = [ti["kw"] * h if a else 0.0 for h, a in zip(dt_h, ti["allowed"])]
        consolidate(g, tp, ti["start"], ti["full"], ti["reserve"], ti["use"], cap)
        tank_plans[name] = tp
    day = next((i for i, t in enumerate(starts) if t >= now + timedelta(hours=24)), n)
    worth = min(imp[:max(1, day)])  # what heat bought later (within a day) would cost
    for name in order:
        ti, tp = tank_inputs[name], tank_plans[name]
        fill_from_surplus(g, tp, ti["full"], ti["kw"], ti["allowed"], worth,
                          FILL_MIN_SHARE * ti["full"])
        expect, e = [], ti["start"]
        for h, u in zip(tp.heat, ti["use"]):
            e = min(ti["full"], e + h - u)
            expect.append(e)
        on = bridge_gaps(g, tp.heat, BRIDGE_H, BRIDGE_RATIO)
        plan.loads[name] = Schedule("hot_water", on, list(tp.heat), tp.cost, tp.short_at, reserve=ti["reserve"],
                                    expect=expect)
    for name in ps.zones:
        plan.loads[name] = _zone_schedule(st, name, plan)
    return plan


def _solar_w(ps, start: datetime, end: datetime, now: datetime) -> float:
    mid = start + (end - start) / 2
    for a, b, w in ps.forecast:  # a forecast service wins where it covers the slot
        if a <= mid < b:
            return w
    if ps.array is None:
        return 0.0
    key = int(mid.timestamp() // 300)  # the sky model at 5-min resolution, computed once
    clear = ps.clear_sky.get(key)
    if clear is None:
        if len(ps.clear_sky) > 2000:
            ps.clear_sky.clear()
        clear = ps.clear_sky[key] = ps.array.clear_sky_w(mid)
    return clear * ps.clearness.ahead((mid - now).total_seconds() / 3600)


def _inside_any(cals, names, t: datetime) -> bool:
    return any(cals.inside(c, t) for c in names)


def _override_covers(lt, t: datetime, mode: str) -> bool:
    return lt.mode == mode and (lt.until is None or t < lt.until)


def _tank_inputs(ps, st, name, starts, ends, locs, dt_h) -> dict:
    pol = st.policy
    lp, lt = pol.loads[name], st.loads[name]
    lc = lp.cfg
    hw = lc.hot_water
    tank = ps.tanks[name]
    margin = tank.margin(pol.sched.planner.hot_water_margin)
    cals = pol.calendars
    use, allowed, must = [], [], []
    for s, loc, h in zip(starts, locs, dt_h):
        use.append(tank.use_kwh(hour_of_week(loc), h) * margin)
        off = _override_covers(lt, s, "off")
        allowed.append(not off and not _inside_any(cals, lc.block, s))
        must.append(not off and (_override_covers(lt, s, "on") or _inside_any(cals, lc.force, s)))
    full = tank.full_kwh
    reserve = _reserve(tank, hw, locs, dt_h)
    start = full - tank.cautious_kwh
    level, first_short = start, len(starts)
    for i, u in enumerate(use):
        level -= u
        if level < reserve[i]:
            first_short = i
            break
    deadline = None
    if lc.max_off_h is not None and not lt.permitted and lt.last_on is not None:
        deadline = lt.last_on + timedelta(hours=lc.max_off_h)
    return {"use": use, "allowed": allowed, "must": must, "full": full, "reserve": reserve,
            "start": start, "kw": hw.element_w / 1000, "first_short": first_short, "deadline": deadline,
            "margin": margin}


def _reserve(tank, hw, locs, dt_h) -> list[float]:
    """The heat each slot must keep: the contract's reserve around the hours the household
    usually draws water (the next DRAW_AHEAD_H hours of its learned profile use more than an
    average hour), the quiet reserve in the hours it rarely does (night, mid-morning)."""
    full = tank.full_kwh
    hi, lo = hw.reserve * full, (hw.quiet_reserve if hw.quiet_reserve is not None else hw.reserve) * full
    if lo >= hi or tank.learning:  # nothing learned yet: the full reserve at every hour
        return [hi] * len(locs)
    avg = sum(tank.profile) / len(tank.profile)
    busy = {}
    out = []
    for loc in locs:
        how = hour_of_week(loc)
        b = busy.get(how)
        if b is None:
            ahead = sum(tank.profile[(how + k) % 168] for k in range(DRAW_AHEAD_H))
            b = busy[how] = ahead > DRAW_AHEAD_H * avg
        out.append(hi if b else lo)
    return out


def _keep_max_off(g: Grid, tp: TankPlan, ti: dict, starts, ends) -> None:
    """The heater must be permitted again before its off limit (max_off_h): if the plan has
    no heat before then, the cheapest allowed slot before the deadline gets a token run."""
    deadline = ti["deadline"]
    if deadline is None:
        return
    last = next((i for i, e in enumerate(ends) if e >= deadline), len(ends) - 1)
    if any(tp.heat[i] > 0.01 for i in range(last + 1)):
        return
    cands = [i for i in range(last + 1) if ti["allowed"][i]]
    if not cands:  # blocked all the way (a user's window or override): their rule wins; the
        return     # core's max_off_h guarantee still forces it at the limit
    j = min(cands, key=lambda i: (g.unit_cost(i, ti["kw"]), -i))
    tp.heat[j] += 0.05  # permitted: the element takes what the tank needs
    tp.cost += g.take(j, 0.05, ti["kw"])


def _runtime_schedule(ps, st, name, g: Grid, starts, locs, dt_h) -> Schedule:
    pol = st.policy
    lp, lt = pol.loads[name], st.loads[name]
    rt = lp.cfg.runtime
    cals = pol.calendars
    today = locs[0].date()
    done_h = lt.runtime_s / 3600 if lt.runtime_day == today else 0.0
    days: dict = {}
    must = [False] * len(starts)
    for i, (s, loc) in enumerate(zip(starts, locs)):
        if _override_covers(lt, s, "on") or _inside_any(cals, lp.cfg.force, s):
            must[i] = True
            continue
        if _override_covers(lt, s, "off") or _inside_any(cals, lp.cfg.block, s):
            continue
        if cals.inside(rt.window, s):
            days.setdefault(loc.date(), []).append(i)
    need = []
    for d, window in sorted(days.items()):
        hours = rt.hours - (done_h if d == today else 0.0)
        if hours > 0.01:
            need.append((window, hours))
    kw = (lp.cfg.nominal_w or lp.cfg.running_w) / 1000
    rp: RunPlan = plan_runtime(g, need, kw, pol.sched.planner.start_cost, must)
    expect, h_done = [], done_h
    for i, (on, h) in enumerate(zip(rp.on, dt_h)):
        if i and locs[i].date() != locs[i - 1].date():
            h_done = 0.0
        h_done += h if on else 0.0
        expect.append(h_done)
    return Schedule("runtime", rp.on, [kw * h if on else 0.0 for on, h in zip(rp.on, dt_h)], rp.cost,
                    short_h=rp.short_h, expect=expect)


def _zone_schedule(st, name, plan: Plan) -> Schedule:
    """Where a shed is expected: slots dearer than some slot in the next two hours."""
    n = len(plan.starts)
    on = []
    for i in range(n):
        horizon = plan.starts[i] + timedelta(hours=2)
        later = [plan.imp[k] for k in range(i, n) if plan.starts[k] < horizon]
        on.append(not (min(later) <= 0.9 * plan.imp[i]))
    return Schedule("comfort", on, [0.0] * n, 0.0)
