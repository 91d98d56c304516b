"""The pool pump's daily runtime contract on the simulated house (July, with sun): its hours
every day, never above its ceiling, where they are cheapest; a user's OFF made up that day."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from services.scheduler import model as m

from .harness import POOL, house_cfg, minute_of, simulate, world

SUMMER_WEEK = date(2025, 7, 7)  # a Monday: weekday evenings 18-21 are the on-peak period
TOL_H = 1 / 60  # a minute, as the KPIs count


@pytest.fixture(scope="module")
def summer():
    cfg, spec, exo = world(house_cfg(), SUMMER_WEEK, 3)
    return simulate(cfg, spec, exo)


def test_target_met_every_day_and_never_above_the_ceiling(summer):
    rt = summer.cfg.loads[POOL].runtime
    hours = summer.pool_hours()
    assert len(hours) == 3
    assert (hours >= rt.hours - TOL_H).all(), f"pool ran {hours.round(2)} h, target {rt.hours} h"
    assert (hours <= rt.max_hours + TOL_H).all(), f"pool ran {hours.round(2)} h, ceiling {rt.max_hours} h"


def test_runs_on_sunshine_and_never_in_the_peak(summer):
    """A 1.5 kW pump in a 5 kW array's midday: its hours go where the sun pays for them."""
    spec, exo = summer.spec, summer.exo
    on = summer.trace.load_w[POOL] > 0
    assert not (on & summer.peak_mask()).any(), "the pool pump ran in the on-peak period"
    sunny = exo.pv_w >= spec.pool.watts
    share = (on & sunny).sum() / on.sum()
    assert share >= 0.75, f"only {share:.0%} of the pool's minutes had the sun to cover it"


def test_a_users_two_hour_off_is_made_up_the_same_day():
    cfg, spec, exo = world(house_cfg(), SUMMER_WEEK, 2)
    tz = spec.site.tz
    k = minute_of(exo, datetime(2025, 7, 8, 12, 0, tzinfo=tz))  # Tuesday noon, a planned run
    until = exo.time(k + 1) + timedelta(hours=2)
    r = simulate(cfg, spec, exo, events={k: [m.Override("load", POOL, "off", until, "test")]})
    assert r.trace.permit[POOL][k - 30:k].any()  # it was running (or about to) when stopped
    during = r.trace.load_w[POOL][k + 2:k + 121]  # the relay acts from the next minute on
    assert not (during > 0).any(), "the pool pump ran during the user's OFF"
    rt = cfg.loads[POOL].runtime
    hours = r.pool_hours()
    assert hours[1] >= rt.hours - TOL_H, f"only {hours[1]:.2f} h on the day of the override"
    assert hours[1] <= rt.max_hours + TOL_H
    after = np.zeros(exo.n, dtype=bool)
    after[k + 121:] = exo.local_day[k + 121:] == 1
    assert (r.trace.load_w[POOL][after] > 0).sum() >= 110  # the two hours came back after it
