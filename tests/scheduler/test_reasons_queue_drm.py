"""The reason catalogue walked (see test_reasons.py): the queue, observed loads, DRM outputs."""
from __future__ import annotations

from datetime import timedelta

from services.scheduler import model as m

from .harness import Sim, at, config, observed, relay
from .reason_walk import clock, said, walks

NOW = at("2026-07-01T12:00")
WHN, WHS, POOL = "water_heater_north", "water_heater_south", "pool_pump"
KITCHEN = {"load": "kitchen"}


@walks("permitted", "permitted:idle", "queued")
def test_places_in_the_queue():
    sim = Sim(config({WHN: relay(50), WHS: relay(40), POOL: relay(10)}, scheduler={"max_running": 2}), NOW)
    sim.demand = {WHN: 4500, WHS: 4500}  # the pool draws nothing when permitted
    sim.run(60)
    assert said(sim, WHN, "permitted") == "permitted (priority 50, place 1 of 2)"
    sim.run(600)
    assert said(sim, WHS, "permitted") == "permitted (priority 40, place 2 of 2)"
    assert said(sim, POOL, "queued") == (f"queued behind {WHN} (~4500 W), {WHS} (~4500 W); 2 at a time")
    sim.demand = {WHN: 4500, WHS: 0}  # the south heater's thermostat is satisfied
    sim.run(600)
    lt = sim.st.loads[WHS]
    assert said(sim, WHS, "permitted:idle") == (f"permitted; not running since {clock(sim, lt.quiet_since)} "
                                                "(over 120 s), so its place in the queue is free")


@walks("queued/budget")
def test_watt_budget():
    sim = Sim(config({WHN: relay(50), POOL: relay(10, nominal_w=1500)},
                     scheduler={"max_running": 2, "max_w": 5000}), NOW)
    sim.demand = {WHN: 4510}
    sim.run(600)
    assert said(sim, POOL, "queued/budget") == "watt budget 5000 W: 4510 W in use, it needs 1500 W"


@walks("queued/forced")
def test_forced_but_queued_at_its_forced_priority():
    cals = {"day": [{"start": "06:00", "end": "20:00"}]}
    sim = Sim(config({WHN: relay(50), POOL: relay(10, force=["day"], forced_priority=5)},
                     scheduler={"calendars": cals}), NOW)
    sim.demand = {WHN: 4500, POOL: 1500}
    sim.run(600)
    assert said(sim, POOL, "queued/forced") == (f"forced on in 'day' hours until 20:00, but queued behind {WHN} "
                                                "(~4500 W); 1 at a time (forced priority 5)")


@walks("waiting:min_off", "holding:min_on")
def test_minimum_on_and_off_times():
    sim = Sim(config({"kitchen": observed(100, 4000), WHN: relay(50, min_on_s=600, min_off_s=900,
                                                                  block_when=[KITCHEN])}), NOW)
    sim.demand = {WHN: 4500}
    sim.run(60)
    since = sim.st.loads[WHN].permitted_since
    sim.observed["kitchen"] = 5000
    sim.run(120)
    assert said(sim, WHN, "holding:min_on") == (
        f"on since {clock(sim, since)}, minimum run time 600 s until {clock(sim, since + timedelta(seconds=600))}, "
        "then: kitchen running (at or over 3900 W)")
    sim.run(600)
    off = sim.st.loads[WHN].off_since
    sim.observed["kitchen"] = 0
    sim.run(60)
    assert said(sim, WHN, "waiting:min_off") == (
        f"off since {clock(sim, off)}, minimum off time 900 s until {clock(sim, off + timedelta(seconds=900))}, "
        "then: permitted (priority 50, place 1 of 1)")


@walks("waiting:start_budget", "waiting:start_gap")
def test_starts_budget_and_gap():
    cfg = config({"kitchen": observed(100, 4000), WHN: relay(50, block_when=[KITCHEN]), WHS: relay(40)},
                 scheduler={"max_running": 2})
    cfg.relays[WHN].max_starts_per_hour = 2
    sim = Sim(cfg, NOW)
    sim.demand = {WHN: 4500, WHS: 4500}
    sim.run(60)
    first = sim.st.last_grant_at
    assert said(sim, WHS, "waiting:start_gap") == (
        f"another load started at {clock(sim, first)}; next start at {clock(sim, first + timedelta(seconds=120))} "
        "(settle 120 s), then: permitted (priority 40, place 2 of 2)")
    for _ in range(2):  # the kitchen stops the heater twice: its second start spends the budget
        sim.observed["kitchen"] = 5000
        sim.run(300)
        sim.observed["kitchen"] = 0
        sim.run(300)
    assert len(sim.st.loads[WHN].starts) == 2
    sim.observed["kitchen"] = 5000
    sim.run(300)
    sim.observed["kitchen"] = 0
    sim.run(60)
    until = sim.st.loads[WHN].starts[0] + timedelta(hours=1)
    assert said(sim, WHN, "waiting:start_budget") == (
        f"2 starts in the last hour (relay wear budget) until {clock(sim, until)}, "
        "then: permitted (priority 50, place 1 of 2)")


@walks("observed:running", "observed:idle")
def test_observed_loads_say_what_counts_and_when_a_change_will():
    sim = Sim(config({"heat_pump_north": observed(90, 2800, debounce_s=120)},
                     scheduler={"data": {"reading_timeout_s": 300}}), NOW)
    sim.observed["heat_pump_north"] = 1100  # drawing, under its threshold: not running, and says why
    sim.run(300)
    lt = sim.st.loads["heat_pump_north"]
    assert not lt.running and said(sim, "heat_pump_north", "observed:idle") == (
        "observed only: idle (under its 2800 W running threshold)")
    sim.observed["heat_pump_north"] = 5200
    sim.run(60)
    assert not lt.running and said(sim, "heat_pump_north", "observed:idle") == (
        f"observed only: idle; at or over its 2800 W since {clock(sim, lt.pending_since)}, counted as running "
        f"if that holds until {clock(sim, lt.pending_since + timedelta(seconds=120))}")
    sim.run(120)
    assert lt.running and said(sim, "heat_pump_north", "observed:running") == (
        "observed only: running (at or over 2700 W)")
    sim.observed["heat_pump_north"] = 0
    sim.run(60)
    assert lt.running and said(sim, "heat_pump_north", "observed:running") == (
        f"observed only: running; under its 2700 W since {clock(sim, lt.pending_since)}, counted as stopped "
        f"if that holds until {clock(sim, lt.pending_since + timedelta(seconds=120))}")
    sim.feeding = False
    sim.run(600)
    assert not lt.running and said(sim, "heat_pump_north", "observed:idle") == (
        "observed only: not counted as running: no fresh reading of its circuit")
    state = [c.state for _, c in sim.cmds(m.PublishLoad) if c.load == "heat_pump_north"][-1]
    assert state["running"] is False and state["power_w"] is None


DRM = {"steps": [{"below_w": 400, "mode": 2}, {"below_w": 700, "mode": 3}], "hysteresis_w": 50, "min_dwell_s": 0}


def drm_sim(**kw):
    return Sim(config({}, drm={**DRM, **kw}, scheduler={"data": {"solar_timeout_s": 300}}), NOW, solar=1000)


def drm_text(sim, key) -> str:
    return said(sim, "aircon", key, drm=True)


@walks("drm:step", "drm:step_held", "drm:normal", "drm:override", "drm:stale")
def test_drm_steps_override_and_stale_data():
    sim = drm_sim()
    sim.run(60)
    assert drm_text(sim, "drm:normal") == "production 1000 W, at or over 700 W: normal operation"
    sim.solar = 399.6  # never "400 W, under 400 W"
    sim.run(60)
    assert drm_text(sim, "drm:step") == "production 399 W, under 400 W: DRM2"
    sim.solar = 430  # over 400 W, but rising needs 450 W
    sim.run(60)
    assert drm_text(sim, "drm:step_held") == "production 430 W: DRM2 until production reaches 450 W (400 W + 50 W hysteresis)"
    state = [c.state for _, c in sim.cmds(m.PublishDrm)][-1]
    assert state["production_w"] == 430 and state["reason"]["text"] == sim.st.drm["aircon"].text
    sim.override("aircon", 3, minutes=30, target="drm")
    d = sim.st.drm["aircon"]
    assert drm_text(sim, "drm:override") == f"set to DRM3 by a user until {clock(sim, d.until)}"
    sim.override("aircon", "auto", target="drm")
    sim.event(m.Solar(None))
    assert drm_text(sim, "drm:stale") == "invalid production reading: DRM0"
    sim.solar = 500
    sim.run(60)
    sim.solar = None
    sim.run(600)
    assert drm_text(sim, "drm:stale") == "no fresh production data: DRM0"


@walks("drm:holding", "drm:step_dwell", "drm:dwell", "drm:changes")
def test_drm_holds_say_which_limit_and_until_when():
    sim = drm_sim(min_dwell_s=300)
    sim.run(60)
    sim.solar = 300
    sim.run(120)
    d = sim.st.drm["aircon"]
    assert d.mode == 2
    sim.solar = 1000  # back up within the policy's dwell: held, and says so
    sim.run(60)
    at_ = d.changed_at + timedelta(seconds=300)
    assert drm_text(sim, "drm:holding") == (
        f"stays DRM2 until {clock(sim, at_)} (a solar step holds at least 300 s; the last began "
        f"{clock(sim, d.changed_at)}), then DRM0: production 1000 W, at or over 700 W: normal operation")
    # the output's own limits, counted from the changes the relay agent reports
    cfg = config({}, drm={**DRM}, scheduler={"data": {"solar_timeout_s": 300}})
    cfg.drm_outputs["aircon"].min_dwell_s = 120
    cfg.drm_outputs["aircon"].max_changes_per_hour = 2
    sim = Sim(cfg, NOW, solar=1000)
    d = sim.st.drm["aircon"]
    sim.run(600)
    sim.event(m.DrmFeedback("aircon", 0, sim.now))
    sim.solar = 300
    sim.run(60)
    done = d.feedback_since + timedelta(seconds=121)
    assert drm_text(sim, "drm:holding") == (
        f"stays DRM0 until {clock(sim, done)} (it changed mode at {clock(sim, d.feedback_since)} and stays in a "
        "mode at least 120 s), then DRM2: production 300 W, under 400 W: DRM2")
    for w in (300, 1000):  # two changes, each reported by the relay agent
        sim.solar = w
        sim.run(180)
        sim.event(m.DrmFeedback("aircon", d.mode, sim.now))
    sim.solar = 300
    sim.run(180)
    assert len(d.changes) == 2 and d.mode == 0
    assert drm_text(sim, "drm:holding") == (
        f"stays DRM0 until {clock(sim, d.changes[0] + timedelta(hours=1, seconds=1))} (2 mode changes in the "
        "last hour (relay wear budget)), then DRM2: production 300 W, under 400 W: DRM2")


@walks("drm:queue")
def test_a_drm_load_queued_asserts_its_blocked_mode_and_says_why():
    cfg = config({"kitchen": observed(100, 4000),
                  "aircon_load": {"kind": "drm", "output": "aircon", "priority": 50, "blocked_drm_mode": 2}},
                 drm=DRM)
    sim = Sim(cfg, NOW, solar=5000)
    sim.demand = {"aircon_load": 2500}
    sim.observed["kitchen"] = 6000
    sim.run(300)
    assert sim.st.drm["aircon"].code == "queue:queued"
    assert drm_text(sim, "drm:queue") == "DRM2: aircon_load queued behind kitchen (~6000 W); 1 at a time"
