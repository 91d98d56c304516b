"""PENDING (not committed): behaviour the planner does not show yet; see
/work/notes/planner-tests.md. Run: .venv/bin/pytest -q tests/planner/pending_holiday.py"""
from __future__ import annotations

from .harness import TANKS
from .test_holiday import independence_day, window  # noqa: F401  (the fixture)


def test_water_is_heated_in_the_holiday_evening_it_would_avoid_on_a_weekday(independence_day):
    def evening_kwh(r):
        return sum(r.kwh(n, window(r, 1, 18, 21)) for n in TANKS)
    with_h, without = evening_kwh(independence_day[True]), evening_kwh(independence_day[False])
    assert with_h >= without + 0.5, f"18-21 on 4 July: {with_h:.2f} kWh as a holiday, {without:.2f} as a weekday"
    for r in independence_day.values():
        assert r.cold_l() == 0.0
