"""Rule 6: off at most N hours (early alert naming the cause, then forced at the top of the
queue) and a daily runtime target planned backwards from the end of its window."""

from datetime import timedelta

import pytest

from services.scheduler import model as m

from .harness import Sim, at, config, observed, relay

WHN, POOL = "water_heater_north", "pool_pump"
START = at("2026-07-01T00:00")
CALS = {"night": [{"start": "23:00", "end": "07:00"}],
        "peak": [{"start": "14:00", "end": "19:00"}],
        "pool_day": [{"start": "08:00", "end": "20:00"}],
        "solar_hours": [{"start": "08:00", "end": "16:00"}]}


def test_max_off_warns_naming_the_blocker_then_forces_on_at_the_top_of_the_queue():
    cfg = config({"kitchen": observed(100, 4000), WHN: relay(50, max_off_h=20, warn_before_h=3,
                                                               guarantee_min=60, min_off_s=300)},
                 scheduler={"calendars": CALS})
    sim = Sim(cfg, START)
    sim.demand = {WHN: 4500}
    sim.observed["kitchen"] = 6000  # a kitchen that never stops (a stuck element, a party)
    sim.run(60)
    assert not sim.permitted(WHN)
    sim.run(16.5 * 3600)
    assert not [a for a in sim.alerts() if a.key == "starved:water_heater_north"]
    sim.run(1 * 3600)  # 17.5 h: warned, naming the queue and the kitchen
    alert = next(a for a in sim.alerts() if a.key == "starved:water_heater_north")
    assert "limit 20 h" in alert.message and "queued" in alert.message and "kitchen" in alert.message
    sim.run(2.45 * 3600)
    assert not sim.permitted(WHN)
    sim.run(0.1 * 3600)  # past 20 h: permitted although the kitchen still runs
    assert sim.permitted(WHN) and sim.code(WHN) == "forced:guarantee"
    on_at = sim.relay_switches(WHN)[-1][0]
    assert (on_at - START).total_seconds() <= 20 * 3600 + 60
    sim.run(50 * 60)
    assert sim.permitted(WHN)  # it runs at least guarantee_min
    sim.run(30 * 60)
    assert not sim.permitted(WHN)
    assert any(a.resolved for a in sim.alerts() if a.key == "starved:water_heater_north")


def test_guarantee_beats_a_block_window():
    cfg = config({WHN: relay(50, max_off_h=2, warn_before_h=1, block=["night"])},
                 scheduler={"calendars": CALS})
    sim = Sim(cfg, at("2026-07-01T22:00"))
    sim.demand = {WHN: 4500}
    sim.run(3600 * 3.5)
    codes = [c.message for _, c in sim.cmds(m.ActivityLine)]
    assert any("forced:guarantee" in c for c in codes)
    assert [s for _, s in sim.relay_switches(WHN)][:3] == ["on", "off", "on"]


def test_daily_runtime_is_met_before_the_window_ends_even_without_sun():
    pool = relay(10, runtime={"hours": 4, "window": "pool_day", "margin_min": 15}, block=["peak"],
                 only=["pool_day"],
                 solar={"window": "solar_hours", "threshold_w": 3000}, min_on_s=900, min_off_s=600)
    cfg = config({POOL: pool}, scheduler={"calendars": CALS})
    sim = Sim(cfg, START, solar=500)  # a dark day: the solar gate never opens
    sim.demand = {POOL: 1500}
    sim.run_until(at("2026-07-01T20:00"))
    lt = sim.st.loads[POOL]
    switches = sim.relay_switches(POOL)
    ons = [t for t, s in switches if s == "on"]
    # free time in 08:00-20:00 minus peak 14-19 is 7 h; 4 h + 15 min margin -> start by 10:45
    assert ons and ons[0] <= at("2026-07-01T10:46")
    assert any("forced:runtime" in a for a in sim.activity())
    assert lt.runtime_day.isoformat() == "2026-07-01"
    # the target was met inside the window: at 20:00 it had run >= 4 h
    assert sim.st.loads[POOL].runtime_s >= 4 * 3600 - 60


def test_daily_runtime_prefers_sun_and_is_not_forced_when_solar_suffices():
    pool = relay(10, runtime={"hours": 3, "window": "pool_day"}, block=["peak"], only=["pool_day"],
                 solar={"window": "solar_hours", "threshold_w": 3000})
    cfg = config({POOL: pool}, scheduler={"calendars": CALS})
    sim = Sim(cfg, at("2026-07-01T07:00"), solar=6000)
    sim.demand = {POOL: 1500}
    sim.run_until(at("2026-07-01T20:00"))
    assert sim.st.loads[POOL].runtime_s >= 3 * 3600
    assert not any("forced:runtime" in a for a in sim.activity())


def test_daily_runtime_in_an_all_day_window_is_met_by_midnight():
    # runtime window "every hour of the day" (start == end): the deadline is the end of the
    # local day the runtime counts for, not "no end" (which never forced it)
    pool = relay(10, runtime={"hours": 4, "window": "always", "margin_min": 15})
    cfg = config({"kitchen": observed(100, 4000), POOL: pool},
                 scheduler={"calendars": {"always": [{"start": "00:00", "end": "00:00"}]}})
    sim = Sim(cfg, START)
    sim.observed["kitchen"] = 6000  # the queue never frees up: only the plan can start it
    sim.demand = {POOL: 1500}
    sim.run_until(at("2026-07-01T23:59:30"))
    assert sim.st.loads[POOL].runtime_s >= 4 * 3600 - 120
    ons = [t for t, s in sim.relay_switches(POOL) if s == "on"]
    assert ons and ons[0] <= at("2026-07-01T19:46")


@pytest.mark.parametrize("south_first", [False, True])  # config order does not decide, priority does
def test_two_guarantees_due_at_once_do_not_start_in_the_same_pass(south_first):
    # both heaters were kept off by the same kitchen: both reach 20 h at the same second.
    # 2 x 4.5 kW switched together on top of the kitchen is what the start gap prevents.
    whs = "water_heater_south"
    heaters = {WHN: relay(50, max_off_h=20, nominal_w=4500), whs: relay(40, max_off_h=20, nominal_w=4500)}
    if south_first:
        heaters = dict(reversed(heaters.items()))
    cfg = config({"kitchen": observed(100, 4000), **heaters},
                 scheduler={"max_running": 2, "max_w": 10000, "settle_s": 120})
    sim = Sim(cfg, START)
    sim.demand = {WHN: 4500, whs: 4500}
    sim.observed["kitchen"] = 6000
    sim.run(20 * 3600 + 600)
    on = {n: [t for t, s in sim.relay_switches(n) if s == "on"][0] for n in (WHN, whs)}
    assert on[WHN] == START + timedelta(hours=20)  # the higher priority first, on time
    assert on[whs] - on[WHN] >= timedelta(seconds=120)  # the other one settle_s later
    assert on[whs] - START <= timedelta(hours=20, seconds=121)
    assert sim.code(whs) == "forced:guarantee"


def test_runtime_counts_permitted_time_when_the_pumps_circuit_has_no_reading():
    # the pump's CT is dead (or its circuit misnamed): Curb is fresh but never reports it. As
    # when Curb is stale, permitted time counts; before, the target was never met and the
    # pump stayed forced to the end of its window every day.
    pool = relay(10, runtime={"hours": 2, "window": "pool_day", "margin_min": 15})
    cfg = config({"kitchen": observed(100, 4000), POOL: pool}, scheduler={"calendars": CALS})
    sim = Sim(cfg, START)
    sim.observed["kitchen"] = 6000  # the queue never frees up: only the plan starts it
    sim.run_until(at("2026-07-01T19:50"))
    assert sim.st.loads[POOL].power_w is None
    assert sim.st.loads[POOL].runtime_s >= 2 * 3600 - 120
    assert sim.code(POOL) != "forced:runtime"  # target met: no longer forced


HP = "heat_pump_south"
THERMO = {"kind": "thermostat", "thermostat": HP, "priority": 80, "running_w": 300, "debounce_s": 0}


@pytest.mark.parametrize("forced_priority, hp_shed", [(None, True), (60, False)])
def test_forced_priority_lets_a_runtime_target_yield_to_comfort_but_not_to_lesser_loads(forced_priority, hp_shed):
    """The pool pump's runtime target goes to the top of the queue by default; with
    forced_priority it outranks the water heater (50) but not the heat pump (80)."""
    pool = relay(10, runtime={"hours": 4, "window": "pool_day", "margin_min": 15},
                 forced_priority=forced_priority)
    cfg = config({HP: THERMO, WHN: relay(50), POOL: pool}, scheduler={"calendars": CALS})
    sim = Sim(cfg, START, solar=500)
    sim.demand = {HP: 2000, WHN: 4500, POOL: 1500}  # all three want to run all day
    sim.run_until(at("2026-07-01T16:00"))  # 08:00-20:00 window, 4 h + 15 min: forced from 15:45
    assert (sim.code(POOL) == "forced:runtime") is hp_shed
    assert sim.permitted(HP) is not hp_shed
    assert not sim.permitted(WHN)  # lesser: yields to the pump either way, or to the heat pump
    if not hp_shed:
        assert sim.code(POOL) == "queued" and "needs" in sim.st.loads[POOL].text \
            and "heat_pump_south" in sim.st.loads[POOL].text
    sim.demand[HP] = 0  # the thermostat is satisfied: the pump's need comes before the heater
    sim.run(600)
    assert sim.permitted(POOL) and sim.code(POOL) == "forced:runtime" and not sim.permitted(WHN)
