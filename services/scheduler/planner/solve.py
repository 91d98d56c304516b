"""The cheapest schedule for each planned load over the next slots: greedy, pure Python.

Every slot has an import price, an export credit, a forecast solar surplus (kWh the house
would otherwise export) and a number of free big-load places (max_running minus the
observed loads expected to run). Loads take energy slot by slot; a kWh taken inside the
surplus costs the export credit it no longer earns, beyond it the import price.

Tanks are storage with a floor: walking forward, the first slot where the tank's heat would
fall below its reserve is covered from the cheapest earlier slot that still has element
capacity and room in the tank (the tank cannot hold more than full in any slot between).
Ties go to the latest slot (less standby loss, more left to learn). This is the classic
greedy for a single store with linear costs; tests compare it with HiGHS on the same
instances. Runtime loads (a pool pump) take their day's hours in the cheapest slots of their
window, preferring to extend a run over starting a new one.
"""
from __future__ import annotations

from dataclasses import dataclass

EPS = 1e-6
PLACE_MIN = 0.35  # a slot takes one more load while at least this much of a place is free


@dataclass(slots=True)
class Grid:
    """The shared resources of one plan, consumed as loads are placed."""
    dt_h: list[float]  # slot lengths (h)
    imp: list[float]  # import price (currency/kWh)
    exp: list[float]  # export credit (currency/kWh)
    surplus: list[float]  # forecast solar surplus left (kWh)
    free: list[float]  # big-load places left (expected: observed loads run part of the time)
    risk: list[float]  # extra price per kWh where observed loads may cut a run short

    n: int = 0

    def __post_init__(self):
        self.n = len(self.dt_h)

    def unit_cost(self, i: int, kw: float) -> float:
        """Price of the next kWh a load of `kw` takes in slot i, with the risk of being cut
        short. A 4.5 kW element in 2 kW of surplus imports the other 2.5 kW: the surplus
        covers only its share of the load's power."""
        share = self.surplus[i] / (kw * self.dt_h[i]) if kw > 0 else 0.0
        if share > 1.0:
            share = 1.0
        return share * self.exp[i] + (1.0 - share) * self.imp[i] + self.risk[i]

    def has_place(self, i: int) -> bool:
        return self.free[i] >= PLACE_MIN

    def take(self, i: int, kwh: float, kw: float) -> float:
        """A load of `kw` takes kwh in slot i; returns its cost. It uses the surplus in
        proportion to the time it runs: kwh / kw hours of a slot whose surplus is spread
        evenly over it."""
        run_share = kwh / (kw * self.dt_h[i]) if kw > 0 else 1.0
        s = min(self.surplus[i] * min(1.0, run_share), kwh)
        self.surplus[i] -= s
        return s * self.exp[i] + (kwh - s) * self.imp[i]


@dataclass(slots=True)
class TankPlan:
    heat: list[float]  # kWh the element delivers per slot
    level: list[float]  # tank heat after each slot (kWh from the cold inlet)
    kw: float = 0.0  # the element's power
    cost: float = 0.0
    short_at: int | None = None  # first slot whose reserve could not be met by any earlier slot


def plan_tank(g: Grid, start_kwh: float, full_kwh: float, reserve_kwh: list[float], element_kw: float,
              use: list[float], allowed: list[bool], start_cost: float,
              must: list[bool] | None = None) -> TankPlan:
    """Heat per slot so that the tank never falls below its reserve (kWh, per slot).
    `use`: predicted heat use per slot (kWh); `allowed`: slots it may heat in; `must`: slots
    it heats whatever (a forced window), taken first."""
    n = g.n
    heat = [0.0] * n
    cap = [element_kw * g.dt_h[i] if allowed[i] else 0.0 for i in range(n)]
    level = []
    e = start_kwh
    for u in use:
        e -= u
        level.append(e)
    plan = TankPlan(heat, level, element_kw)
    if must:
        for i in range(n):
            if must[i] and cap[i] > 0:
                _add(g, plan, i, min(cap[i], full_kwh - _peak(level, i, n - 1)), full_kwh, occupy=True)
    i = 0
    while i < n:
        if level[i] >= reserve_kwh[i] - 0.01:
            i += 1
            continue
        short = reserve_kwh[i] - level[i]
        j = _cheapest_before(g, heat, level, cap, i, full_kwh, short, start_cost)
        if j < 0:
            if plan.short_at is None:
                plan.short_at = i
            i += 1  # nothing earlier can help: the caller acts on short_at (heat now)
            continue
        # cover the shortfalls after i too, up to the first slot that could heat more cheaply
        # than j (those later needs are that slot's to meet): one pick per run, not per slot
        cj = g.unit_cost(j, element_kw)
        k = i
        while k + 1 < n:
            k1 = k + 1
            if cap[k1] - heat[k1] > 0.01 and g.unit_cost(k1, element_kw) < cj - EPS:
                break
            if reserve_kwh[k1] - level[k1] > short:
                short = reserve_kwh[k1] - level[k1]
            k = k1
        amt = min(short, cap[j] - heat[j], full_kwh - _peak(level, j, k))
        _add(g, plan, j, max(amt, 0.01), full_kwh, occupy=heat[j] <= EPS)
    return plan


def _peak(level: list[float], a: int, b: int) -> float:
    return max(level[a:b + 1])


def _cheapest_before(g: Grid, heat: list[float], level: list[float], cap: list[float], i: int,
                     full: float, short: float, start_cost: float) -> int:
    """The cheapest slot at or before i that can still add heat reaching slot i (-1: none).
    Walks backwards keeping the running maximum of the tank between j and i: once the tank
    is (nearly) full somewhere in between, heat added earlier would not reach slot i."""
    surplus, exp, imp, free, risk = g.surplus, g.exp, g.imp, g.free, g.risk
    n = len(heat)
    best, best_cost = -1, float("inf")
    peak = level[i]
    lim = full - 0.01
    for j in range(i, -1, -1):
        lv = level[j]
        if lv > peak:
            peak = lv
            if peak >= lim:
                break
        hj = heat[j]
        if cap[j] - hj <= 0.01:
            continue
        share = surplus[j] / cap[j]  # the element's run in this slot, by the surplus it meets
        if share > 1.0:
            share = 1.0
        c = share * exp[j] + (1.0 - share) * imp[j] + risk[j]
        if hj <= EPS:
            if free[j] < PLACE_MIN:
                continue
            if start_cost and not ((j > 0 and heat[j - 1] > EPS) or (j + 1 < n and heat[j + 1] > EPS)):
                c += start_cost / max(min(cap[j], short), 0.1)  # a new run pays for its start
        if c < best_cost - EPS:
            best, best_cost = j, c
    return best


def _add(g: Grid, plan: TankPlan, j: int, amt: float, full: float, occupy: bool) -> None:
    if amt <= EPS:
        return
    plan.heat[j] += amt
    plan.cost += g.take(j, amt, plan.kw)
    if occupy:
        g.free[j] -= 1
    lv = plan.level
    for k in range(j, len(lv)):  # a tank cannot hold more than full: the rest is not taken
        v = lv[k] + amt
        lv[k] = full if v > full else v


def consolidate(g: Grid, plan: TankPlan, start_kwh: float, full_kwh: float, reserve_kwh: list[float],
                use: list[float], cap: list[float]) -> None:
    """Within each window of one price and no surplus (a night tariff), gather the window's
    planned heat into one run at its end: the same energy at the same price, heated as late
    (least standby loss) and in as few relay operations as possible. Kept only where the
    tank stays above its reserve through the window."""
    n = g.n
    heat = plan.heat
    i = 0
    while i < n:
        j = i
        while (j + 1 < n and g.imp[j + 1] == g.imp[i] and g.surplus[j + 1] < 0.05 and g.surplus[i] < 0.05
               and cap[j + 1] > 0 and cap[i] > 0):
            j += 1
        total = sum(heat[i:j + 1])
        if j > i and total > 0.05:
            trial = heat[:]
            for k in range(i, j + 1):
                trial[k] = 0.0
            left = total
            for k in range(j, i - 1, -1):
                put = min(left, cap[k])
                trial[k] = put
                left -= put
            if left <= 1e-6 and _holds(trial, start_kwh, full_kwh, reserve_kwh, use):
                plan.heat[:] = trial
                _relevel(plan, start_kwh, full_kwh, use)
        i = j + 1


def _holds(heat: list[float], start: float, full: float, reserve: list[float], use: list[float]) -> bool:
    e = start
    for h, u, r in zip(heat, use, reserve):
        e = min(full, e + h - u)
        if e < r - 0.01:
            return False
    return True


def _relevel(plan: TankPlan, start: float, full: float, use: list[float]) -> None:
    e = start
    for k, (h, u) in enumerate(zip(plan.heat, use)):
        e = min(full, e + h - u)
        plan.level[k] = e


def fill_from_surplus(g: Grid, plan: TankPlan, full_kwh: float, element_kw: float,
                      allowed: list[bool], worth_below: float, min_room_kwh: float) -> None:
    """Store solar that would otherwise be exported for less than `worth_below` per kWh
    (what the heat would cost to buy later), as far as the tank has room ahead. A tank with
    less room than `min_room_kwh` is left alone: its thermostat would not call (deadband),
    and a relay closed for nothing is a relay operation spent."""
    n = g.n
    for j in range(n):
        if not allowed[j] or g.surplus[j] <= 0.05 or g.unit_cost(j, element_kw) >= worth_below:
            continue
        room = full_kwh - _peak(plan.level, j, n - 1)
        joins = plan.heat[j] > EPS or (j > 0 and plan.heat[j - 1] > EPS)
        if room < (0.05 if joins else min_room_kwh):
            continue
        amt = min(g.surplus[j], element_kw * g.dt_h[j] - plan.heat[j], room)
        if amt > 0.05 and (plan.heat[j] > EPS or g.has_place(j)):
            _add(g, plan, j, amt, full_kwh, occupy=plan.heat[j] <= EPS)


def bridge_gaps(g: Grid, heat: list[float], max_gap_h: float, max_ratio: float) -> list[bool]:
    """Permission per slot: the planned heat, with short gaps between runs closed when the gap
    is not much dearer than the runs around it. A permitted tank draws only what its
    thermostat asks, so a bridged gap costs little and saves a relay two operations."""
    on = [h > 0.01 for h in heat]
    n = len(on)
    i = 0
    while i < n:
        if on[i]:
            i += 1
            continue
        j = i
        while j < n and not on[j]:
            j += 1
        if 0 < i and j < n and sum(g.dt_h[i:j]) <= max_gap_h + 1e-9:
            around = max(g.imp[i - 1], g.imp[j])
            if all(g.imp[k] <= around * max_ratio for k in range(i, j)):
                for k in range(i, j):
                    on[k] = True
        i = j
    return on


def _best_block(g: Grid, window: list[int], hours: float, kw: float, on: list[bool]) -> list[int] | None:
    """The cheapest run of consecutive free slots of the window lasting at least `hours`."""
    best, best_c = None, float("inf")
    runs, cur = [], []
    for i in window:  # consecutive slots (the window skips blocked ones) with a place
        if cur and i != cur[-1] + 1 or on[i] or g.free[i] < PLACE_MIN:
            if cur:
                runs.append(cur)
            cur = []
        if not on[i] and g.free[i] >= PLACE_MIN:
            cur.append(i)
    if cur:
        runs.append(cur)
    for run in runs:
        for a in range(len(run)):
            h, c = 0.0, 0.0
            for b in range(a, len(run)):
                i = run[b]
                h += g.dt_h[i]
                c += kw * g.dt_h[i] * g.unit_cost(i, kw)
                if h >= hours - 0.01:
                    if c < best_c - 1e-9:
                        best, best_c = run[a:b + 1], c
                    break
    return best


def _greedy_cost(g: Grid, window: list[int], hours: float, kw: float, on: list[bool],
                 start_cost: float) -> float | None:
    """What the slot-by-slot choice would cost (with its starts), without taking anything."""
    cost = {i: kw * g.dt_h[i] * g.unit_cost(i, kw) for i in window if not on[i] and g.free[i] >= PLACE_MIN}
    chosen, got, total = set(), 0.0, 0.0
    while got < hours - 0.01:
        best, best_c = -1, float("inf")
        for i, c in cost.items():
            if i in chosen:
                continue
            if not (i - 1 in chosen or i + 1 in chosen):
                c += start_cost
            if c < best_c - 1e-9:
                best, best_c = i, c
        if best < 0:
            return None
        chosen.add(best)
        total += best_c
        got += g.dt_h[best]
    return total


@dataclass(slots=True)
class RunPlan:
    on: list[bool]
    cost: float = 0.0
    short_h: float = 0.0  # hours of need no slot of the window could take


def plan_runtime(g: Grid, need_h: list[tuple[list[int], float]], kw: float, start_cost: float,
                 must: list[bool] | None = None) -> RunPlan:
    """need_h: per day, (slots of its window still ahead, hours it must run in them).
    Picks the cheapest slots, a slot next to a chosen one counting `start_cost` less."""
    on = [False] * g.n
    plan = RunPlan(on)
    if must:
        for i in range(g.n):
            if must[i]:
                on[i] = True
                plan.cost += g.take(i, kw * g.dt_h[i], kw)
                g.free[i] -= 1
    for window, hours in need_h:
        block = _best_block(g, window, hours, kw, on)
        if block is not None:  # one run where it is cheapest: often best, and one start
            cost_block = sum(kw * g.dt_h[i] * g.unit_cost(i, kw) for i in block) + start_cost
            trial = _greedy_cost(g, window, hours, kw, on, start_cost)
            if trial is None or cost_block <= trial + 1e-9:
                for i in block:
                    on[i] = True
                    plan.cost += g.take(i, kw * g.dt_h[i], kw)
                    g.free[i] -= 1
                continue
        got = sum(g.dt_h[i] for i in window if on[i])
        cost = {}
        for i in window:  # a kWh's price in each slot of the window (surplus first)
            cost[i] = kw * g.dt_h[i] * g.unit_cost(i, kw)
        while got < hours - 0.01:
            best, best_c = -1, float("inf")
            for i in window:
                if on[i] or g.free[i] < PLACE_MIN:
                    continue
                c = cost[i]
                if not ((i > 0 and on[i - 1]) or (i + 1 < g.n and on[i + 1])):
                    c += start_cost
                if c < best_c - 1e-9:
                    best, best_c = i, c
            if best < 0:
                plan.short_h += hours - got
                break
            on[best] = True
            plan.cost += g.take(best, kw * g.dt_h[best], kw)
            g.free[best] -= 1
            got += g.dt_h[best]
    return plan
