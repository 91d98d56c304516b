"""The loads' physics as the MILP sees it: a tank's heat content and the pool's runtime.

Tank (one state per slot, kWh of heat counted from the cold inlet, like the hot_water contract):
    e[k+1] = a e[k] + (1 - a) e_amb + heat[k] - draw[k],   a = exp(-UA h / C)
where e_amb is the content of a tank at room temperature (standby loss pulls it there) and
draw[k] the heat the household asks for (the same in every policy). The MILP may only count
on heat the stratified tank takes for sure, so
- e <= e_sat, the least content at which both thermostats may be satisfied: the water from
  the lower element up at setpoint - deadband, the water below it at the inlet. Below e_sat
  a permitted tank is certainly heating, so the real tank never holds less than the MILP's;
- e[k] - draw[k] >= reserve x full: a slot's draws are taken before its heat, and the
  reserve keeps the top of the stratified tank above the cold-draw limit (RESERVE, tested
  against the simulator's tank in tests/sim/test_optimum.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.simulate.spec import KWH_PER_L_K, PoolSpec, TankSpec

from .model import Model
from .relays import MAX_STARTS_PER_DAY, History, Switch, switch
from .slots import Grid

# Share of a full tank's heat (from the inlet) kept at every moment. A full tank is 60 C over
# 15 C mains; with the rest of the heat in a hot plug over cold water, 0.25 would do, but
# a lower element that heats only part of a slot leaves lukewarm water under the plug, and
# the reserve must cover that too (see the test that plays worst-case schedules).
RESERVE = 0.35
SHORTFALL_PENALTY = 100.0  # currency per kWh the plan would leave below the reserve


@dataclass
class TankVars:
    sw: Switch
    heat_kw: np.ndarray  # element power per slot (kW), <= element_w while permitted
    kwh: np.ndarray  # content at each slot boundary (n + 1)


def tank_capacity_kwh_k(t: TankSpec) -> float:
    return t.tank_l * KWH_PER_L_K


def satisfied_kwh(t: TankSpec) -> float:
    """The least content at which neither thermostat calls (kWh from the inlet)."""
    above = (t.layers - t.lower_layer) / t.layers  # share of water from the lower element up
    return tank_capacity_kwh_k(t) * above * (t.setpoint_c - t.deadband_c - t.inlet_c)


def tank(m: Model, g: Grid, t: TankSpec, draw_kwh: np.ndarray, price: np.ndarray, e0: float,
         hist: History) -> TankVars:
    n = g.n
    cap = tank_capacity_kwh_k(t)
    ua_kw = t.ua_w_k / 1000.0
    a = np.exp(-ua_kw * g.hours / cap)
    e_amb = cap * (t.ambient_c - t.inlet_c)
    e_sat = satisfied_kwh(t)
    reserve = RESERVE * t.full_kwh
    if reserve > e_sat:
        raise ValueError(f"tank {t.load}: the reserve {reserve:.2f} kWh is above what a "
                         f"satisfied tank surely holds ({e_sat:.2f} kWh)")
    sw = switch(m, g, hist, t.relay.min_on_s, t.relay.min_off_s, max_off_h=t.max_off_h,
                max_starts_per_hour=t.relay.max_starts_per_hour, count_days=False)
    p_kw = t.element_w / 1000.0
    heat = m.var(n, 0.0, p_kw)
    m.rows([(heat, 1.0), (sw.u, -p_kw)], ub=0.0)  # heats only while permitted
    # ... and a permitted slot heats at least its relay's minimum on time: the permit is
    # the minutes the plan heats (permits.py), so a permit that heats nothing cannot exist
    # (a full tank takes less, for which the plan pays as if it heated: `idle` kW priced
    # like heat, so a permit is never a free way to meet max_off_h or bridge a run)
    least = np.minimum(max(1.0, np.ceil(t.relay.min_on_s / 60)) / g.length, 1.0) * p_kw
    idle = m.var(n, 0.0, least, cost=price * g.hours)
    m.rows([(heat, 1.0), (idle, 1.0), (sw.u, -least)], lb=0.0)
    # The relay's starts a day. A permitted slot heats all through (full = 1) or only part
    # of it; permits.py places a part-slot's minutes against the permitted neighbour, so a
    # run of slots stays one relay run except where a part-slot sits inside it: that breaks
    # the run once more (brk). Starts + breaks <= the day's budget.
    full = m.binary(n)
    m.rows([(heat, 1.0), (full, -p_kw)], lb=0.0)
    m.rows([(full, 1.0), (sw.u, -1.0)], ub=0.0)
    brk = m.var(n, 0.0, 1.0)
    before = np.r_[-1, sw.u[:-1]]  # -1: the history (a constant: on or off)
    after = np.r_[sw.u[1:], -1]  # past the horizon: no break counted
    on_before = 1.0 if hist.on else 0.0
    m.rows([(brk, 1.0), (sw.u, -1.0), (full, 1.0), (before, -1.0), (after, -1.0)],
           lb=np.r_[-2.0 + on_before, np.full(n - 2, -2.0), -1.0])
    for d in np.unique(g.day):
        k = np.flatnonzero(g.day == d)
        m.row(np.r_[sw.start[k], brk[k]], 1.0, ub=MAX_STARTS_PER_DAY)
    e = m.var(n + 1, -t.full_kwh, e_sat)
    m.fix(e[:1], min(e0, e_sat))  # count only what the thermostat surely keeps
    # e[k+1] - a e[k] - h heat[k] = (1 - a) e_amb - draw[k]
    m.rows([(e[1:], 1.0), (e[:-1], -a), (heat, -g.hours)],
           lb=(1 - a) * e_amb - draw_kwh, ub=(1 - a) * e_amb - draw_kwh)
    # a slot's draw comes out before its heat goes in; a shortfall is possible only when the
    # household asks more than the element can give, and then it costs far more than energy
    short = m.var(n + 1, 0.0, np.inf, cost=SHORTFALL_PENALTY)
    m.rows([(e, 1.0), (short, 1.0)], lb=reserve + np.r_[draw_kwh, 0.0])
    return TankVars(sw, heat, e)


@dataclass
class PoolVars:
    sw: Switch
    kw: float


def pool(m: Model, g: Grid, p: PoolSpec, window: np.ndarray, hist: History) -> PoolVars:
    """Runs whole slots inside its window; each local day at least `hours`, at most `max_hours`
    (minutes, so a day's short edge slot counts for its length)."""
    sw = switch(m, g, hist, p.relay.min_on_s, p.relay.min_off_s, allowed=window,
                max_starts_per_hour=p.relay.max_starts_per_hour)
    for d in np.unique(g.day):
        days = np.flatnonzero((g.day == d) & window)
        if not len(days):
            continue
        have = float(g.length[days].sum())
        floor = min(p.hours * 60.0, have)
        ceil = max(p.max_hours * 60.0, np.ceil(floor / g.length[days].max()) * g.length[days].max())
        m.row(sw.u[days], g.length[days], lb=floor, ub=ceil)
    return PoolVars(sw, p.watts / 1000.0)

