"""Rule 8/6 across restarts: overrides and guarantee clocks survive, atomically saved."""
import json
from datetime import timedelta

from services.scheduler import model as m
from services.scheduler import store
from services.scheduler.policy import new_state

from .harness import Sim, at, config, observed, relay

WHN = "water_heater_north"
NOW = at("2026-07-01T12:00")


def cfg():
    return config({WHN: relay(50, max_off_h=10, warn_before_h=1), "kitchen": observed(90, 4000)},
                  drm={"steps": [{"below_w": 400, "mode": 2}]})


def test_override_and_off_clock_survive_a_restart(tmp_path):
    path = tmp_path / "scheduler_state.json"
    sim = Sim(cfg(), NOW)
    sim.observed["kitchen"] = 5000
    sim.run(60)
    assert not sim.permitted(WHN)
    sim.event(m.Override("drm", "aircon", 3, NOW + timedelta(hours=2)))
    sim.run(4 * 3600)
    store.save(path, sim.st, sim.now)
    assert not (tmp_path / "scheduler_state.json.tmp").exists()

    # restart 5 minutes later: a fresh state from the file
    later = sim.now + timedelta(minutes=5)
    st2 = new_state(cfg(), later)
    notes = store.load(path, st2, later)
    assert st2.loads[WHN].last_on == NOW  # the 10 h clock keeps running
    assert st2.drm["aircon"].override is None  # expired at 14:00: dropped
    assert any("restored" in n for n in notes) is False

    # an override set before the restart is still there after it
    sim.override(WHN, "on", minutes=90)
    store.save(path, sim.st, sim.now)
    st3 = new_state(cfg(), later)
    store.load(path, st3, later)
    assert st3.loads[WHN].mode == "on" and st3.loads[WHN].until == sim.now + timedelta(minutes=90)
    sim2 = Sim(cfg(), later)
    sim2.st = st3
    sim2.observed["kitchen"] = 5000
    sim2.run(60)
    assert sim2.permitted(WHN) and sim2.code(WHN) == "override:on"


def test_guarantee_is_not_reset_by_restarts(tmp_path):
    path = tmp_path / "s.json"
    sim = Sim(cfg(), NOW)
    sim.observed["kitchen"] = 5000
    t = NOW
    for _ in range(5):  # restart every two hours: the 10 h limit still arrives on time
        sim.run(2 * 3600)
        store.save(path, sim.st, sim.now)
        t = sim.now
        fresh = Sim(cfg(), t)
        store.load(path, fresh.st, t)
        fresh.observed = dict(sim.observed)
        sim = fresh
    sim.run(1800)  # the guarantee (60 min) that began at 22:00 goes on after the restart
    assert sim.permitted(WHN) and sim.code(WHN) == "forced:guarantee"


def test_a_broken_state_file_means_a_fresh_start(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("{not json")
    st = new_state(cfg(), NOW)
    notes = store.load(path, st, NOW)
    assert notes and "unreadable" in notes[0]
    assert st.loads[WHN].mode == "auto"
    path.write_text(json.dumps({"version": 1, "loads": {"gone": {"mode": "on"}}}))
    assert "unknown load" in store.load(path, st, NOW)[0]


def test_core_asks_to_persist_on_override_and_switch():
    sim = Sim(cfg(), NOW)
    sim.run(60)
    n = len(sim.cmds(m.Persist))
    sim.override(WHN, "off", minutes=10)
    assert len(sim.cmds(m.Persist)) == n + 1
