"""The planner: each load with a contract (hot_water, runtime, comfort) gets the cheapest
schedule over the next hours that keeps its promise, re-made when the picture changes.

Pure like the rest of the core: `update(st, now, wake, out)` is called by core.evaluate on
every decision; it learns from the readings, re-plans at slot boundaries or when something
changed (an override, prices, a forecast, a tank measured full), and leaves one Verdict per
planned load in `st.planner.decisions`, which the rule tables (rules.py) turn into forced,
permitted or blocked with the planner's reason codes.
"""
from __future__ import annotations

from datetime import datetime

from .. import model as m
from .plan import make_plan
from .publish import plan_payload
from .state import PlannerState, new_planner, observe  # noqa: F401
from .verdicts import Verdict, verdicts  # noqa: F401


TANK_STRAY_KWH = 0.5  # a tank this far from the plan's expectation: plan again
RUNTIME_STRAY_H = 0.2  # a runtime load this far from its planned hours
SKY_STRAY = 0.2  # clearness this far from what the plan assumed


def update(st, now: datetime, wake: list, out: list) -> None:
    ps = st.planner
    if ps is None:
        return
    observe(ps, st, now)
    due = ps.plan is None or ps.replan
    if not due and now >= ps.next_plan_at:
        due = _strayed(ps, st, now)
        if not due:  # still good: check again at the next slot boundary
            i = ps.plan.slot_at(now)
            ps.next_plan_at = ps.plan.ends[i] if i is not None else now
    if due:
        ps.plan = make_plan(ps, st, now)
        ps.plan_clearness = ps.clearness.now()
        ps.next_plan_at = ps.plan.ends[0]
        ps.replan = False
        ps.decisions = verdicts(ps, st, now)
        ps.verdicts_key = (id(ps.plan), int(now.timestamp() // 60))
        out.append(m.PublishPlan(plan_payload(ps, st, now)))
    else:
        # the verdicts move with readings, which come a minute apart: decisions within the
        # same minute on the same plan (timers, relay feedback) reuse them
        key = (id(ps.plan), int(now.timestamp() // 60))
        if key != ps.verdicts_key:
            ps.decisions = verdicts(ps, st, now)
            ps.verdicts_key = key
    wake.append(ps.next_plan_at)


def _strayed(ps, st, now: datetime) -> bool:
    """Has the house left the plan's path (or is the plan an hour old)?"""
    plan = ps.plan
    if (now - plan.made).total_seconds() >= st.policy.sched.planner.replan_min * 60:
        return True
    i = plan.slot_at(now)
    if i is None or i == 0:
        return True
    for name, tank in ps.tanks.items():
        if abs(tank.full_kwh - tank.cautious_kwh - plan.loads[name].expect[i - 1]) > TANK_STRAY_KWH:
            return True
    for name in ps.runtime:
        lt = st.loads[name]
        if abs(lt.runtime_s / 3600 - plan.loads[name].expect[i - 1]) > RUNTIME_STRAY_H:
            return True
    k = ps.clearness.now()
    if (k is None) != (ps.plan_clearness is None) or (k is not None and abs(k - ps.plan_clearness) > SKY_STRAY):
        return True
    return False
