"""A public holiday on a weekday is priced as a weekend (tariff.holidays, the `holidays`
library for site.country/subdivision): no on-peak period, so the planner does not avoid the
hours it avoids on a working day. With `tariff.holidays: false` it prices and plans the day
as any weekday."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from .harness import ZONE, house_cfg, simulate, world

PEAK, OFF_PEAK = 0.27, 0.13  # config/example.yaml


def run(start: date, days: int, holidays: bool):
    cfg, spec, exo = world(house_cfg({"tariff": {"holidays": holidays}}), start, days)
    return simulate(cfg, spec, exo)


def window(r, day: int, a_h: int, b_h: int):
    lm = r.exo.local_min
    return (r.exo.local_day == day) & (lm >= a_h * 60) & (lm < b_h * 60)


def plan_prices(r, day: date, a_h: int, b_h: int) -> set[float]:
    """Import prices the published plans show for local hours [a_h, b_h) of `day`."""
    tz = r.spec.site.tz
    out = set()
    for _, plan in r.house.plans:
        for s in plan["slots"]:
            loc = s["start"].astimezone(tz)
            if loc.date() == day and a_h <= loc.hour < b_h:
                out.add(s["import_per_kwh"])
    return out


@pytest.fixture(scope="module")
def independence_day():
    """Thursday 3 and Friday 4 July 2025 (a US holiday), with and without holidays."""
    return {h: run(date(2025, 7, 3), 2, h) for h in (True, False)}


def test_the_plan_prices_the_fourth_of_july_evening_as_a_weekend(independence_day):
    with_h, without = independence_day[True], independence_day[False]
    assert plan_prices(with_h, date(2025, 7, 4), 18, 21) == {OFF_PEAK}
    assert plan_prices(without, date(2025, 7, 4), 18, 21) == {PEAK}
    for r in (with_h, without):  # Thursday is a working day either way
        assert plan_prices(r, date(2025, 7, 3), 18, 21) == {PEAK}
        assert set(r.prices.import_per_kwh[window(r, 0, 18, 21)]) == {PEAK}


@pytest.mark.parametrize("holidays", [True, False])
def test_no_price_shed_on_a_holiday_morning(holidays):
    """Martin Luther King Jr. Day, Monday 20 January 2025: winter weekday mornings 06-09 are
    on-peak, and the planner sheds the heat pump out of them (the room can coast); on the
    holiday there is nothing to wait out."""
    r = run(date(2025, 1, 20), 1, holidays)
    morning = window(r, 0, 6, 9)
    planned_shed = (r.codes(ZONE) == "planned:shed") & ~r.trace.permit[ZONE] & morning
    assert plan_prices(r, date(2025, 1, 20), 6, 9) == ({OFF_PEAK} if holidays else {PEAK})
    if holidays:
        assert planned_shed.sum() == 0, f"shed {planned_shed.sum()} min for price on a holiday"
    else:
        assert planned_shed.sum() >= 15  # the same morning as a working day: shed for price
    assert r.kpis["comfort"]["out_min"] == 0
    tz = r.spec.site.tz
    assert r.exo.time(0) == datetime(2025, 1, 20, tzinfo=tz)
