"""The retained circuitq/plan (m.PublishPlan, what the household page and Home Assistant show
as the next 24 h): it validates as circuitq.payloads.Plan, covers the next 24 hours, every
run says why, and the loads then do what it said."""
from __future__ import annotations

import bisect
from datetime import date, timedelta

import numpy as np
import pytest

from circuitq import payloads as p

from .harness import POOL, TANKS, ZONE, house_cfg, simulate, world

RUN_CODES = {"planned:solar", "planned:cheap", "planned:run"}
CONTRACTS = {**{n: "hot_water" for n in TANKS}, POOL: "runtime", ZONE: "comfort"}


@pytest.fixture(scope="module", params=[date(2025, 1, 7), date(2025, 7, 7)], ids=["winter", "summer"])
def house(request):
    cfg, spec, exo = world(house_cfg(), request.param, 2)
    return simulate(cfg, spec, exo)


def test_every_plan_validates_and_covers_the_next_24_hours(house):
    plans = house.house.plans
    assert len(plans) >= 24 * 2  # re-made at least hourly
    for made, plan in plans:
        model = p.Plan.model_validate(plan)
        assert p.Plan.model_validate_json(model.model_dump_json()) == model  # as published
        starts = [s.start for s in model.slots]
        assert starts[0] == made and model.made == made
        assert all(a < b for a, b in zip(starts, starts[1:]))
        assert starts[-1] >= made + timedelta(hours=23) and starts[-1] < made + timedelta(hours=24)
        assert {n: lp.contract for n, lp in model.loads.items()} == CONTRACTS
        for name, lp in model.loads.items():
            assert lp.text, f"{name}: no words for the plan at {made}"
            if name in TANKS:
                assert lp.need_kwh is not None and 0 <= lp.need_kwh <= 10.0


def test_every_run_has_a_reason_and_its_numbers(house):
    seen = set()
    for made, plan in house.house.plans:
        total = 0.0
        for name, lp in plan["loads"].items():
            for run in lp["runs"]:
                assert run["code"] in RUN_CODES, run
                seen.add(run["code"])
                assert run["kwh"] >= 0 and run["cost"] >= -1e-9
                if name != ZONE:
                    assert run["kwh"] > 0, f"{name}: an empty run {run}"
                total += run["cost"]
        assert plan["cost"] == pytest.approx(total, abs=0.01 + 0.005 * len(plan["loads"]) * 4)
    assert {"planned:cheap", "planned:run"} <= seen


def _covered(house, name: str) -> np.ndarray:
    """Per minute: does the plan published last before it show a run of `name` then?"""
    plans = house.house.plans
    made = [t for t, _ in plans]
    out = np.zeros(house.exo.n, dtype=bool)
    for k in range(house.exo.n):
        t = house.exo.time(k) + timedelta(seconds=30)  # the middle of the minute
        j = bisect.bisect_right(made, t) - 1
        if j >= 0:
            out[k] = any(r["start"] <= t < r["end"] for r in plans[j][1]["loads"][name]["runs"])
    return out


# the relay agent's limits (minimum on/off times, one start per settle_s) always win over
# any plan: a minute they hold the pump is not the plan's disagreement
RELAY_HOLDS = ("waiting:min_off", "waiting:start_gap", "holding:min_on", "holding:min_off")


def pool_agreement(house, excused: tuple[str, ...]) -> tuple[int, int]:
    """(planned minutes the pool kept, planned minutes): kept = running, or held by a reason
    in `excused` (the big-load cap, 'queued', always: the cap is a promise)."""
    pool_plan = _covered(house, POOL)
    pool_on = house.trace.load_w[POOL] > 0
    held = np.isin(house.codes(POOL), ("queued",) + excused)
    return int((pool_plan & (pool_on | held)).sum()), int(pool_plan.sum())


def test_the_loads_then_do_what_the_plan_said(house):
    """The pool pump runs when its plan shows a run (unless the big-load cap is full or the
    relay agent holds it), and not otherwise; a heater's planned:cheap permission is inside
    a run the plan showed."""
    pool_on = house.trace.load_w[POOL] > 0
    assert pool_on.sum() >= 2 * 5 * 60
    kept, planned = pool_agreement(house, RELAY_HOLDS)
    assert kept >= 0.95 * planned, f"the pool did not run in {planned - kept} of {planned} planned minutes"
    assert (pool_on & ~_covered(house, POOL)).sum() <= 0.05 * pool_on.sum(), "the pool ran outside its plan"
    for name in TANKS:
        planned = np.isin(house.codes(name), ["planned:cheap"]) & house.trace.permit[name]
        assert planned.sum() >= 30
        inside = (planned & _covered(house, name)).sum()
        assert inside >= 0.95 * planned.sum(), f"{name}: {planned.sum() - inside} min permitted outside the plan"
