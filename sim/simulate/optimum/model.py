"""A small sparse MILP builder over `scipy.optimize.milp` (HiGHS).

Variables come in blocks (numpy index arrays); constraints are added a block of rows at a
time as sums of aligned terms, so a per-slot equation over a 48 h horizon is one call and
the matrix is assembled once, in COO form, when the model is solved.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

DISP = False  # HiGHS log to the console (debugging)
Term = tuple[np.ndarray, "np.ndarray | float"]  # (variable indices per row, coefficient(s))


@dataclass
class Solution:
    x: np.ndarray
    objective: float  # including the constant offset
    status: int  # scipy's: 0 optimal (within the gap), 1 time limit with a solution
    gap: float | None
    seconds: float
    whole: bool = False  # the fixed MILP was not within the gap: the whole MILP was solved


class Infeasible(RuntimeError):
    """The horizon has no schedule that keeps every hard constraint."""


class Model:
    def __init__(self) -> None:
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._cost: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self.n = 0
        self.offset = 0.0  # a constant added to the objective (see solve: the gap's scale)
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._blo: list[np.ndarray] = []
        self._bup: list[np.ndarray] = []
        self.m = 0

    # ------------------------------------------------------------ variables
    def var(self, n: int, lb=0.0, ub=np.inf, cost=0.0, binary: bool = False) -> np.ndarray:
        idx = np.arange(self.n, self.n + n)
        self.n += n
        self._lb.append(np.broadcast_to(np.asarray(lb, float), (n,)).copy())
        self._ub.append(np.broadcast_to(np.asarray(ub, float), (n,)).copy())
        self._cost.append(np.broadcast_to(np.asarray(cost, float), (n,)).copy())
        self._int.append(np.full(n, 1 if binary else 0))
        return idx

    def binary(self, n: int, cost=0.0) -> np.ndarray:
        return self.var(n, 0.0, 1.0, cost, binary=True)

    def fix(self, idx: np.ndarray, values) -> None:
        """Pin variables (an initial state) by narrowing their bounds."""
        lb, ub = np.concatenate(self._lb), np.concatenate(self._ub)
        lb[idx] = values
        ub[idx] = values
        self._lb, self._ub = [lb], [ub]

    def bound(self, idx: np.ndarray, lb=None, ub=None) -> None:
        lo, hi = np.concatenate(self._lb), np.concatenate(self._ub)
        if lb is not None:
            lo[idx] = np.maximum(lo[idx], lb)
        if ub is not None:
            hi[idx] = np.minimum(hi[idx], ub)
        self._lb, self._ub = [lo], [hi]

    @property
    def binaries(self) -> int:
        return int(sum(int(i.sum()) for i in self._int))

    # ------------------------------------------------------------ constraints
    def rows(self, terms: list[Term], lb=-np.inf, ub=np.inf) -> None:
        """len(terms[0][0]) rows: lb[r] <= sum_t coef_t[r] * x[idx_t[r]] <= ub[r].
        An index of -1 drops that term from its row (a window reaching before slot 0)."""
        n = len(terms[0][0])
        rows = np.arange(self.m, self.m + n)
        for idx, coef in terms:
            idx = np.asarray(idx)
            coef = np.broadcast_to(np.asarray(coef, float), (n,))
            keep = idx >= 0
            self._rows.append(rows[keep])
            self._cols.append(idx[keep])
            self._vals.append(coef[keep])
        self._blo.append(np.broadcast_to(np.asarray(lb, float), (n,)).copy())
        self._bup.append(np.broadcast_to(np.asarray(ub, float), (n,)).copy())
        self.m += n

    def row(self, cols: np.ndarray, coefs, lb=-np.inf, ub=np.inf) -> None:
        """One row: lb <= sum coefs[i] x[cols[i]] <= ub."""
        cols = np.asarray(cols, int)
        self._rows.append(np.full(len(cols), self.m))
        self._cols.append(cols)
        self._vals.append(np.broadcast_to(np.asarray(coefs, float), (len(cols),)).copy())
        self._blo.append(np.array([lb], float))
        self._bup.append(np.array([ub], float))
        self.m += 1

    def coo_rows(self, n: int, row: np.ndarray, cols: np.ndarray, vals: np.ndarray, lb=-np.inf,
                 ub=np.inf) -> None:
        """n rows given as entries (row in 0..n-1, variable, coefficient)."""
        self._rows.append(self.m + np.asarray(row, int))
        self._cols.append(np.asarray(cols, int))
        self._vals.append(np.asarray(vals, float))
        self._blo.append(np.broadcast_to(np.asarray(lb, float), (n,)).copy())
        self._bup.append(np.broadcast_to(np.asarray(ub, float), (n,)).copy())
        self.m += n

    def sum_rows(self, groups: list[np.ndarray], lb=-np.inf, ub=np.inf) -> None:
        """One row per group: lb <= sum of the group's variables <= ub (rows of any length)."""
        if not groups:
            return
        n = len(groups)
        rows = np.arange(self.m, self.m + n)
        sizes = np.array([len(g) for g in groups])
        self._rows.append(np.repeat(rows, sizes))
        self._cols.append(np.concatenate(groups).astype(int))
        self._vals.append(np.ones(int(sizes.sum())))
        self._blo.append(np.broadcast_to(np.asarray(lb, float), (n,)).copy())
        self._bup.append(np.broadcast_to(np.asarray(ub, float), (n,)).copy())
        self.m += n

    # ------------------------------------------------------------ solve
    def solve(self, mip_rel_gap: float, time_limit_s: float) -> Solution:
        """Relax and fix, then (only if that is not within the gap) the whole MILP.

        The LP relaxation of these models is within a fraction of a percent of the optimum,
        but HiGHS's own primal heuristics often take seconds to find any good schedule (its
        first roundings break a tank's reserve), and spend the wait on cuts the bound does
        not need. So: solve the LP, pin every binary the LP already put at 0 or 1, solve the
        small MILP left, and accept it when it is within mip_rel_gap of the LP's bound (a
        true bound on the optimum). Deterministic: no time limit decides which answer wins.
        """
        # HiGHS scales the gap by the objective's value; the offset (a variable pinned at 1)
        # makes that value the part of the cost the decisions can move, not the whole bill
        # (which is near zero on a sunny day and would make any gap unreachable).
        cost = np.concatenate(self._cost + [np.array([self.offset])])
        a = coo_matrix((np.concatenate(self._vals),
                        (np.concatenate(self._rows), np.concatenate(self._cols))),
                       shape=(self.m, self.n + 1)).tocsr()
        cons = LinearConstraint(a, np.concatenate(self._blo), np.concatenate(self._bup))
        integral = np.concatenate(self._int + [np.zeros(1, int)])
        lb = np.concatenate(self._lb + [np.ones(1)])
        ub = np.concatenate(self._ub + [np.ones(1)])
        t0 = time.perf_counter()
        lp = milp(cost, bounds=Bounds(lb, ub), constraints=cons)
        if lp.x is None:
            raise Infeasible(f"HiGHS (LP relaxation): {lp.message} (status {lp.status})")
        bound = float(lp.fun)
        binary = (integral == 1) & (lb == 0) & (ub == 1)
        lo, hi = lb.copy(), ub.copy()
        pin = binary & ((lp.x < 1e-6) | (lp.x > 1 - 1e-6))
        lo[pin] = hi[pin] = np.round(lp.x[pin])
        res = self._milp(cost, integral, lo, hi, cons, mip_rel_gap, time_limit_s)
        if DISP:
            print(f"LP bound {bound:.4f}; {int(pin.sum())} of {int(binary.sum())} binaries pinned; "
                  f"fixed MILP {res.fun} ({time.perf_counter() - t0:.2f} s)")
        if res.x is not None and _gap(res.fun, bound) <= mip_rel_gap:
            return Solution(res.x[:-1], float(res.fun), int(res.status), _gap(res.fun, bound),
                            time.perf_counter() - t0)
        fixed = res
        res = self._milp(cost, integral, lb, ub, cons, mip_rel_gap, time_limit_s)
        seconds = time.perf_counter() - t0
        gap = res.mip_gap
        if res.x is None or (fixed.x is not None and fixed.fun < res.fun):
            res, gap = fixed, _gap(fixed.fun, bound)  # the whole MILP stopped worse (time limit)
        if res.x is None:
            raise Infeasible(f"HiGHS: {res.message} (status {res.status})")
        return Solution(res.x[:-1], float(res.fun), int(res.status), gap, seconds, True)

    @staticmethod
    def _milp(cost, integral, lb, ub, cons, gap, time_limit_s):
        return milp(cost, integrality=integral, bounds=Bounds(lb, ub), constraints=cons,
                    options={"mip_rel_gap": gap, "time_limit": time_limit_s, "disp": DISP})


def _gap(value: float, bound: float) -> float:
    """HiGHS's relative gap: (value - bound) / |value|."""
    return (value - bound) / max(abs(value), 1e-9)
