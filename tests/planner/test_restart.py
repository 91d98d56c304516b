"""A restart of the scheduler in the middle of a plan: its state saved as the service saves
it (services/scheduler/store.py, through JSON), a fresh core built from the same config,
the state restored. What it learned is kept, the water drawn while it was down is counted,
and the relays do not switch more in the hour after than they would have without it."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from services.scheduler import store
from services.scheduler.policy import new_state

from .harness import TANKS, ZONE, Restart, day_start, house_cfg, minute_of, simulate, world

@pytest.fixture(scope="module")
def runs():
    cfg, spec, exo = world(house_cfg(), date(2025, 1, 6), 2)
    ref = simulate(cfg, spec, exo)
    heater, a, b = longest_planned_run(ref, day_start(exo, 1))
    assert b - a >= 10, "no planned heating to restart in"
    restart = Restart((a + b) // 2)  # in the middle of it
    return ref, simulate(cfg, spec, exo, restart=restart), restart, heater


def longest_planned_run(r, since: int) -> tuple[str, int, int]:
    """(heater, first minute, end) of the longest stretch a heater heated (its element
    drawing power) in a planned run (planned:cheap or planned:solar) from minute `since` on."""
    best = ("", 0, 0)
    for name in TANKS:
        on, codes = r.trace.load_w[name] > 0, r.codes(name)
        k = since
        while k < r.exo.n:
            if on[k] and codes[k] in ("planned:cheap", "planned:solar"):
                e = k
                while e < r.exo.n and on[e]:
                    e += 1
                if e - k > best[2] - best[1]:
                    best = (name, k, e)
                k = e
            k += 1
    return best


def test_what_was_learned_is_kept(runs):
    _, _, rs, _ = runs
    before, after = rs.before, rs.after
    assert any("learned hot-water use restored" in n for n in rs.notes)
    for name in TANKS:
        b, a = before.tanks[name], after.tanks[name]
        assert b.intervals >= 2  # it had learned something to lose
        assert a.level == pytest.approx(b.level, abs=1e-4)
        assert a.spread == pytest.approx(b.spread, abs=1e-4)
        assert a.intervals == b.intervals
        assert np.allclose(a.profile, b.profile, atol=1e-4)
        assert a.deficit_kwh == pytest.approx(b.deficit_kwh, abs=1e-3)
    assert after.clearness.usual == pytest.approx(before.clearness.usual, abs=1e-4)
    assert after.clearness.days_seen == before.clearness.days_seen >= 1
    assert np.allclose(after.baseline.base_w, before.baseline.base_w, atol=1.0)


def test_no_cold_draw_and_no_chatter_at_the_restart(runs):
    ref, r, rs, heater = runs
    assert r.cold_l() == 0.0
    for name in TANKS:
        assert r.longest_off_h(name) <= r.spec.tanks[name].max_off_h
    at = rs.at
    assert (r.trace.load_w[heater][at - 3:at] > 0).all()  # restarted while it heated
    for name in r.spec.controllable:  # switch operations in the hour after the restart
        ops = int(np.abs(np.diff(r.trace.permit[name][at - 1:at + 60].astype(int))).sum())
        ref_ops = int(np.abs(np.diff(ref.trace.permit[name][at - 1:at + 60].astype(int))).sum())
        assert ops <= ref_ops + 1, f"{name}: {ops} switch operations after the restart, {ref_ops} without it"


def test_water_drawn_while_down_is_counted(runs):
    """Saved, then restored 3 h later: the deficit grows by the use the planner expects in
    those hours (it cannot have seen it), not by nothing."""
    ref = runs[0]
    st, now = ref.house.st, ref.exo.end
    saved = json.loads(json.dumps(store.dump(st, now)))
    later = now + timedelta(hours=3)
    fresh = new_state(ref.cfg, later)
    store.restore(fresh, saved, later)
    for name in TANKS:
        old, new = st.planner.tanks[name], fresh.planner.tanks[name]
        expected = old.level * sum(old.profile) / len(old.profile) * 3  # kWh in 3 h, on average
        assert new.deficit_kwh == pytest.approx(min(old.full_kwh, old.deficit_kwh + expected), rel=0.02)
        assert new.cautious_kwh >= new.deficit_kwh
    fresh_again = new_state(ref.cfg, now)  # restored at once: nothing added
    store.restore(fresh_again, saved, now)
    for name in TANKS:
        assert fresh_again.planner.tanks[name].deficit_kwh == pytest.approx(st.planner.tanks[name].deficit_kwh,
                                                                             abs=1e-3)


def test_a_restart_in_the_afternoon_does_not_shed_the_heat_pump_again(runs):
    """Tuesday 7 January 2025 13:00, the room recovering after a shed (needed:comfort for
    guarantee_min): a fresh core starts with every load unknown and its start gap; the
    thermostat must not be held off and released more than without the restart."""
    ref = runs[0]
    at = minute_of(ref.exo, datetime(2025, 1, 7, 13, 0, tzinfo=ref.spec.site.tz))
    r = simulate(ref.cfg, ref.spec, ref.exo, restart=Restart(at))

    def changes(res):
        return int(np.abs(np.diff(res.trace.permit[ZONE][at - 1:at + 60].astype(int))).sum())
    assert changes(r) <= changes(ref) + 1, f"{changes(r)} shed changes in the hour after, {changes(ref)} without"
    assert r.kpis["comfort"]["out_min"] == 0
