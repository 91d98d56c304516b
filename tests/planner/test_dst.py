"""DST days in America/New_York (spring forward 9 March 2025: a 23 h day; fall back
2 November 2025: a 25 h day): the plan's slots are real time, contiguous, none counted twice
or skipped; the pool's hours are real hours; no promise is broken across the change."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from .harness import POOL, TANKS, house_cfg, simulate, world

SPRING, FALL = date(2025, 3, 9), date(2025, 11, 2)


@pytest.fixture(scope="module", params=[SPRING, FALL], ids=["spring_forward", "fall_back"])
def dst(request):
    """The day before (the planner plans across the change from there) and the DST day."""
    cfg, spec, exo = world(house_cfg(), request.param - timedelta(days=1), 2)
    return request.param, simulate(cfg, spec, exo)


def test_the_day_has_its_real_length(dst):
    day, r = dst
    minutes = int((r.exo.local_day == 1).sum())
    assert minutes == (23 * 60 if day == SPRING else 25 * 60)


def test_plan_slots_are_contiguous_real_time(dst):
    _, r = dst
    pc = r.cfg.scheduler.planner
    assert len(r.house.plan_objs) >= 40  # planned again through both days
    for plan in r.house.plan_objs:
        assert plan.starts[0] == plan.made
        for i in range(len(plan.starts)):
            real_h = (plan.ends[i] - plan.starts[i]).total_seconds() / 3600
            assert plan.dt_h[i] == pytest.approx(real_h) and real_h > 0
            if i:
                assert plan.starts[i] == plan.ends[i - 1], f"gap or overlap at slot {i} of {plan.made}"
        assert sum(plan.dt_h) == pytest.approx(pc.horizon_h)
        for name in TANKS:  # no slot heated for longer than it lasts
            kw = r.cfg.loads[name].hot_water.element_w / 1000
            s = plan.loads[name]
            assert all(k <= kw * h + 1e-6 for k, h in zip(s.kwh, plan.dt_h))


def test_published_runs_neither_overlap_nor_outlast_their_hours(dst):
    _, r = dst
    for made, plan in r.house.plans:
        for name, lp in plan["loads"].items():
            prev_end = made
            for run in lp["runs"]:
                # the plan shows slots starting in the next 24 h; the last may be an hour long
                assert prev_end <= run["start"] < made + timedelta(hours=24) and run["end"] <= made + timedelta(hours=25)
                assert run["start"] < run["end"]
                prev_end = run["end"]
                hours = (run["end"] - run["start"]).total_seconds() / 3600
                if name in TANKS:
                    assert run["kwh"] <= r.cfg.loads[name].hot_water.element_w / 1000 * hours + 0.01
                if name == POOL:
                    assert run["kwh"] == pytest.approx(1.5 * hours, abs=0.01)


def test_pool_hours_are_real_hours_on_the_dst_day(dst):
    day, r = dst
    rt = r.cfg.loads[POOL].runtime
    hours = r.pool_hours()
    assert (hours >= rt.hours - 1 / 60).all() and (hours <= rt.max_hours + 1 / 60).all(), hours
    tz = r.spec.site.tz
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    plan = next(p for p in r.house.plan_objs if p.made >= midnight)  # the first plan of the day
    s = plan.loads[POOL]
    planned = sum(h for h, on, t in zip(plan.dt_h, s.on, plan.starts) if on and t.astimezone(tz).date() == day)
    assert planned == pytest.approx(rt.hours, abs=0.01), f"planned {planned:.2f} h for {day}"


def test_no_promise_broken_across_the_change(dst):
    _, r = dst
    assert r.cold_l() == 0.0
    for name in TANKS:
        assert r.longest_off_h(name) <= r.spec.tanks[name].max_off_h
    assert r.kpis["comfort"]["out_min"] == 0
    assert r.kpis["service_ok"]
