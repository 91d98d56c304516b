"""On/off decisions shared by every controllable load: the permit binaries, their starts and
stops, minimum on/off times, a cap on starts per local day, and the history carried in from
the day before.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .model import Model
from .slots import SLOT_MIN, Grid

# The planner's wear budget is 24 relay operations a day, 12 starts and their 12 stops. The
# plan keeps two starts spare: minute placement (permits.py) and the relay's own minimum
# times may split a planned run.
MAX_STARTS_PER_DAY = 10
# A start's price (currency): far below any slot's energy cost (~0.1), it only breaks ties
# between equal-cost schedules in favour of fewer, longer runs (and spares HiGHS the
# symmetric alternatives).
START_COST = 1e-3


@dataclass
class History:
    """A load's permit just before the horizon."""
    on: bool
    since_min: int  # minutes since its permit last changed
    off_min: int  # minutes it has been off (0 when on), for max_off_h


@dataclass
class Switch:
    u: np.ndarray  # permit (binary) per slot
    start: np.ndarray  # 1 when the permit rises at slot k
    stop: np.ndarray  # 1 when it falls at slot k


def switch(m: Model, g: Grid, hist: History, min_on_s: float = 0, min_off_s: float = 0,
           allowed: np.ndarray | None = None, max_off_h: float | None = None,
           max_starts_per_hour: int | None = None, count_days: bool = True) -> Switch:
    n = g.n
    u = m.binary(n)
    if allowed is not None:
        m.bound(u[~allowed], ub=0.0)
    start = m.var(n, 0.0, 1.0, cost=START_COST)
    stop = m.var(n, 0.0, 1.0, cost=START_COST)
    prev = np.concatenate([[-1], u[:-1]])  # -1: the constant history value
    before = 1.0 if hist.on else 0.0
    # start - stop = u[k] - u[k-1]: both at their lower bounds (they cost), so exact
    m.rows([(start, 1.0), (stop, -1.0), (u, -1.0), (prev, 1.0)],
           lb=np.r_[-before, np.zeros(n - 1)], ub=np.r_[-before, np.zeros(n - 1)])
    _min_times(m, g, u, start, stop, hist, min_on_s, min_off_s)
    for d in np.unique(g.day) if count_days else ():
        m.sum_rows([start[g.day == d]], ub=MAX_STARTS_PER_DAY)
    if max_starts_per_hour is not None and max_starts_per_hour < 60 // (2 * SLOT_MIN):
        per = 60 // SLOT_MIN
        m.sum_rows([start[max(0, k - per + 1):k + 1] for k in range(n)], ub=max_starts_per_hour)
    if max_off_h is not None:
        _max_off(m, g, u, hist, max_off_h * 60)
    return Switch(u, start, stop)


def _min_times(m, g, u, start, stop, hist, min_on_s, min_off_s) -> None:
    """Aggregated min up/down rows (tight, no big-M): a start in the last k slots keeps the
    load on (sum of starts <= u), a stop keeps it off (sum of stops <= 1 - u)."""
    n = g.n
    for secs, ev, sign, held in ((min_on_s, start, -1.0, hist.on), (min_off_s, stop, 1.0, not hist.on)):
        k_need = math.ceil(secs / 60 / SLOT_MIN)
        if k_need > 1:
            lagged = [(np.where(np.arange(n) - lag >= 0, ev[np.clip(np.arange(n) - lag, 0, None)], -1), 1.0)
                      for lag in range(k_need)]
            m.rows(lagged + [(u, sign)], ub=0.0 if sign < 0 else 1.0)
        left = secs / 60 - hist.since_min  # the run begun before the horizon still to keep
        if held and left > 0:
            level = 1.0 if hist.on else 0.0
            keep = u[g.start - g.start[0] < left]
            m.bound(keep, lb=level, ub=level)


def _max_off(m: Model, g: Grid, u: np.ndarray, hist: History, max_off_min: float) -> None:
    """No off stretch longer than max_off_min: every stretch of slots that would exceed it
    holds at least one permitted slot (the stretch may begin in the history)."""
    groups = []
    for k in range(g.n):
        end = g.end[k]
        older = np.flatnonzero(g.start < end - max_off_min)
        if len(older):
            groups.append(u[older[-1]:k + 1])
        elif hist.off_min + (end - g.start[0]) > max_off_min:
            groups.append(u[:k + 1])
    m.sum_rows(groups, lb=1.0)


def history_after(hist: History, u: np.ndarray, g: Grid, upto: int) -> History:
    """The history at the start of slot `upto`, after the committed permits u[:upto]."""
    on, since, off = hist.on, hist.since_min, hist.off_min
    for k in range(upto):
        now = bool(u[k])
        since = since + int(g.length[k]) if now == on else int(g.length[k])
        off = 0 if now else off + int(g.length[k])
        on = now
    return History(on, since, off)
