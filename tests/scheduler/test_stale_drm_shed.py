"""Rules 9-12: stale data fallbacks, DRM from production (dreadpi), thermostat shed with a
maximum, and a lease on every command that is renewed before it runs out."""
from datetime import timedelta

import pytest

from services.scheduler import model as m

from .harness import Sim, at, config, observed, relay

NOW = at("2026-07-01T12:00")
WHN, WHS, POOL = "water_heater_north", "water_heater_south", "pool_pump"
DATA = {"reading_timeout_s": 300, "frozen_s": 600, "stale_rotate_min": 60}


def house(**sched):
    return config({"kitchen": observed(100, 4000), WHN: relay(50, block=["peak"]), WHS: relay(40, block=["peak"]),
                   POOL: relay(10, stale="off"),
                   "hp": {"kind": "thermostat", "thermostat": "heat_pump_south", "priority": 60,
                          "stale": "hold"}},
                  scheduler={"max_running": 2, "data": DATA,
                             "calendars": {"peak": [{"start": "14:00", "end": "19:00"}]}, **sched})


@pytest.mark.parametrize("how", ["silence", "frozen_ts", "collector_offline", "flagged_stale", "health"])
def test_stale_data_falls_back_to_windows_one_load_at_a_time(how):
    sim = Sim(house(), NOW)
    sim.demand = {WHN: 4500, WHS: 4500, POOL: 1500}
    sim.run(900)
    assert sim.on() >= {WHN, WHS}
    t0 = sim.now
    if how == "silence":
        sim.feeding = False
    elif how == "frozen_ts":  # the hub keeps answering with the same old snapshot
        ts = sim.now
        sim.feed = lambda: sim.event(m.Reading(sim.circuits(), ts))
    elif how == "collector_offline":
        sim.event(m.CollectorStatus("curb", False))
    elif how == "flagged_stale":
        sim.feed = lambda: sim.event(m.Reading(sim.circuits(), sim.now, stale=True))
    else:
        sim.event(m.SourceHealth("curb", False, "Curb API 503"))
    sim.run(1200)
    on = sim.on()
    assert len(on & {WHN, WHS, POOL}) == 1, on
    on_load = (on & {WHN, WHS}).pop()
    assert sim.code(on_load) == "fallback:windows" and "one load at a time" in sim.st.loads[on_load].text
    waiting = ({WHN, WHS} - {on_load}).pop()  # the one taking its turn later says why, too
    assert "no fresh Curb data" in sim.st.loads[waiting].text and "one load at a time" in sim.st.loads[waiting].text
    assert sim.code(POOL) == "fallback:off"
    assert sim.permitted("hp") and sim.code("hp") == "fallback:hold"
    alert = next(a for a in sim.alerts() if a.key == "stale:curb")
    assert not alert.resolved
    if how == "silence":  # detected within the timeout, by a timer (no reading arrives)
        first = next(t for t, c in sim.cmds(m.AlertMsg) if c.key == "stale:curb")
        assert first - t0 <= timedelta(seconds=301)
    # the time windows still apply, and loads take turns every stale_rotate_min (priority aside)
    sim.run(3 * 3600)
    turns = [c.subject for t, c in sim.cmds(m.ActivityLine, since=t0) if "ON (fallback:windows)" in c.message]
    assert {WHN, WHS} <= set(turns), turns
    assert all(len(sim.on() & {WHN, WHS}) <= 1 for _ in [0])
    assert sim.now > at("2026-07-01T15:00")
    assert not sim.on() & {WHN, WHS} and sim.code(WHN) == "blocked:peak"


def test_fresh_data_again_resolves_the_alert_and_the_queue_resumes():
    sim = Sim(house(), NOW)
    sim.demand = {WHN: 4500, WHS: 4500}
    sim.run(600)
    sim.feeding = False
    sim.run(900)
    sim.feeding = True
    sim.run(900)
    assert [a.resolved for a in sim.alerts() if a.key == "stale:curb"] == [False, True]
    assert sim.on() >= {WHN, WHS}


DRM = {"steps": [{"below_w": 400, "mode": 2}, {"below_w": 700, "mode": 3}],
       "hysteresis_w": 50, "min_dwell_s": 300}


def drm_sim(**kw):
    return Sim(config({}, drm={**DRM, **kw}, scheduler={"data": {"solar_timeout_s": 1000}}), NOW, solar=1000)


@pytest.mark.parametrize("w, mode", [(0, 2), (399, 2), (400, 3), (699, 3), (700, 0), (5000, 0)])
def test_drm_thresholds_dreadpi(w, mode):
    sim = drm_sim()
    sim.solar = w
    sim.run(60)
    assert sim.st.drm["aircon"].mode == mode
    assert sim.cmds(m.DrmCmd)[-1][1].mode == mode


def test_drm_hysteresis_dwell_and_stale_or_invalid_gives_drm0():
    sim = drm_sim()
    sim.solar = 600
    sim.run(60)
    assert sim.st.drm["aircon"].mode == 3
    sim.solar = 720  # above 700 but within the hysteresis: stays DRM3
    sim.run(600)
    assert sim.st.drm["aircon"].mode == 3
    sim.solar = 800
    sim.run(60)
    assert sim.st.drm["aircon"].mode == 0
    sim.solar = 300  # a cloud right after a change: minimum dwell first
    sim.run(120)
    d = sim.st.drm["aircon"]
    assert d.mode == 0 and d.code == "holding:min_dwell" and d.text.startswith("stays DRM0 until")
    sim.run(240)
    assert sim.st.drm["aircon"].mode == 2
    sim.event(m.Solar(None))  # invalid / negative production: DRM0 at once, no dwell
    assert sim.st.drm["aircon"].mode == 0 and sim.st.drm["aircon"].code == "fallback:stale"
    sim.solar = 300
    sim.run(600)
    assert sim.st.drm["aircon"].mode == 2
    sim.solar = None  # production data stops: after solar_timeout_s, DRM0
    sim.run(1100)
    assert sim.st.drm["aircon"].mode == 0
    assert sim.st.drm["aircon"].code == "fallback:stale"


def test_drm_override_and_its_expiry():
    sim = drm_sim()
    sim.solar = 5000
    sim.run(60)
    sim.override("aircon", 2, minutes=30, target="drm")
    assert sim.st.drm["aircon"].mode == 2 and sim.st.drm["aircon"].code == "override"
    sim.run(31 * 60)
    assert sim.st.drm["aircon"].mode == 0


SHED = {"kind": "thermostat", "thermostat": "heat_pump_south", "priority": 80, "running_w": 300,
        "max_off_h": 1, "guarantee_min": 30, "warn_before_h": 0.25,
        "block_when": [{"load": "heat_pump_north"}, {"load": "dryer"},
                       {"circuits": ["kitchen", "dryer", "heat_pump_north"], "above_w": 3000}]}


def shed_sim():
    cfg = config({"heat_pump_north": observed(90, 2800), "dryer": observed(5, 350),
                  "kitchen": observed(1, 4000), "heat_pump_south": SHED}, scheduler={"max_running": 2})
    return Sim(cfg, NOW)


@pytest.mark.parametrize("circuits, shed, code", [
    ({"heat_pump_north": 3500}, True, "blocked:heat_pump_north"),
    ({"dryer": 2500}, True, "blocked:dryer"),
    ({"kitchen": 2000, "heat_pump_north": 1200}, True, "blocked:circuits"),  # together above 3000 W
    ({"kitchen": 2000}, False, "permitted"),
])
def test_shed_conditions(circuits, shed, code):
    sim = shed_sim()
    sim.demand = {"heat_pump_south": 2000}
    sim.observed.update(circuits)
    sim.run(300)
    assert sim.permitted("heat_pump_south") is not shed
    assert sim.code("heat_pump_south") == code
    assert sim.cmds(m.ShedCmd)[-1][1].shed is shed


def test_circuits_wobbling_at_the_shed_threshold_do_not_toggle_the_thermostat():
    # kitchen + heat_pump_north hover around 3000 W +-400 (beyond the 200 W hysteresis): each
    # shed/release is an ecobee hold and a compressor start; a sum must hold debounce_s first
    import random
    rng = random.Random(3)
    cfg = config({"heat_pump_north": observed(90, 2800), "dryer": observed(5, 350),
                  "kitchen": observed(1, 4000), "heat_pump_south": {**SHED, "debounce_s": 120}},
                 scheduler={"max_running": 2})
    sim = Sim(cfg, NOW)
    sim.demand = {"heat_pump_south": 2000}
    sim.observed["kitchen"] = lambda now: rng.uniform(2600, 3400)
    sim.run(3600)
    sheds = [c.shed for _, c in sim.cmds(m.ShedCmd)]
    assert sum(1 for a, b in zip(sheds, sheds[1:]) if a != b) <= 4
    sim.observed["kitchen"] = 3500  # a real, lasting load: shed once it held debounce_s
    sim.run(180)
    assert not sim.permitted("heat_pump_south") and sim.code("heat_pump_south") == "blocked:circuits"
    sim.observed["kitchen"] = 500
    sim.run(180)
    assert sim.permitted("heat_pump_south") and sim.cmds(m.ShedCmd)[-1][1].shed is False


def test_shed_is_renewed_released_when_clear_and_never_longer_than_the_maximum():
    sim = shed_sim()
    sim.demand = {"heat_pump_south": 2000}
    sim.run(300)
    sim.observed["heat_pump_north"] = 3500
    sim.run(1800)
    sheds = [(t, c) for t, c in sim.cmds(m.ShedCmd) if c.shed]
    assert len(sheds) >= 15 and all(c.lease_s == 300 for _, c in sheds)  # renewed every 100 s
    assert "heat_pump_north running" in sheds[0][1].reason
    sim.run(3600)  # still running after an hour: released anyway, for 30 minutes
    assert sim.permitted("heat_pump_south") and sim.code("heat_pump_south") == "forced:guarantee"
    assert not sim.cmds(m.ShedCmd)[-1][1].shed
    sim.run(1800)
    assert not sim.permitted("heat_pump_south")
    sim.observed["heat_pump_north"] = 0
    sim.run(300)
    assert sim.permitted("heat_pump_south") and sim.cmds(m.ShedCmd)[-1][1].shed is False


def test_a_thermostat_without_max_off_h_is_still_never_shed_longer_than_two_hours():
    plain = {k: v for k, v in SHED.items() if k not in ("max_off_h", "guarantee_min", "warn_before_h")}
    cfg = config({"heat_pump_north": observed(90, 2800), "dryer": observed(5, 350),
                  "kitchen": observed(1, 4000), "heat_pump_south": plain}, scheduler={"max_running": 2})
    assert cfg.loads["heat_pump_south"].max_off_h == 2
    sim = Sim(cfg, NOW)
    sim.demand = {"heat_pump_south": 2000}
    sim.observed["heat_pump_north"] = 3500  # all day long
    sim.run(60 * 60)  # an hour's shed is no emergency: no alert yet (the default warning is 2 h ahead)
    assert not [a for a in sim.alerts() if a.key.startswith("starved:")]
    sim.run(5 * 3600)
    sheds = [(t, c.shed) for t, c in sim.cmds(m.ShedCmd)]
    releases = [t for t, shed in sheds if not shed]
    assert releases and releases[0] - NOW <= timedelta(hours=2, minutes=1)
    assert any("forced:guarantee" in a for a in sim.activity())


def test_every_output_command_has_a_lease_renewed_before_it_ends():
    sim = Sim(config({WHN: relay(50), POOL: relay(10)}, drm=DRM, scheduler={"lease_s": 90}), NOW, solar=500)
    sim.feeding = False  # no readings at all: only timers keep the leases alive
    sim.event(m.Tick())  # start-up
    sim.run(4 * 3600)
    for relay_name in (WHN, POOL):
        times = [t for t, c in sim.cmds(m.RelayCmd) if c.relay == relay_name]
        assert all(c.lease_s == 90 for _, c in sim.cmds(m.RelayCmd))
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
        assert gaps and max(gaps) <= 45  # half the lease at the latest: half of it still left
    drm_times = [t for t, c in sim.cmds(m.DrmCmd)]
    assert max((b - a).total_seconds() for a, b in zip(drm_times, drm_times[1:])) <= 45


def test_leases_are_renewed_by_the_minute_readings_without_timers_between_them():
    """With a reading every minute, a lease is renewed at the first reading a third of it
    after the last command: the core is not woken between readings for five outputs'
    renewals, and every lease still has more than half its length left when renewed."""
    hp = {"kind": "thermostat", "thermostat": "heat_pump_south", "priority": 5, "running_w": 300}
    cfg = config({WHN: relay(50), POOL: relay(10), "hp": hp}, drm=DRM, scheduler={"lease_s": 300, "max_running": 1})
    sim = Sim(cfg, NOW, solar=500)
    sim.demand = {WHN: 4500, POOL: 1500, "hp": 2000}
    sim.run(600)
    ticks = []
    event = sim.event
    sim.event = lambda ev: (ticks.append(sim.now) if type(ev) is m.Tick else None, event(ev))[1]
    mark = sim.now
    sim.run(3600)  # the heat pump stays shed (its 2 h limit is not reached)
    cmds = [(t, c) for t, c in sim.log if t >= mark and isinstance(c, (m.RelayCmd, m.DrmCmd, m.ShedCmd))]
    for key in {(type(c), getattr(c, "relay", None) or getattr(c, "output", None) or getattr(c, "thermostat", None))
                for _, c in cmds}:
        times = [t for t, c in cmds if (type(c), getattr(c, "relay", None) or getattr(c, "output", None)
                                         or getattr(c, "thermostat", None)) == key]
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
        assert gaps and 100 <= min(gaps) and max(gaps) <= 150, (key, gaps)
    assert {c.relay for _, c in cmds if isinstance(c, m.RelayCmd)} == {WHN, POOL}
    assert any(isinstance(c, m.ShedCmd) and c.shed for _, c in cmds) and any(isinstance(c, m.DrmCmd) for _, c in cmds)
    assert ticks == []  # nothing woke the core between readings


def test_a_drm_output_can_queue_like_a_load():
    """kind: drm: the air conditioner takes a place in the queue; when it must yield (here to
    the kitchen) its DRED asserts blocked_drm_mode whatever the production."""
    cfg = config({"kitchen": observed(100, 4000),
                  "aircon_load": {"kind": "drm", "output": "aircon", "priority": 50, "blocked_drm_mode": 2}},
                 drm=DRM)
    sim = Sim(cfg, NOW, solar=5000)
    sim.demand = {"aircon_load": 2500}  # its compressor, on a circuit of the same name
    sim.run(300)
    assert sim.st.drm["aircon"].mode == 0
    sim.observed["kitchen"] = 6000
    sim.run(120)
    d = sim.st.drm["aircon"]
    assert d.mode == 2 and d.code == "queue:queued" and "kitchen" in d.text
    sim.observed["kitchen"] = 0
    sim.run(600)
    assert sim.st.drm["aircon"].mode == 0


def test_an_agent_coming_online_gets_its_standing_commands_at_once():
    """A command published while the relay or ecobee agent was restarting reached nobody:
    when the agent's status turns online the scheduler re-sends, instead of waiting up to a
    third of a lease for the next renewal."""
    cfg = config({WHN: relay(50), "heat_pump_north": observed(90, 2800), "dryer": observed(5, 350),
                  "kitchen": observed(1, 4000), "heat_pump_south": SHED},
                 drm=DRM, scheduler={"max_running": 3, "lease_s": 600})
    sim = Sim(cfg, NOW, solar=500)
    sim.observed["heat_pump_north"] = 3500
    sim.run(300)
    assert sim.cmds(m.ShedCmd)[-1][1].shed is True
    mark = sim.now
    sim.run(10)
    assert not sim.cmds(m.RelayCmd, since=mark + timedelta(seconds=1))  # nothing due yet
    sim.event(m.AgentOnline("relay_agent"))
    relay_now = [c for t, c in sim.cmds(m.RelayCmd, since=sim.now)]
    drm_now = [c for t, c in sim.cmds(m.DrmCmd, since=sim.now)]
    assert [c.relay for c in relay_now] == [WHN] and len(drm_now) == 1
    assert not sim.cmds(m.ShedCmd, since=sim.now)  # not the ecobee agent's business
    sim.event(m.AgentOnline("ecobee_agent"))
    assert [c.shed for t, c in sim.cmds(m.ShedCmd, since=sim.now)] == [True]


def test_a_lease_capped_by_the_relay_is_renewed_within_half_the_capped_lease():
    # lease_s 3600 but the relay and the DRED accept at most 600 s: renewing every 1200 s
    # (or by half of 3600 s) would let each lease lapse (heater off, DRED to its safe state)
    cfg = config({WHN: relay(50)}, drm=DRM, scheduler={"lease_s": 3600})
    cfg.relays[WHN].max_lease_s = 600
    cfg.drm_outputs["aircon"].max_lease_s = 600
    sim = Sim(cfg, NOW, solar=500)
    sim.feeding = False
    sim.event(m.Tick())
    sim.run(2 * 3600)
    for kind, who in ((m.RelayCmd, lambda c: c.relay == WHN), (m.DrmCmd, lambda c: True)):
        cmds = [(t, c) for t, c in sim.cmds(kind) if who(c)]
        assert all(c.lease_s == 600 for _, c in cmds)
        gaps = [(b - a).total_seconds() for (a, _), (b, _) in zip(cmds, cmds[1:])]
        assert gaps and max(gaps) <= 300
