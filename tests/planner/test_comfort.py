"""The sheddable heat pump's comfort contract on the simulated house: with the room
temperature its thermostat reports, the room stays inside its band (66-79 F) while the
planner sheds it out of dear hours; no shed outlives max_off_h."""
from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from sim.simulate.kpi import longest_run

from .harness import ZONE, house_cfg, simulate, world


def shed(r) -> np.ndarray:
    """Minutes the thermostat was held off (by the plan or by the big-load queue)."""
    return ~r.trace.permit[ZONE]


def outside_band(r) -> int:
    z = r.spec.sheddable
    c = r.trace.zone_c
    return int(((c < z.comfort_min_c) | (c > z.comfort_max_c)).sum())


@pytest.fixture(scope="module", params=[date(2025, 1, 7), date(2025, 7, 7)], ids=["winter", "summer"])
def with_room_temperature(request):
    cfg, spec, exo = world(house_cfg(), request.param, 2)
    return simulate(cfg, spec, exo)


def test_room_stays_in_its_band_while_shed(with_room_temperature):
    r = with_room_temperature
    planned = (r.codes(ZONE) == "planned:shed") & shed(r)
    assert planned.sum() >= 30, "no planned shed: nothing was tested"
    z = r.spec.sheddable
    assert outside_band(r) == 0, (f"room {r.trace.zone_c.min():.1f}-{r.trace.zone_c.max():.1f} C, "
                                  f"band {z.comfort_min_c:.1f}-{z.comfort_max_c:.1f} C")


def test_no_shed_outlives_max_off_h(with_room_temperature):
    r = with_room_temperature
    limit_min = r.cfg.loads[ZONE].max_off_h * 60
    assert 0 < longest_run(shed(r)) <= limit_min


def test_without_room_temperature_no_shed_outlives_max_off_h():
    """A thermostat that reports no indoor temperature: the band cannot end a shed, so
    max_off_h must (here in January, when a shed room cools)."""
    cfg, spec, exo = world(house_cfg(), date(2025, 1, 7), 2)
    r = simulate(cfg, spec, exo, indoor=False)
    assert r.house.st.loads[ZONE].indoor_c is None  # the core really saw none
    s = shed(r)
    assert s.sum() >= 30
    assert longest_run(s) <= cfg.loads[ZONE].max_off_h * 60
