"""A dynamic tariff fed on the price topic (tariff.price_topic: true), e.g. from Node-RED: the
planner moves heat into the series' cheap points, and the household's bill under that
tariff is lower than if the planner had kept planning on the configured periods."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pytest

from circuitq import payloads as p
from circuitq.tariff import SeriesPoint, from_config
from services.scheduler import model as m
from services.scheduler.planner.inputs import price_points
from sim.simulate import kpi
from sim.simulate.prices import prices

from .harness import TANKS, house_cfg, simulate, world

START, DAYS = date(2025, 1, 7), 2
CHEAP_HOURS = ((2, 4), (13, 15))  # local hours at the cheap price
CHEAP, DEAR = 0.05, 0.30


def series(tz) -> p.PriceSeries:
    """Hourly points for the run and the day after, as a user's flow would publish them."""
    pts = []
    for d in range(DAYS + 1):
        for h in range(24):
            s = datetime.combine(START + timedelta(days=d), time(h), tzinfo=tz)
            cheap = any(a <= h < b for a, b in CHEAP_HOURS)
            pts.append(p.PricePoint(start=s, end=s + timedelta(hours=1),
                                    import_per_kwh=CHEAP if cheap else DEAR))
    return p.PriceSeries(points=pts)


@pytest.fixture(scope="module")
def runs():
    cfg, spec, exo = world(house_cfg({"tariff": {"price_topic": True}}), START, DAYS)
    ps = series(spec.site.tz)
    # what the service does with a message on circuitq/tariff/price: validate, then decide
    ev = m.PriceSeries(price_points(ps, exo.time(1), cfg.tariff.price_series_max_h))
    fed = simulate(cfg, spec, exo, events={0: [ev]})
    unfed = simulate(cfg, spec, exo)
    billed = from_config(cfg)  # the household's bill: the series wins where it has points
    billed.set_series([SeriesPoint(*pt) for pt in ev.points])
    return fed, unfed, prices(billed, exo)


def cheap_minutes(r) -> np.ndarray:
    hour = r.exo.local_min // 60
    return np.logical_or.reduce([(hour >= a) & (hour < b) for a, b in CHEAP_HOURS])


def test_the_plan_shows_the_series(runs):
    fed, unfed, _ = runs
    shown = {s["import_per_kwh"] for _, plan in fed.house.plans[1:] for s in plan["slots"]}
    assert shown == {CHEAP, DEAR}
    assert CHEAP not in {s["import_per_kwh"] for _, plan in unfed.house.plans for s in plan["slots"]}


def tank_share(r) -> float:
    """Share of the tanks' heat bought in the cheap points."""
    cheap = cheap_minutes(r)
    return sum(r.kwh(n, cheap) for n in TANKS) / sum(r.kwh(n) for n in TANKS)


def test_heat_moves_into_the_cheap_points(runs):
    fed, unfed, _ = runs
    time_share = sum(b - a for a, b in CHEAP_HOURS) / 24  # 4 h of 24
    assert tank_share(fed) > time_share, f"{tank_share(fed):.0%} of the tanks' heat in the cheap points"
    assert tank_share(fed) >= 2 * tank_share(unfed) + 0.05
    assert fed.cold_l() == 0.0
    assert fed.kpis["pool"]["days_met"] == DAYS and fed.kpis["pool"]["days_over"] == 0


def test_the_bill_under_the_dynamic_tariff_is_lower(runs):
    fed, unfed, billed = runs
    cost_fed = kpi.kpis(fed.trace, fed.spec, fed.exo, billed)["cost"]
    cost_unfed = kpi.kpis(unfed.trace, unfed.spec, unfed.exo, billed)["cost"]
    assert cost_fed < cost_unfed, f"{cost_fed:.2f} with the series, {cost_unfed:.2f} without"
