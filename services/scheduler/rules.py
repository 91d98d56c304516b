"""Per-load policy as tables of rule functions, evaluated in order.

FORCE rules return a reason to run the load whatever the queue says (top of the queue);
BLOCK rules return a reason it may not run. Each returns (code, why, until) or None,
`until` being when that reason ends if known (the load's next_change), `why` the reason's
catalogue key and the numbers the rule used (reasons.py; the planner's verdicts: a sentence).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from circuitq.config.scheduler import LoadRunning

from . import model as m
from .policy import LoadPolicy
from .sensing import solar_average, stale_since

Verdict = tuple[str, tuple | str, datetime | None] | None


# ------------------------------------------------------------------ force rules

def force_guarantee(st: m.State, lp: LoadPolicy, lt: m.LoadRt, now: datetime) -> Verdict:
    """Rule 6: off at most max_off_h; at the limit it is permitted, top of the queue."""
    c = lp.cfg
    if c.max_off_h is None:
        return None
    if lt.guarantee_until is not None:
        if now < lt.guarantee_until:
            return ("forced:guarantee", ("forced:guarantee", c.max_off_h, lt.last_on, lt.guarantee_until),
                    lt.guarantee_until)
        lt.guarantee_until = None
    if not lt.permitted and lt.last_on is not None:
        limit = lt.last_on + timedelta(hours=c.max_off_h)
        if now >= limit:
            lt.guarantee_until = now + timedelta(minutes=c.guarantee_min) + lp.min_off
            st.dirty = True
            return ("forced:guarantee", ("forced:guarantee", c.max_off_h, lt.last_on, lt.guarantee_until),
                    lt.guarantee_until)
    return None


def force_window(st: m.State, lp: LoadPolicy, lt: m.LoadRt, now: datetime) -> Verdict:
    """Rule 4: forced windows (CircuitQueueing's weekday 05:00-06:00 shower hour)."""
    cals = st.policy.calendars
    for name in lp.cfg.force:
        inside, until = cals.status(name, now)
        if inside:
            return (f"forced:{name}", ("forced:window", name, until), until)
    return None


def force_runtime(st: m.State, lp: LoadPolicy, lt: m.LoadRt, now: datetime) -> Verdict:
    """Rule 6: a daily runtime target, planned backwards from the end of its window."""
    rt = lp.cfg.runtime
    if rt is None:
        return None
    need = rt.hours * 3600 - lt.runtime_s
    if need <= 0:
        return None
    cals = st.policy.calendars
    inside, end = cals.status(rt.window, now)
    if not inside or any(cals.inside(b, now) for b in lp.cfg.block):
        return None  # block windows still apply: the plan below counts them out
    midnight = cals.day_end(now)  # runtime counts per local day: its deadline is midnight at the latest
    end = midnight if end is None or end > midnight else end
    blocked = cals.overlap_s(lp.cfg.block, now, end)  # time it may not run before the deadline
    free = (end - now).total_seconds() - blocked
    slack = free - need - rt.margin_min * 60
    if slack > 0:
        lt.next_change = min(filter(None, (lt.next_change, now + timedelta(seconds=slack))), default=None)
        return None
    return ("forced:runtime", ("forced:runtime", need / 3600, end, rt.hours, free / 3600, rt.margin_min), None)


def force_plan(st: m.State, lp: LoadPolicy, lt: m.LoadRt, now: datetime) -> Verdict:
    """The planner's hard needs: a tank at its reserve, a day's hours that no longer fit,
    a room at the edge of its band."""
    v = st.planner.decisions.get(lp.name) if st.planner is not None else None
    if v is not None and v.kind == "need":
        return (v.code, v.text, v.until)
    return None


FORCE_RULES = (force_guarantee, force_window, force_runtime)
PLANNED_FORCE_RULES = (force_guarantee, force_window, force_plan)


# ------------------------------------------------------------------ block rules

def block_only(st: m.State, lp: LoadPolicy, lt: m.LoadRt, now: datetime) -> Verdict:
    if not lp.cfg.only:
        return None
    cals = st.policy.calendars
    starts = []
    for name in lp.cfg.only:
        inside, nxt = cals.status(name, now)
        if inside:
            return None
        starts.append(nxt)
    until = min(filter(None, starts), default=None)
    return ("blocked:outside", ("blocked:outside", tuple(lp.cfg.only), until), until)


def block_window(st: m.State, lp: LoadPolicy, lt: m.LoadRt, now: datetime) -> Verdict:
    cals = st.policy.calendars
    for name in lp.cfg.block:
        inside, until = cals.status(name, now)
        if inside:
            return (f"blocked:{name}", ("blocked:window", name, until), until)
    return None


def block_solar(st: m.State, lp: LoadPolicy, lt: m.LoadRt, now: datetime) -> Verdict:
    """Rule 5: inside the gate window, the rolling-average production must clear a threshold."""
    g = lp.cfg.solar
    if g is None:
        return None
    cals = st.policy.calendars
    inside, until = cals.status(g.window, now)
    if lt.gate_at != st.last_eval:  # not judged last time (an override or an earlier rule
        lt.gate_open = False       # decided): it may have missed its window end; prove it again
    lt.gate_at = now
    if not inside:
        lt.gate_open = False  # closed again at the next window start until production proves it
        return None
    if not st.solar.fresh:  # stale solar: the load's stale behaviour; `windows` ignores the gate
        if lp.cfg.stale == "off":
            return ("fallback:off", ("fallback:off/solar", stale_since(st.solar)), None)
        return None
    avg = solar_average(st) or 0.0
    threshold = st.policy.solar_threshold(lp, now)
    lt.gate_open = avg >= threshold if not lt.gate_open else avg >= threshold - g.hysteresis_w
    if lt.gate_open:
        return None
    return ("blocked:solar", ("blocked:solar", avg, st.policy.sched.data.solar_average_s / 60, threshold,
                              g.hysteresis_w, until), until)


def block_conditions(st: m.State, lp: LoadPolicy, lt: m.LoadRt, now: datetime) -> Verdict:
    """Rule 11 (and any load): block while another load runs or circuits draw too much.
    Every condition is evaluated (first true one is the reason) so that each keeps its state."""
    verdict = None
    for i, cond in enumerate(lp.cfg.block_when):
        if isinstance(cond, LoadRunning):  # `running` is debounced already (sensing)
            other = st.loads[cond.load]
            if other.running and verdict is None:
                olp = st.policy.loads[cond.load]
                stopping = other.pending_level is False  # under its threshold, not yet for debounce_s
                verdict = (f"blocked:{cond.load}", (
                    "blocked:load", cond.load, other.thermo_running, olp.off_w,
                    other.pending_since if stopping else None,
                    other.pending_since + olp.debounce if stopping else None), None)
            continue
        total = sum(st.circuits.get(c, 0.0) for c in cond.circuits)
        if _circuits_on(lp, lt, now, i, cond, total) and verdict is None:
            pend = lt.cond_pending.get(i)  # a release not yet held for debounce_s
            verdict = ("blocked:circuits", (
                "blocked:circuits", tuple(cond.circuits), total, cond.above_w, cond.hysteresis_w,
                pend[1] if pend else None, pend[1] + lp.debounce if pend else None), None)
    return verdict


def _circuits_on(lp: LoadPolicy, lt: m.LoadRt, now: datetime, i: int, cond, total: float) -> bool:
    """Threshold with hysteresis, and a new level counts once it has held the load's
    debounce_s: a sum wobbling around the threshold must not shed and release every reading."""
    was = lt.cond_on.get(i, False)
    level = total >= cond.above_w if not was else total >= cond.above_w - cond.hysteresis_w
    if level == was:
        lt.cond_pending.pop(i, None)
        return was
    pend = lt.cond_pending.get(i)
    if pend is None or pend[0] != level:
        pend = lt.cond_pending[i] = (level, now)
    due = pend[1] + lp.debounce
    if now < due:
        lt.next_change = due if lt.next_change is None else min(lt.next_change, due)
        return was
    lt.cond_on[i] = level
    del lt.cond_pending[i]
    return level


def block_plan(st: m.State, lp: LoadPolicy, lt: m.LoadRt, now: datetime) -> Verdict:
    """The planner says not now: the next planned run is cheaper (or today's hours are done)."""
    v = st.planner.decisions.get(lp.name) if st.planner is not None else None
    if v is not None and v.kind == "wait":
        return (v.code, v.text, v.until)
    return None


# Data-driven rules are skipped while Curb data is stale (the load's `stale` behaviour).
BLOCK_RULES = (block_only, block_window, block_solar, block_conditions)
WINDOW_RULES = (block_only, block_window)
PLANNED_BLOCK_RULES = (block_only, block_window, block_plan, block_conditions)


# Which config key makes each rule relevant: a load only evaluates the rules it uses.
NEEDS = {force_guarantee: "max_off_h", force_window: "force", force_runtime: "runtime",
         block_only: "only", block_window: "block", block_solar: "solar", block_conditions: "block_when"}


def applicable(cfg, planned: bool = False) -> tuple[tuple, tuple, tuple]:
    """The rules a load uses. A planned load (a contract, the planner on) has the plan in
    place of the solar gate and the runtime rule; its user constraints (block, only, force,
    block_when, max_off_h) still apply and win."""
    def pick(rules):
        return tuple(r for r in rules if r in (force_plan, block_plan) or getattr(cfg, NEEDS[r]))
    if planned:
        return pick(PLANNED_FORCE_RULES), pick(PLANNED_BLOCK_RULES), pick(WINDOW_RULES)
    return pick(FORCE_RULES), pick(BLOCK_RULES), pick(WINDOW_RULES)
