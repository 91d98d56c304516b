"""One horizon's MILP: every load, the house's net import/export at the tariff, the big-load
cap; solved by HiGHS, then cut at the commit point."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.simulate.spec import HouseSpec

from .loads import pool, tank
from .model import Model, Solution
from .relays import History, history_after
from .slots import Grid, SlotSeries
from . import zone as zonemod

# A load running above scheduler.max_running costs this per load-hour (currency): about
# 7 kWh at an on-peak price, so only a promise (hot water, comfort, the pool's hours)
# ever pays it, as the real scheduler lets only a guarantee break the cap.
CAP_PENALTY_PER_H = 2.0
# Currency per 48 h horizon the solve may leave on the table whatever the relative gap:
# half a cent, about 8 cents a month, well under 1 % of what the optimum saves in a month.
ABS_GAP = 0.005


@dataclass
class State:
    """What one day hands the next."""
    tank_kwh: dict[str, float]
    zone_c: float | None
    hist: dict[str, History]  # load -> its permit history


@dataclass
class Plan:
    minutes: dict[str, np.ndarray]  # load -> minutes permitted in each committed slot
    right: dict[str, np.ndarray]  # load -> those minutes end the slot (else they start it)
    state: State  # at the commit point
    solution: Solution
    binaries: int


def initial_state(spec: HouseSpec) -> State:
    """Minute 0 as the simulator starts it: full tanks, relays at boot, no shed."""
    long_ago = 10 ** 6  # minutes: no minimum on/off time still running
    hist = {t.load: History(t.relay.boot_on, long_ago, 0 if t.relay.boot_on else long_ago)
            for t in spec.tanks.values()}
    if spec.pool:
        on = spec.pool.relay.boot_on
        hist[spec.pool.load] = History(on, long_ago, 0 if on else long_ago)
    z = spec.sheddable
    if z:
        hist[z.load] = History(True, long_ago, 0)
    return State({t.load: t.full_kwh for t in spec.tanks.values()}, z.initial_c if z else None, hist)


def solve_horizon(spec: HouseSpec, g: Grid, ser: SlotSeries, state: State, commit: int,
                  mip_rel_gap: float, time_limit_s: float) -> Plan:
    m = Model()
    hours = g.hours
    spend = []  # (variable indices, kWh per unit) of what the decisions consume
    occupy = []  # (variable indices, places under the cap per unit)
    switches = {}
    tanks = {}
    for t in spec.tanks.values():
        tv = tank(m, g, t, ser.draw_kwh[t.load], ser.import_price, state.tank_kwh[t.load],
                  state.hist[t.load])
        tanks[t.load] = tv
        switches[t.load] = tv.sw
        spend.append((tv.heat_kw, hours))
        occupy.append((tv.heat_kw, 1000.0 / t.element_w))  # the element's duty in the slot
    if spec.pool:
        pv = pool(m, g, spec.pool, ser.window, state.hist[spec.pool.load])
        switches[spec.pool.load] = pv.sw
        spend.append((pv.sw.u, pv.kw * hours))
        occupy.append((pv.sw.u, 1.0))
    zv = None
    z = spec.sheddable
    if z:
        zv = zonemod.zone(m, g, z, ser.t_out_c, ser.gains_w, state.zone_c, commit)
        zkw = zonemod.power(m, zv, g.n)
        spend.append((zkw, hours))
        occupy.append((zkw, 1.0 / zv.full_kw))  # the compressor's duty

    # the house's net energy per slot: import - export = fixed + decided consumption
    imp = m.var(g.n, 0.0, np.inf, cost=ser.import_price)
    exp = m.var(g.n, 0.0, np.maximum(-ser.fixed_kwh, 0.0), cost=-ser.export_price)
    m.rows([(imp, 1.0), (exp, -1.0)] + [(idx, -c) for idx, c in spend],
           lb=ser.fixed_kwh, ub=ser.fixed_kwh)
    # the objective HiGHS sees is what the decisions add to the bill of the rest of the house
    f = ser.fixed_kwh
    # (plus ABS_GAP / mip_rel_gap: HiGHS then stops within mip_rel_gap of that cost OR
    # within ABS_GAP, whichever is looser; a sunny day's added cost of a few cents would
    # otherwise be chased to a hundredth of a cent)
    m.offset = -float(np.sum(ser.import_price * np.maximum(f, 0) - ser.export_price * np.maximum(-f, 0)))
    m.offset += ABS_GAP / mip_rel_gap
    over = m.var(g.n, 0.0, np.inf, cost=CAP_PENALTY_PER_H * hours)
    m.rows(occupy + [(over, -1.0)], ub=spec.max_running - ser.observed_running)

    sol = m.solve(mip_rel_gap, time_limit_s)
    x = sol.x
    on = {name: x[sw.u] > 0.5 for name, sw in switches.items()}
    if zv:
        on[z.load] = zonemod.permits(zv, x, g.n)
    minutes = {name: np.where(u[:commit], g.length[:commit], 0) for name, u in on.items()}
    right = {}
    for name, tv in tanks.items():
        minutes[name], right[name] = tank_minutes(spec.tanks[name], tv, x, g, commit)
    hist = {name: history_after(state.hist[name], u, g, commit) for name, u in on.items()}
    new = State({name: float(x[tv.kwh[commit]]) for name, tv in tanks.items()},
                float(zv.base.t_c[commit]) if zv else None, hist)
    return Plan(minutes, right, new, sol, m.binaries)


def tank_minutes(t, tv, x: np.ndarray, g: Grid, commit: int) -> tuple[np.ndarray, np.ndarray]:
    """The minutes a tank is permitted in each committed slot: the minutes its plan heats
    (permits.py), next to the permitted neighbour so that a run stays one relay start."""
    n = commit
    heat_min = x[tv.heat_kw[:n]] * 1000.0 / t.element_w * g.length[:n]
    mins = np.where(x[tv.sw.u[:n]] > 0.5, np.minimum(np.ceil(heat_min - 1e-6), g.length[:n]), 0)
    prev_on = np.r_[False, mins[:-1] > 0]
    next_on = np.r_[mins[1:] > 0, False]
    right = (mins < g.length[:n]) & ~prev_on & next_on
    return mins.astype(int), right
