"""One policy over the run, minute by minute: the house's physics and the policy's controller.

Minute k: the physics runs with the relay levels and the hold as they stand at its start
(tanks, the pool pump, the sheddable zone; the observed loads and the sun come from
Exogenous), then the controller observes the minute's averages (policies.py). What is
recorded per minute is what the KPIs and the plots need, nothing the controller can see.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .house.tank import Tank
from .house.zone import Zone
from .spec import Exogenous, HouseSpec


@dataclass
class Trace:
    """What one policy did to the house, per minute (W, C, L) and in total."""
    policy: str
    load_w: dict[str, np.ndarray]  # load -> W on its circuit
    total_w: np.ndarray  # the whole house, PV not subtracted (W)
    permit: dict[str, np.ndarray]  # controllable load -> relay closed / zone not held (bool)
    forced: dict[str, np.ndarray]  # controllable load -> its reason was forced:* or override:*
    top_c: dict[str, np.ndarray]  # tank -> top node temperature (C) at the end of the minute
    cold_l: dict[str, np.ndarray]  # tank -> litres that left it below 45 C
    zone_c: np.ndarray | None  # sheddable zone indoor temperature (C)
    relay_ops: dict[str, int] = field(default_factory=dict)  # relay -> switch operations in the run
    relay_ops_day: dict[str, np.ndarray] = field(default_factory=dict)  # relay -> per local day
    shed_changes_day: np.ndarray | None = None
    tank_energy: dict[str, dict] = field(default_factory=dict)  # bookkeeping (kWh), see Tank
    decisions: int = 0
    core_s: float = 0.0  # inside the scheduler core
    elapsed_s: float = 0.0  # the whole run loop


def run(ctl, spec: HouseSpec, exo: Exogenous, progress=None) -> Trace:
    """Drive controller `ctl` (policies.py) over the run. `progress(minutes)` is called daily."""
    t_start = time.perf_counter()
    n = exo.n
    tanks = [(name, Tank(ts)) for name, ts in spec.tanks.items()]
    draws = [exo.draw_l40[name].tolist() for name, _ in tanks]
    zs = spec.sheddable
    zone = Zone(zs) if zs else None
    if zs:
        t_out, ghi = exo.t_out_c.tolist(), exo.ghi_w_m2.tolist()
        cop_h, cop_c = zs.cop_heat(exo.t_out_c).tolist(), zs.cop_cool(exo.t_out_c).tolist()
    pool = spec.pool
    observed = [(spec.circuits[name], name, exo.observed_w[name].tolist()) for name in spec.observed]
    pv = exo.pv_w.tolist()
    controllable = spec.controllable
    # recording
    rec_w = {name: np.zeros(n) for name in list(spec.tanks) + ([pool.load] if pool else [])
             + ([zs.load] if zs else [])}
    permit = {name: np.zeros(n, dtype=bool) for name in controllable}
    forced = {name: np.zeros(n, dtype=bool) for name in controllable}
    top_c = {name: np.zeros(n, dtype=np.float32) for name, _ in tanks}
    cold = {name: np.zeros(n, dtype=np.float32) for name, _ in tanks}
    zone_c = np.zeros(n, dtype=np.float32) if zs else None
    ops_prev = {r: _switch_count(ctl, r) for r in _relay_names(ctl)}
    ops_day = {r: np.zeros(len(exo.days), dtype=np.int32) for r in ops_prev}
    shed_day = np.zeros(len(exo.days), dtype=np.int32)
    local_day = exo.local_day
    day_end = np.searchsorted(local_day, np.arange(1, len(exo.days) + 1))
    d = 0
    circuits_of = {name: spec.circuits[name] for name in rec_w}

    tops: dict[str, float] = {}  # tank -> top temperature at the end of the minute (a sensor)
    for k in range(n):
        circuits = {}
        for (name, tank), dl in zip(tanks, draws):
            on = ctl.level(name)
            permit[name][k] = on
            before = tank.cold_l
            w = tank.step(k, on, dl[k])
            rec_w[name][k] = w
            circuits[circuits_of[name]] = w
            if tank.cold_l != before:
                cold[name][k] = tank.cold_l - before
            top_c[name][k] = tops[name] = tank.top_at(k + 1)
        if pool:
            on = ctl.level(pool.load)
            permit[pool.load][k] = on
            w = pool.watts if on else 0.0
            rec_w[pool.load][k] = w
            circuits[circuits_of[pool.load]] = w
        zone_running = False
        if zone:
            held = ctl.held(k, zone.T)
            permit[zs.load][k] = not held
            w = zone.step(k, t_out[k], ghi[k], cop_h[k], cop_c[k], held)
            zone_running = zone.mode != 0
            rec_w[zs.load][k] = w
            circuits[circuits_of[zs.load]] = w
            zone_c[k] = zone.T
        for circuit, _, arr in observed:
            circuits[circuit] = arr[k]
        ctl.observe(k, circuits, pv[k], zone.T if zone else None, zone_running, tops)
        for name in controllable:
            if ctl.forced(name):
                forced[name][k] = True
        if k + 1 == day_end[d] or k + 1 == n:  # a local day ends: relay operations and sheds
            for r in ops_day:
                c = _switch_count(ctl, r)
                ops_day[r][d] = c - ops_prev[r]
                ops_prev[r] = c
            shed_day[d] = ctl.shed_changes - int(shed_day[:d].sum())
            d = min(d + 1, len(exo.days) - 1)
            if progress is not None:
                progress(k + 1)
    load_w = dict(rec_w)
    for _, name, arr in observed:
        load_w[name] = exo.observed_w[name]
    total = exo.base_w + sum(load_w.values())
    energy = {}
    for name, tank in tanks:
        tank.settle(n)
        energy[name] = {"element_kwh": tank.element_j / 3.6e6, "drawn_l": tank.drawn_l,
                        "cold_l": tank.cold_l, "cold_min": tank.cold_min,
                        "loss_kwh": tank.loss_j / 3.6e6, "end_top_c": tank.T[-1]}
    return Trace(policy=ctl.name, load_w=load_w, total_w=total, permit=permit, forced=forced,
                 top_c=top_c, cold_l=cold, zone_c=zone_c,
                 relay_ops={r: int(v.sum()) for r, v in ops_day.items()}, relay_ops_day=ops_day,
                 shed_changes_day=shed_day, tank_energy=energy, decisions=ctl.decisions,
                 core_s=ctl.core_s, elapsed_s=time.perf_counter() - t_start)


def _relay_names(ctl) -> list[str]:
    relays = getattr(ctl, "relays", None)
    return list(relays) if relays else []


def _switch_count(ctl, relay: str) -> int:
    return ctl.relays[relay].switch_count
