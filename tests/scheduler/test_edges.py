"""Edge cases a user would notice: a circuit missing from a reading, a user's ON racing a
queue start, next_change of a permitted load."""
import pytest

from services.scheduler import model as m

from .harness import Sim, at, config, observed, relay

WHN, POOL = "water_heater_north", "pool_pump"


def test_a_circuit_missing_from_one_reading_is_not_read_as_zero():
    cfg = config({"kitchen": observed(100, 4000), WHN: relay(50)})
    sim = Sim(cfg, at("2026-07-01T12:00"))
    sim.demand = {WHN: 4500}
    sim.observed["kitchen"] = 6000
    sim.run(600)
    assert not sim.permitted(WHN) and sim.code(WHN) == "queued"
    sim.event(m.Reading({WHN: 0.0}, sim.now))  # the collector dropped the kitchen circuit once
    assert sim.st.loads["kitchen"].running and not sim.permitted(WHN)
    assert sim.st.circuits.get("kitchen") == 6000  # block_when sums see it too


def test_a_circuit_missing_for_longer_than_the_reading_timeout_is_unknown():
    cfg = config({"kitchen": observed(100, 4000), WHN: relay(50)},
                 scheduler={"data": {"reading_timeout_s": 300}})
    sim = Sim(cfg, at("2026-07-01T12:00"))
    sim.demand = {WHN: 4500}
    sim.observed["kitchen"] = 6000
    sim.run(600)
    del sim.observed["kitchen"]  # gone from every reading (a renamed circuit, a dead CT)
    sim.run(240)
    assert not sim.permitted(WHN)
    sim.run(300)  # not seen for longer than reading_timeout_s: no longer assumed running
    assert sim.st.loads["kitchen"].power_w is None and not sim.st.loads["kitchen"].running
    assert sim.permitted(WHN)


def test_a_users_on_takes_its_slot_so_a_queue_start_does_not_stack_on_it():
    # max_running 1, watt budget 5000 W: a user turns the water heater ON half a minute before
    # the pool pump's hours open. The heater draws from the next reading on; the pump must not
    # start meanwhile and then be held on by its minimum run time, over the slot and the budget.
    cfg = config({WHN: relay(50, nominal_w=4500, block=["b"]), POOL: relay(10, only=["day"], min_on_s=900)},
                 scheduler={"max_running": 1, "max_w": 5000,
                            "calendars": {"day": [{"start": "12:00", "end": "18:00"}],
                                          "b": [{"start": "11:00", "end": "13:00"}]}})
    sim = Sim(cfg, at("2026-07-01T11:50:10"))  # readings at hh:mm:10
    sim.demand = {WHN: 4500, POOL: 1500}
    sim.run_until(at("2026-07-01T11:59:30"))
    assert sim.on() == set()
    sim.override(WHN, "on", minutes=60)
    sim.run(600)
    assert sim.on() == {WHN}
    assert sim.code(POOL) == "queued"
    assert not [t for t, s in sim.relay_switches(POOL) if s == "on"]


def test_a_users_on_that_draws_nothing_frees_the_slot_after_the_settle_time():
    cfg = config({WHN: relay(50), POOL: relay(10)}, scheduler={"max_running": 1})
    sim = Sim(cfg, at("2026-07-01T12:00"))
    sim.demand = {WHN: 0, POOL: 1500}  # the heater's thermostat is satisfied
    sim.override(WHN, "on", minutes=120)
    sim.run(600)
    assert sim.permitted(WHN) and sim.permitted(POOL)


def test_a_users_on_counts_as_a_start_so_a_second_start_waits_the_settle_time():
    cfg = config({WHN: relay(50, block=["b"]), POOL: relay(10, only=["day"])},
                 scheduler={"max_running": 2, "settle_s": 120,
                            "calendars": {"day": [{"start": "12:00", "end": "18:00"}],
                                          "b": [{"start": "11:00", "end": "13:00"}]}})
    sim = Sim(cfg, at("2026-07-01T11:50:10"))
    sim.demand = {WHN: 4500, POOL: 1500}
    sim.run_until(at("2026-07-01T11:59:30"))
    sim.override(WHN, "on", minutes=60)
    sim.run(31)  # 12:00:01: the pump's hours opened 90 s after the heater's start
    assert sim.code(POOL) == "waiting:start_gap" and not sim.permitted(POOL)
    sim.run(120)
    assert sim.on() == {WHN, POOL}
    ons = [t for t, s in sim.relay_switches(POOL) if s == "on"]
    assert ons == [at("2026-07-01T12:01:30")]


@pytest.mark.parametrize("start, force, code, change", [
    ("2026-07-01T12:00", [], "permitted", "2026-07-01T14:00"),     # permitted: until peak begins
    ("2026-07-01T15:00", [], "blocked:peak", "2026-07-01T19:00"),  # blocked: until peak ends
    ("2026-07-01T08:00", [], "blocked:outside", "2026-07-01T10:00"),
    ("2026-07-01T13:30", ["shower"], "forced:shower", "2026-07-01T14:30"),  # peak at 14:00: forced wins
])
def test_next_change_says_when_a_window_will_change_the_decision(start, force, code, change):
    cals = {"peak": [{"start": "14:00", "end": "19:00"}], "day": [{"start": "10:00", "end": "22:00"}],
            "shower": [{"start": "13:30", "end": "14:30"}]}
    cfg = config({WHN: relay(50, block=["peak"], only=["day"], force=force)}, scheduler={"calendars": cals})
    sim = Sim(cfg, at(start))
    sim.demand = {WHN: 4500}
    sim.run(60)
    assert sim.code(WHN) == code
    assert sim.st.loads[WHN].next_change == at(change)
    published = [c.state for _, c in sim.cmds(m.PublishLoad) if c.load == WHN][-1]
    assert published["next_change"] == at(change)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_production_is_invalid_and_does_not_poison_the_solar_average(bad):
    # json.loads (and pydantic's JSON) accept NaN and Infinity. CircuitQueueing reads production
    # from Curb (solar_from_curb): one NaN must give DRM0 and leave the rolling average intact.
    drm = {"steps": [{"below_w": 400, "mode": 2}, {"below_w": 700, "mode": 3}], "min_dwell_s": 0}
    cfg = config({WHN: relay(50, solar={"window": "day", "threshold_w": 3000})}, drm=drm,
                 scheduler={"data": {"solar_from_curb": True},
                            "calendars": {"day": [{"start": "06:00", "end": "18:00"}]}})
    sim = Sim(cfg, at("2026-07-01T09:00"), solar=5000)
    sim.demand = {WHN: 4500}
    sim.run(900)
    assert sim.permitted(WHN) and sim.st.drm["aircon"].mode == 0
    sim.solar = 300
    sim.run(60)
    assert sim.st.drm["aircon"].mode == 2
    sim.event(m.Reading(sim.circuits(), sim.now, production_w=bad))
    assert sim.st.drm["aircon"].mode == 0 and sim.st.drm["aircon"].code == "fallback:stale"
    sim.solar = 5000
    sim.run(1200)
    assert sim.permitted(WHN) and sim.code(WHN) == "permitted"  # the gate opens again
    assert sim.st.drm["aircon"].mode == 0 and sim.st.drm["aircon"].code == "solar:drm0"


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_circuit_reading_counts_as_missing(bad):
    cfg = config({"kitchen": observed(100, 4000), WHN: relay(50)})
    sim = Sim(cfg, at("2026-07-01T12:00"))
    sim.demand = {WHN: 4500}
    sim.observed["kitchen"] = 6000
    sim.run(600)
    sim.event(m.Reading({"kitchen": bad, WHN: 0.0}, sim.now))
    assert sim.st.loads["kitchen"].running and sim.st.loads["kitchen"].power_w == 6000
    assert not sim.permitted(WHN)


def test_the_retained_reason_follows_who_a_load_is_queued_behind():
    cfg = config({"kitchen": observed(100, 4000), WHN: relay(50), POOL: relay(10)})
    sim = Sim(cfg, at("2026-07-01T12:00"))
    sim.demand = {WHN: 4500, POOL: 1500}
    sim.observed["kitchen"] = 6000
    sim.run(600)
    sim.observed["kitchen"] = 0  # the kitchen is done; the heater takes the slot
    sim.run(600)
    reason = [c.state["reason"] for _, c in sim.cmds(m.PublishLoad) if c.load == POOL][-1]
    assert reason["code"] == "queued" and "water_heater_north" in reason["text"]
    published = len(sim.cmds(m.PublishLoad))
    sim.demand[WHN] = lambda now, lt: 4500 + 10 * (now.minute % 3)  # only the watts in the text move
    sim.run(600)
    assert len(sim.cmds(m.PublishLoad)) == published  # ... which is not worth a message


def test_a_load_whose_power_is_unknown_is_not_idle_and_keeps_its_slot():
    # the north heater's CT died: it may well be heating. Calling it idle gave its slot away
    # and both 4.5 kW heaters ran at once under max_running 1.
    whs = "water_heater_south"
    cfg = config({WHN: relay(50), whs: relay(40)}, scheduler={"max_running": 1})
    sim = Sim(cfg, at("2026-07-01T12:00"))
    sim.demand = {whs: 4500}  # WHN's circuit is in no reading at all
    sim.run(1800)
    assert sim.on() == {WHN} and sim.code(whs) == "queued"
