"""The planner's greedy for one tank (services/scheduler/planner/solve.py plan_tank) against a
real solver (HiGHS through scipy.optimize) on the same random instances: prices per slot,
a solar surplus, predicted use, an element, a tank with its reserve.

The instance's cost is linear: heat h in slot i costs h x unit_cost(i) (the surplus's
share of the element at the export credit, the rest at the import price), and the tank's
heat after each slot, start + heat - use so far, stays between its reserve and full. The LP
optimum of that is the yardstick; with a start cost per run it is a MILP (a binary `on` per
slot, a start wherever on rises). `python -m tests.planner.test_solver` prints the figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from services.scheduler.planner.solve import Grid, consolidate, plan_tank

START_COST = 0.05  # scheduler.planner.start_cost's default (currency per run)


@dataclass
class Instance:
    dt: np.ndarray  # slot lengths (h): 15 min, 30 min, hours, as the plan's grid
    imp: np.ndarray  # import price per slot
    exp: np.ndarray  # export credit per slot
    surplus: np.ndarray  # solar surplus per slot (kWh)
    kw: float  # element
    full: float  # a full tank's heat (kWh)
    reserve: np.ndarray  # per slot (kWh)
    start: float
    use: np.ndarray  # predicted use per slot (kWh)
    allowed: np.ndarray

    @property
    def n(self) -> int:
        return len(self.dt)

    @property
    def cap(self) -> np.ndarray:
        return np.where(self.allowed, self.kw * self.dt, 0.0)

    def unit_cost(self) -> np.ndarray:
        share = np.minimum(1.0, self.surplus / (self.kw * self.dt))
        return share * self.exp + (1 - share) * self.imp

    def grid(self) -> Grid:
        return Grid(list(self.dt), list(self.imp), list(self.exp), list(self.surplus), [10.0] * self.n,
                    [0.0] * self.n)

    def levels(self, heat) -> np.ndarray:
        """Tank heat after each slot for a schedule (no clipping: a feasible one never overfills)."""
        return self.start + np.cumsum(np.asarray(heat) - self.use)


def instance(rng, surplus: bool) -> Instance:
    n = int(rng.integers(6, 40))
    dt = np.sort(rng.choice([0.25, 0.5, 1.0], n))
    if rng.random() < 0.5:  # time of use: a few price levels
        imp = rng.choice([0.09, 0.13, 0.27], n)
    else:  # a dynamic tariff
        imp = rng.uniform(0.05, 0.4, n).round(3)
    kw = float(rng.choice([3.0, 4.5]))
    sun = np.where(rng.random(n) < 0.3, rng.uniform(0, 1.5 * kw, n) * dt, 0.0) if surplus else np.zeros(n)
    full = float(rng.uniform(5, 15))
    if rng.random() < 0.5:  # a reserve that follows the household's draw times
        reserve = full * rng.choice([0.3, 0.6], n)
    else:
        reserve = np.full(n, full * rng.uniform(0.2, 0.6))
    start = float(rng.uniform(reserve.max(), full))
    use = rng.exponential(1.0, n) * (rng.random(n) < 0.5) * dt
    use = use / max(use.sum(), 1e-9) * full * rng.uniform(0.3, 1.5)
    return Instance(dt, imp, np.full(n, 0.04), sun, kw, full, reserve, start, use, rng.random(n) > 0.15)


# the greedy keeps a tank's reserve to within 0.01 kWh (solve.py): a schedule that close is
# kept, and costs at most that much heat less than the exact optimum
RESERVE_TOL_KWH = 0.011


def lp_optimum(ins: Instance, slack: float = 0.0):
    """min sum(c h) s.t. 0 <= h <= cap, reserve - slack <= start + cumsum(h - use) <= full
    (HiGHS); None when no schedule keeps the tank."""
    lower = np.tril(np.ones((ins.n, ins.n)))
    base = ins.start - np.cumsum(ins.use)
    res = linprog(ins.unit_cost(), A_ub=np.vstack([lower, -lower]),
                  b_ub=np.concatenate([ins.full - base, base - ins.reserve + slack]),
                  bounds=list(zip(np.zeros(ins.n), ins.cap)), method="highs")
    return res if res.status == 0 else None


def milp_optimum(ins: Instance, start_cost: float, slack: float = 0.0):
    """The same with a start cost: x = [heat, on (binary), start]; heat <= cap x on; a start
    wherever on rises (the heater is off before the first slot)."""
    n = ins.n
    lower, zero, eye = np.tril(np.ones((n, n))), np.zeros((n, n)), np.eye(n)
    base = ins.start - np.cumsum(ins.use)
    rises = np.eye(n) - np.eye(n, k=-1)
    cons = [LinearConstraint(np.hstack([lower, zero, zero]), ins.reserve - slack - base, ins.full - base),
            LinearConstraint(np.hstack([eye, -np.diag(np.maximum(ins.cap, 1e-9)), zero]), -np.inf, 0),
            LinearConstraint(np.hstack([zero, rises, -eye]), -np.inf, 0)]
    cost = np.concatenate([ins.unit_cost(), np.zeros(n), np.full(n, start_cost)])
    res = milp(cost, constraints=cons, integrality=np.concatenate([np.zeros(n), np.ones(n), np.zeros(n)]),
               bounds=Bounds(np.zeros(3 * n), np.concatenate([ins.cap, np.ones(n), np.ones(n)])))
    return res if res.status == 0 else None


def greedy(ins: Instance, start_cost: float = 0.0):
    """plan_tank as the planner calls it, then its gathering of equal-price heat."""
    g = ins.grid()
    plan = plan_tank(g, ins.start, ins.full, list(ins.reserve), ins.kw, list(ins.use), list(ins.allowed),
                     start_cost)
    if plan.short_at is None and start_cost:
        consolidate(g, plan, ins.start, ins.full, list(ins.reserve), list(ins.use), list(ins.cap))
    return plan


def runs(heat) -> int:
    on = np.asarray(heat) > 1e-6
    return int(on[0] + (on[1:] & ~on[:-1]).sum()) if len(on) else 0


@dataclass
class Comparison:
    feasible: int = 0
    equal: int = 0
    infeasible: int = 0
    flagged: int = 0  # infeasible instances where the greedy said so (short_at)
    broken: list = field(default_factory=list)  # greedy schedules below reserve / over capacity
    cheaper: list = field(default_factory=list)  # greedy below the optimum: a wrong model
    worse: list = field(default_factory=list)  # relative excess over the optimum

    def line(self, what: str) -> str:
        w = np.array(self.worse) if self.worse else np.zeros(1)
        return (f"{what}: {self.feasible} feasible, {self.equal} equal to the optimum, {len(self.worse)} dearer "
                f"(median {np.median(w):.1%}, worst {w.max():.1%}); {self.infeasible} infeasible, "
                f"{self.flagged} flagged short")


def compare(count: int, surplus: bool, start_cost: float, seed: int) -> Comparison:
    rng = np.random.default_rng(seed)
    out = Comparison()
    for _ in range(count):
        ins = instance(rng, surplus)
        opt = milp_optimum(ins, start_cost) if start_cost else lp_optimum(ins)
        plan = greedy(ins, start_cost)
        if opt is None:
            out.infeasible += 1
            # infeasible even within the greedy's tolerance: it must say so
            out.flagged += plan.short_at is not None or lp_optimum(ins, RESERVE_TOL_KWH) is not None
            continue
        out.feasible += 1
        heat = np.array(plan.heat)
        lv = ins.levels(heat)
        if plan.short_at is not None or (lv < ins.reserve - RESERVE_TOL_KWH).any() or (lv > ins.full + 0.02).any() \
                or (heat > ins.cap + 1e-6).any():
            out.broken.append(plan)
            continue
        cost = float(ins.unit_cost() @ heat) + start_cost * runs(heat)
        excess = cost - opt.fun
        tol = RESERVE_TOL_KWH * float(ins.unit_cost().max()) + 1e-3 * abs(opt.fun)
        if excess < -tol:  # below the optimum: only by the greedy's reserve tolerance
            loose = (milp_optimum(ins, start_cost, RESERVE_TOL_KWH) if start_cost
                     else lp_optimum(ins, RESERVE_TOL_KWH))
            if cost < loose.fun - tol:
                out.cheaper.append((cost, opt.fun))
            else:
                out.equal += 1
        elif excess <= tol:
            out.equal += 1
        else:
            out.worse.append(excess / max(opt.fun, START_COST))
    return out


def test_greedy_is_the_lp_optimum_with_time_of_use_prices():
    """The planner's claim (docs/planner.md): exact for one tank with linear prices."""
    c = compare(300, surplus=False, start_cost=0.0, seed=1)
    assert c.feasible >= 200 and c.infeasible >= 10  # both kinds were tried
    assert not c.broken and not c.cheaper
    assert c.equal == c.feasible, c.line("prices")
    assert c.flagged == c.infeasible  # a tank no schedule can keep is reported, not hidden


def test_greedy_with_a_solar_surplus_stays_close_to_the_lp():
    """A slot's surplus is priced by the share of the element it covers; the greedy takes a
    slot's heat in steps and re-prices the surplus left, so it can pick a dearer mix."""
    c = compare(300, surplus=True, start_cost=0.0, seed=2)
    assert not c.broken and not c.cheaper
    assert c.equal >= 0.9 * c.feasible, c.line("surplus")
    assert max(c.worse, default=0.0) <= 0.10, c.line("surplus")


def test_greedy_with_start_costs_keeps_the_tank_but_is_no_optimum():
    """With scheduler.planner.start_cost (fewer, longer runs) the problem is a MILP; the
    greedy's start cost is a heuristic. It must keep every tank; how far it is from the
    MILP is measured (see the module's __main__), not promised."""
    c = compare(150, surplus=False, start_cost=START_COST, seed=3)
    assert c.feasible >= 100
    assert not c.broken and not c.cheaper
    assert c.flagged == c.infeasible


@pytest.mark.parametrize("surplus", [False, True])
def test_greedy_schedules_respect_the_element_and_the_tank(surplus):
    rng = np.random.default_rng(4)
    for _ in range(50):
        ins = instance(rng, surplus)
        plan = greedy(ins)
        assert (np.array(plan.heat) <= ins.cap + 1e-6).all()
        assert all(h == 0.0 for h, a in zip(plan.heat, ins.allowed) if not a)


if __name__ == "__main__":
    for what, kw in (("time-of-use prices", dict(surplus=False, start_cost=0.0)),
                     ("with a solar surplus", dict(surplus=True, start_cost=0.0)),
                     (f"start cost {START_COST}", dict(surplus=False, start_cost=START_COST)),
                     (f"start cost {START_COST} and surplus", dict(surplus=True, start_cost=START_COST))):
        print(compare(1000, seed=11, **kw).line(what))
