"""A cloudy spell after sunny days (July): the planner stops counting on the sun it learned
to expect and breaks no promise."""
from __future__ import annotations

from datetime import date

import pytest

from .harness import TANKS, ZONE, day_start, house_cfg, scale_pv, simulate, world

SUNNY_DAYS, DAYS = 2, 5
CLOUD = 0.15  # the array makes 15 % of what the sky would have given it


@pytest.fixture(scope="module")
def spell():
    cfg, spec, exo = world(house_cfg(), date(2025, 7, 7), DAYS)
    scale_pv(exo, CLOUD, day_start(exo, SUNNY_DAYS))
    return simulate(cfg, spec, exo)


def test_no_promise_broken(spell):
    r = spell
    k = r.kpis
    assert r.cold_l() == 0.0
    for name in TANKS:
        assert r.longest_off_h(name) <= r.spec.tanks[name].max_off_h
    pool = k["pool"]
    assert pool["days_met"] == DAYS and pool["days_over"] == 0, pool
    assert k["comfort"]["out_min"] == 0, k["comfort"]
    assert k["service_ok"]
    assert r.house.st.loads[ZONE].indoor_c is not None


def shares(r, days):  # (the pending tests use it: heat moving to the discount, heat on the sun)
    """Share of the tanks' heat bought in the night discount, and made while the sun
    covered most of an element (PV >= 3 kW), over the given local days."""
    mask = sum((r.exo.local_day == d) for d in days).astype(bool)
    total = sum(r.kwh(n, mask) for n in TANKS)
    disc = sum(r.kwh(n, mask & r.period_mask("discount")) for n in TANKS)
    sun = sum(r.kwh(n, mask & (r.exo.pv_w >= 3000)) for n in TANKS)
    return disc / total, sun / total


def test_what_it_learned_of_the_sky(spell):
    cl = spell.house.st.planner.clearness
    assert cl.days_seen == DAYS  # each day closed by the first reading of the next
    assert cl.usual < 0.5, f"after three cloudy days it still expects {cl.usual:.0%} of clear sky"
