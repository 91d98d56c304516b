"""Hot water on the simulated house: never a cold draw, heat bought where it is cheap, and a
heater never cut off longer than its max_off_h. The planner starts with no history (its
default profile from the tank's size) in every run here."""
from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from .harness import TANKS, house_cfg, no_control, scale_draws, simulate, world

WINTER_WEEK = date(2025, 1, 6)  # a Monday: weekday mornings 06-09 are the on-peak period


@pytest.fixture(scope="module")
def example():
    """Three January days of the example house, planned and uncontrolled, on the same world."""
    cfg, spec, exo = world(house_cfg(), WINTER_WEEK, 3)
    return simulate(cfg, spec, exo), no_control(spec, exo)


def test_cold_start_no_cold_draw_and_no_heater_off_past_its_limit(example):
    r, _ = example
    assert r.house.learned["water_heater_north"][0] == pytest.approx(1.0)  # nothing learned at start
    for name in TANKS:
        assert r.cold_l(name) == 0.0, f"{name}: {r.cold_l(name):.1f} L left the tank below 45 C"
        max_off = r.spec.tanks[name].max_off_h
        assert r.longest_off_h(name) <= max_off, f"{name} off {r.longest_off_h(name):.2f} h > {max_off} h"


def test_heat_is_bought_off_peak(example):
    """Compared with the heaters' own thermostats (always permitted), the planner moves the
    morning reheat out of the 06-09 winter peak and pays less per kWh of hot water."""
    r, nc = example
    peak = r.peak_mask()
    price = r.prices.import_per_kwh
    plan_kwh = sum(r.kwh(n) for n in TANKS)
    plan_peak = sum(r.kwh(n, peak) for n in TANKS)
    nc_w = sum(nc.load_w[n] for n in TANKS)
    nc_kwh, nc_peak = nc_w.sum() / 60000, nc_w[peak].sum() / 60000
    assert nc_peak > 2.0  # the uncontrolled house does reheat in the peak: the test can fail
    assert plan_peak <= 0.25 * nc_peak, f"planner {plan_peak:.1f} kWh in the peak, no control {nc_peak:.1f}"
    assert plan_peak <= 0.1 * plan_kwh
    plan_w = sum(r.trace.load_w[n] for n in TANKS)
    plan_price = float((plan_w * price).sum() / plan_w.sum())
    nc_price = float((nc_w * price).sum() / nc_w.sum())
    assert plan_price <= nc_price - 0.01, f"{plan_price:.3f} vs {nc_price:.3f} per kWh"
    assert abs(plan_kwh - nc_kwh) < 0.25 * nc_kwh  # the same hot water, not less of it


def test_a_heavy_household_from_a_cold_start_gets_no_cold_draw():
    """Twice the example's hot water from the first minute, with no history: the default
    profile under-predicts it, and the tanks must still never run cold."""
    cfg, spec, exo = world(house_cfg(), WINTER_WEEK, 2)
    scale_draws(exo, 2.0)
    nc = no_control(spec, exo)
    assert all(nc.cold_l[n].sum() == 0 for n in TANKS)  # an always-on heater copes: it is possible
    r = simulate(cfg, spec, exo)
    for name in TANKS:
        assert r.cold_l(name) == 0.0, f"{name}: {r.cold_l(name):.1f} L cold"


def test_a_tank_barely_used_is_still_heated_before_its_max_off_h():
    """A holiday home: almost no water drawn, so nothing calls for heat; the heater must
    still be permitted at least every max_off_h (set to 8 h here to see it within 2 days)."""
    cfg, spec, exo = world(house_cfg({"loads": {n: {"max_off_h": 8} for n in TANKS}}), WINTER_WEEK, 2)
    scale_draws(exo, 0.05)
    r = simulate(cfg, spec, exo)
    for name in TANKS:
        off = ~r.trace.permit[name]
        assert off.any() and r.trace.permit[name].any()
        assert r.longest_off_h(name) <= 8.0, f"{name} off {r.longest_off_h(name):.2f} h"
        assert r.cold_l(name) == 0.0
    # it was not simply left on: off for much of the time, and never permitted in the peak
    # beyond what its limit forces (runs planned for the default profile, at cheap hours,
    # find the tank full and idle: they cost nothing)
    assert np.mean([(~r.trace.permit[n]).mean() for n in TANKS]) > 0.4
    peak = r.peak_mask()
    assert np.mean([r.trace.permit[n][peak].mean() for n in TANKS]) < 0.2
