"""The baselines behave as their rules say, through the same physics."""
from __future__ import annotations

import numpy as np
import pytest

from circuitq.config import load_config
from sim.simulate.build import build, with_site
from sim.simulate.cli import CIRCUITQUEUEING
from sim.simulate.policies import CoreController, NoControl, Permits
from sim.simulate.runner import run

DAYS = 3


@pytest.fixture(scope="module")
def world(house_cfg):
    return build(house_cfg, "greensboro", 2025, 1, DAYS, seed=1)  # Jan: weekday 06-09 CQ peak


def test_no_control_everything_on_and_the_pool_on_its_own_clock(world):
    cfg, spec, exo = world
    ctl = NoControl(spec, exo)
    ctl.name = "no_control"
    tr = run(ctl, spec, exo)
    for name in spec.tanks:
        assert tr.permit[name].all()
    assert np.array_equal(tr.permit[spec.pool.load], exo.pool_timer)
    hours = np.bincount(exo.local_day, weights=(tr.load_w[spec.pool.load] > 0)) / 60
    assert np.allclose(hours, spec.pool.hours)  # its timer's block, every day
    on = np.flatnonzero(exo.pool_timer)
    assert exo.local_min[on].min() == spec.pool.timer_start_min
    assert tr.permit[spec.sheddable.load].all()  # never shed
    assert all(t["cold_l"] == 0 for t in tr.tank_energy.values())  # tanks always on: no cold water


def test_circuitqueueing_rules_hold_in_the_simulated_house(world):
    """CircuitQueueing: no water heating at night or in peak hours unless forced (its 5 am
    shower, the 20 h guarantee), the north heater on for the weekday shower hour, the pool
    pump never in those hours, the thermostat shed while another big load runs."""
    cfg, spec, exo = world
    cq = with_site(load_config(CIRCUITQUEUEING, env={}), spec.site)
    ctl = CoreController("circuitqueueing", cq, spec, exo)
    tr = run(ctl, spec, exo)
    from sim.simulate.build import calendar_masks
    cal = calendar_masks(cq, exo.t0, exo.n)
    blocked = cal["night"] | cal["peak"]
    lag = np.roll(blocked, 2) & blocked  # the relay follows a minute or two after a boundary
    lag[:10] = False  # boot: relays start on (boot_state) and serve min_on_s before the first off
    for name in ("water_heater_south", "pool_pump"):
        on_when_blocked = tr.permit[name] & lag & ~tr.forced[name]
        assert not on_when_blocked.any(), name
    north = tr.permit["water_heater_north"]
    shower = cal["shower"] & np.roll(cal["shower"], 2)
    assert shower.any() and north[shower].all()  # 5am_shower, weekdays
    assert not (north & lag & ~cal["shower"] & ~tr.forced["water_heater_north"]).any()
    assert (~tr.permit[spec.sheddable.load]).any()  # it did shed the south heat pump at times


def test_permits_are_played_through_the_relay_agent(world):
    cfg, spec, exo = world
    permits = {name: np.ones(exo.n, dtype=bool) for name in spec.controllable}
    permits["water_heater_north"][60:64] = False  # 4 minutes off: shorter than min_off
    permits["water_heater_south"][600:900] = False  # 5 h off
    tr = run(Permits("optimum", cfg, spec, exo, permits), spec, exo)
    south = tr.permit["water_heater_south"]
    assert not south[601:900].any() and south[:600].all() and south[901:].all()
    north = tr.permit["water_heater_north"]
    off = np.flatnonzero(~north)
    # the relay agent holds min_off_s: once off it stays off at least 5 minutes
    assert len(off) >= spec.tanks["water_heater_north"].relay.min_off_s / 60
    with pytest.raises(ValueError, match="permit series"):
        Permits("optimum", cfg, spec, exo, {"water_heater_north": permits["water_heater_north"]})
