"""PENDING (not committed): behaviour the planner does not show yet; see
/work/notes/planner-tests.md. Run: .venv/bin/pytest -q tests/planner/pending_hot_water.py"""
from __future__ import annotations

from datetime import date

import pytest


from .harness import TANKS, house_cfg, no_control, scale_draws, simulate, world
from .test_hot_water import WINTER_WEEK


# the sim's example household (simulation.hot_water 300 L/day at 40 C, shares 0.6 / 0.4) in
# litres of 60 C water a day: 300 x share x (40 - 15) / (60 - 15); given as the first guess so
# that the planner starts from the right level and the doubling is what it must learn
KNOWN_DAILY_L = {"water_heater_north": 100, "water_heater_south": 67}


@pytest.fixture(scope="module")
def doubled():
    """Two January days at the usual use, then the household's use doubles (guests) from
    Wednesday 8 January 2025 00:00, for three days; seed 1."""
    cfg, spec, exo = world(house_cfg({"loads": {n: {"hot_water": {"daily_l": KNOWN_DAILY_L[n]}}
                                                for n in TANKS}}), WINTER_WEEK, 5)
    k2 = int((exo.local_day < 2).sum())
    scale_draws(exo, 2.0, k2)
    return simulate(cfg, spec, exo), no_control(spec, exo), k2, int((exo.local_day < 4).sum())


def test_use_doubles_no_cold_draw(doubled):
    """No water runs cold where the heaters' own thermostats (always permitted) would not."""
    r, nc, _, _ = doubled
    for name in TANKS:
        assert r.cold_l(name) <= float(nc.cold_l[name].sum()), (
            f"{name}: {r.cold_l(name):.0f} L cold, no control {float(nc.cold_l[name].sum()):.0f} L")


def test_use_doubles_learned_within_two_days(doubled):
    """The learned use (Tank.level x its profile, kWh a day) follows within two days."""
    r, _, k2, k4 = doubled
    for name in TANKS:
        learned = r.house.daily_kwh[name]
        before, after = learned[k2], learned[k4]
        assert after >= 1.5 * before, f"{name}: learned {before:.1f} -> {after:.1f} kWh/day in two days"


def test_a_burst_bigger_than_the_reserve_is_reheated_at_once():
    """Monday 10 March 2025 (seed 1): the south heater is permitted 16:17-17:02 but its
    thermostat is satisfied; at 17:17-17:50 the household draws ~245 L at 40 C (7 kWh, more
    than the 60 % reserve). The heater's own thermostat would reheat at once; the planner
    keeps it off (planned:wait, it cannot see the draw) with the tank top at 41 C for hours."""
    cfg, spec, exo = world(house_cfg(), date(2025, 3, 8), 3)
    nc = no_control(spec, exo)
    assert nc.cold_l["water_heater_south"].sum() == 0
    r = simulate(cfg, spec, exo)
    assert r.cold_l("water_heater_south") == 0.0, f"{r.cold_l('water_heater_south'):.1f} L cold"
    top = r.trace.top_c["water_heater_south"]
    assert (top < 45.0).sum() <= 30, f"tank top below 45 C for {(top < 45.0).sum()} min"


def test_a_sunny_july_day_heats_the_tanks_on_the_sun():
    """Tuesday 8 July 2025, clear: the array makes up to ~4 kW from 10:00 to 16:00, about
    14 kWh over a 0.5 kW house; the tanks need ~10 kWh. Most of their heat should come while
    the sun covers most of an element (PV >= 3 kW), not at 08:15 on 600 W of morning sun."""
    from .test_cloudy import shares
    cfg, spec, exo = world(house_cfg(), date(2025, 7, 7), 2)
    r = simulate(cfg, spec, exo)
    _, sun = shares(r, [1])
    assert sun >= 0.3, f"only {sun:.0%} of the tanks' heat on a sunny day came with PV >= 3 kW"
