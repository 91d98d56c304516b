"""The sheddable heat pump's zone as the MILP sees it: shed events over a thermostat baseline.

The MILP decides only when the thermostat is shed; while permitted the real thermostat
decides (it heats to its setpoint, not "a little"). So the zone is not a free variable:
from the day's starting temperature, the slot physics (the simulator's 1R1C model,
    T[k+1] = a T[k] + (1 - a) (T_out + gains / UA) + (1 - a) / UA x COP x q[k],
a = exp(-UA h / C), q the compressor's electric kW, with a thermostat that brings the room
back to its setpoint as fast as the compressor allows) gives one trajectory when never shed:
the baseline. A shed event (start slot, length) is simulated the same way until the room is
back on the baseline; its effect is a change of the compressor's power in each slot it
spans. Events whose room leaves the comfort band (with half the thermostat's deadband of
margin: the real room may start a shed from the bottom of the band) are never offered.

The MILP picks at most one event per slot (the spans do not overlap: interval packing,
whose LP relaxation is nearly integral, so HiGHS solves it at the root), at most 12 a local
day, and none whose span crosses the commit point (the next day then starts on the
baseline). A binary per (slot, length) replaces the big-M thermostat logic a per-slot
model would need (that took 15-30 s a day; this takes milliseconds).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.simulate.spec import ZoneSpec

from .model import Model
from .relays import START_COST
from .slots import Grid

# Shed lengths offered (slots of 15 min): up to 4 h, coarser as they grow (each length is a
# column of the MILP; the comfort band ends most long sheds anyway)
SHED_SLOTS = (1, 2, 3, 4, 6, 8, 12, 16)
MAX_RECOVERY_SLOTS = 16  # an event whose room is not back on the baseline by then is not offered
REJOIN_K = 0.02  # back on the baseline within this (K)
MAX_SHEDS_PER_DAY = 12  # a shed and its release are whole slots: 24 thermostat changes a day


@dataclass
class SlotPhysics:
    a: np.ndarray  # decay over each slot
    t_eq: np.ndarray  # free-running equilibrium (C)
    gain_k_per_kw: np.ndarray  # heating: K per slot per electric kW (cooling: negative)
    cool_k_per_kw: np.ndarray  # cooling: K per slot per electric kW (positive)
    pe_kw: float
    heat_c: float
    cool_c: float

    def step(self, k: int, t: float, permitted: bool) -> tuple[float, float]:
        """(temperature at the slot's end, electric kW over the slot)."""
        free = self.a[k] * t + (1 - self.a[k]) * self.t_eq[k]
        if not permitted:
            return free, 0.0
        if free < self.heat_c:
            q = min(self.pe_kw, (self.heat_c - free) / self.gain_k_per_kw[k])
            return free + q * self.gain_k_per_kw[k], q
        if free > self.cool_c:
            q = min(self.pe_kw, (free - self.cool_c) / self.cool_k_per_kw[k])
            return free - q * self.cool_k_per_kw[k], q
        return free, 0.0


def slot_physics(z: ZoneSpec, g: Grid, t_out: np.ndarray, gains_w: np.ndarray) -> SlotPhysics:
    cap_kwh_k = z.capacity_j_k / 3.6e6
    ua_kw = z.ua_w_k / 1000.0
    a = np.exp(-ua_kw * g.hours / cap_kwh_k)
    per_kw = (1 - a) / ua_kw  # K at the slot's end per kW of heat held over the slot
    return SlotPhysics(a, t_out + gains_w / z.ua_w_k, per_kw * z.cop_heat(t_out),
                       per_kw * z.cop_cool(t_out), z.electric_w / 1000.0, z.heat_c, z.cool_c)


@dataclass
class Baseline:
    t_c: np.ndarray  # n + 1
    kw: np.ndarray  # n


def baseline(ph: SlotPhysics, t0: float, n: int) -> Baseline:
    t = np.empty(n + 1)
    kw = np.empty(n)
    t[0] = t0
    for k in range(n):
        t[k + 1], kw[k] = ph.step(k, t[k], True)
    return Baseline(t, kw)


@dataclass
class Events:
    start: np.ndarray  # first shed slot
    length: np.ndarray  # shed slots
    span_end: np.ndarray  # first slot back on the baseline (exclusive end of its effect)
    delta_kw: list[np.ndarray]  # change of compressor power over start .. span_end
    y: np.ndarray  # the MILP's binary per event


def events(ph: SlotPhysics, base: Baseline, z: ZoneSpec, commit: int, n: int):
    """Every shed (start, length) that keeps the room in its band, as (start, length, end, delta)."""
    half = z.deadband_c / 2
    lo = (z.comfort_min_c if z.comfort_min_c is not None else -np.inf) + half
    hi = (z.comfort_max_c if z.comfort_max_c is not None else np.inf) - half
    out = []
    for s in range(n):
        if base.kw[s] <= 0:  # a shed must start where the compressor would run
            continue
        for length in SHED_SLOTS:
            if s + length > n:
                break
            t = base.t_c[s]
            kw = []
            ok = True
            end = None
            for k in range(s, min(n, s + length + MAX_RECOVERY_SLOTS)):
                t, q = ph.step(k, t, k >= s + length)
                kw.append(q)
                if not lo <= t <= hi:
                    ok = False
                    break
                if k >= s + length and abs(t - base.t_c[k + 1]) < REJOIN_K:
                    end = k + 1
                    break
            if not ok:
                break  # a longer shed only goes further out of the band
            if end is None:
                if s + length + MAX_RECOVERY_SLOTS < n:
                    continue  # not back in time
                end = n  # still recovering at the horizon's end: counted as far as it goes
            if s < commit < end:
                continue  # the next day starts on the baseline
            kw = np.array(kw[:end - s])
            out.append((s, length, end, kw - base.kw[s:end]))
    return out


@dataclass
class ZoneVars:
    base: Baseline
    ev: Events
    full_kw: float


def zone(m: Model, g: Grid, z: ZoneSpec, t_out: np.ndarray, gains_w: np.ndarray, t0: float,
         commit: int) -> ZoneVars:
    ph = slot_physics(z, g, t_out, gains_w)
    base = baseline(ph, t0, g.n)
    found = events(ph, base, z, commit, g.n)
    y = m.binary(len(found), cost=2 * START_COST)
    ev = Events(np.array([f[0] for f in found], int), np.array([f[1] for f in found], int),
                np.array([f[2] for f in found], int), [f[3] for f in found], y)
    # at most one event spans any slot
    cover = [[] for _ in range(g.n)]
    for i, (s, e) in enumerate(zip(ev.start, ev.span_end)):
        for k in range(s, e):
            cover[k].append(y[i])
    m.sum_rows([np.array(c, int) for c in cover if len(c) > 1], ub=1.0)
    for d in np.unique(g.day):
        mine = y[np.isin(ev.start, np.flatnonzero(g.day == d))]
        if len(mine) > MAX_SHEDS_PER_DAY:
            m.sum_rows([mine], ub=MAX_SHEDS_PER_DAY)
    return ZoneVars(base, ev, ph.pe_kw)


def power(m: Model, zv: ZoneVars, n: int) -> np.ndarray:
    """Per-slot variables: the compressor's electric kW (the baseline plus the chosen events)."""
    ev = zv.ev
    sizes = ev.span_end - ev.start
    slots = np.concatenate([np.arange(s, e) for s, e in zip(ev.start, ev.span_end)] + [np.arange(n)])
    kw = m.var(n, 0.0, zv.full_kw)
    m.coo_rows(n, slots, np.concatenate([np.repeat(ev.y, sizes), kw]),
               np.concatenate(ev.delta_kw + [-np.ones(n)]), lb=-zv.base.kw, ub=-zv.base.kw)
    return kw


def permits(zv: ZoneVars, x: np.ndarray, n: int) -> np.ndarray:
    """Not shed, per slot, under the chosen events."""
    permit = np.ones(n, bool)
    for i in np.flatnonzero(x[zv.ev.y] > 0.5):
        permit[zv.ev.start[i]:zv.ev.start[i] + zv.ev.length[i]] = False
    return permit
