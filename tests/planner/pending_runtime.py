"""PENDING (not committed): behaviour the planner does not show yet; see
/work/notes/planner-tests.md. Run: .venv/bin/pytest -q tests/planner/pending_runtime.py"""
from __future__ import annotations

from datetime import datetime, timedelta

from services.scheduler import model as m

from .harness import POOL, house_cfg, minute_of, simulate, world
from .test_runtime import SUMMER_WEEK


def test_hours_made_up_after_an_override_stay_out_of_the_peak():
    """The OFF of test_a_users_two_hour_off_is_made_up_the_same_day: the plan puts the last
    hour at 21:00-22:00 (the end of the pool_day window), then needed:runtime fires
    margin_min (15 min) earlier than that plan, inside the 18-21 peak."""
    cfg, spec, exo = world(house_cfg(), SUMMER_WEEK, 2)
    tz = spec.site.tz
    k = minute_of(exo, datetime(2025, 7, 8, 12, 0, tzinfo=tz))
    until = exo.time(k + 1) + timedelta(hours=2)
    r = simulate(cfg, spec, exo, events={k: [m.Override("load", POOL, "off", until, "test")]})
    on_peak = (r.trace.load_w[POOL] > 0) & r.peak_mask()
    assert not on_peak.any(), f"the pool pump ran {on_peak.sum()} min in the peak"
