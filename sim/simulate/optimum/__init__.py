"""The perfect-foresight optimum: the cheapest permits that keep every promise, knowing the
whole run in advance (weather, draws, observed loads, prices). No real controller can beat
it; it is the yardstick of `gap_closed`.

A MILP per local day, solved by HiGHS through scipy.optimize.milp over that day (15-min
slots) and the next (hour slots), committing the first day and carrying its end state (tank
heat, zone temperature, each relay's recent history) into the next. What the MILP keeps:
- each tank: its heat content never below a reserve after a slot's draws, counted only up to
  what its thermostat surely takes (loads.py); never off longer than max_off_h;
- the pool pump: its hours inside its window every local day, never more than max_hours;
- the sheddable zone: the comfort band, with the real thermostat's behaviour while
  permitted, as shed events over the never-shed baseline (zone.py);
- every relay: min on/off times, starts per hour, at most 10 planned starts a local day
  (24 operations is the budget; the rest is margin for the minute placement);
- scheduler.max_running with the observed loads' running known in advance, counted as the
  slot's duty of each load (soft: only a promise may pay to break it);
- the cost: the whole house's net import at the import price minus its export at the
  credit, per slot (net metering inside a slot).

`solve(spec, exo, tariff)` returns a bool permit per minute for each controllable load, which
the runner plays through the real physics like any other policy's permits; a tank is
permitted only the minutes its plan heats (permits.py), so the physics cannot take more heat,
earlier, than the plan priced.

Solve time (the example house, 30 days, seed 1, on a shared 2-core machine; CPU seconds of
the whole solve, wall time 2-4x that under the load of the day): Greensboro January 94 s,
Sand Point January 38 s, Greensboro July 349 s, Sand Point July 393 s (1 and 2 days at the
time limit, within 6 % of their bound). Winter days are mostly settled by relax-and-fix
(model.py) in about a second; sunny days need the whole MILP (a 4.5 kW element cannot follow
a few hundred watts of surplus, which the LP relaxation can, so its bound is loose).
`solve_with_stats` reports each day's time and gap.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.simulate.spec import Exogenous, HouseSpec

from .horizon import initial_state, solve_horizon
from .permits import expand, hold_max_off, hold_min_times, place
from .slots import SLOT_MIN, day_bounds, grid, observed_running, series

MIP_REL_GAP = 0.005  # stop within 0.5 % of the best bound (of the cost the decisions add)
TIME_LIMIT_S = 120.0  # wall seconds per day: a safety net (a hit makes the result depend on the machine)
HORIZON_DAYS = 2


@dataclass
class Stats:
    """How the solves went, one entry per committed day."""
    seconds: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    hit_time_limit: int = 0
    whole_milp: int = 0  # days where relax-and-fix was not within the gap (model.Model.solve)
    binaries: list[int] = field(default_factory=list)

    @property
    def total_s(self) -> float:
        return float(sum(self.seconds))


def solve(spec: HouseSpec, exo: Exogenous, tariff) -> dict[str, np.ndarray]:
    """Load name -> bool per minute: relay closed (tanks, pool) or not shed (the zone)."""
    return solve_with_stats(spec, exo, tariff)[0]


def solve_with_stats(spec: HouseSpec, exo: Exogenous, tariff, mip_rel_gap: float = MIP_REL_GAP,
                     time_limit_s: float = TIME_LIMIT_S) -> tuple[dict[str, np.ndarray], Stats]:
    days = day_bounds(exo)
    permits = {name: np.zeros(exo.n, dtype=bool) for name in spec.controllable}
    state = initial_state(spec)
    stats = Stats()
    observed = observed_running(spec, exo)
    for i, (first, end) in enumerate(days):
        g = grid(exo, days[i:i + HORIZON_DAYS])
        commit = int(np.sum(g.start < end))
        plan = solve_horizon(spec, g, series(spec, exo, tariff, g), state, commit,
                             mip_rel_gap, time_limit_s)
        lengths = g.length[:commit]
        room = spec.max_running - observed[first:end]
        for name, mins in plan.minutes.items():
            if name not in plan.right:  # whole slots: the pool, the zone's shed
                permits[name][first:end] = expand(mins, lengths)
        if spec.pool is not None:
            room = room - permits[spec.pool.load][first:end]
        placed = place({n: plan.minutes[n] for n in plan.right}, plan.right, lengths, room)
        for name, p in placed.items():
            permits[name][first:end] = p
        state = plan.state
        stats.seconds.append(plan.solution.seconds)
        stats.gaps.append(plan.solution.gap if plan.solution.gap is not None else 0.0)
        stats.hit_time_limit += plan.solution.status == 1
        stats.whole_milp += plan.solution.whole
        stats.binaries.append(plan.binaries)
    for t in spec.tanks.values():
        p = hold_min_times(permits[t.load], t.relay.min_on_s, t.relay.min_off_s)
        if t.max_off_h is not None:
            p = hold_max_off(p, t.max_off_h, t.relay.min_on_s, t.relay.boot_on)
        permits[t.load] = p
    return permits, stats


__all__ = ["solve", "solve_with_stats", "Stats", "SLOT_MIN", "MIP_REL_GAP", "TIME_LIMIT_S"]
