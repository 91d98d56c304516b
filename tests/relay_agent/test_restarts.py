"""Restarts of the relay agent process: commands re-sent on `online` are heard, a crash loop
clicks no relay against its hold rules, and kill -9 between publish and persist loses at
most that one record."""
from __future__ import annotations

import json
import signal
import time

from .helpers import command, fast, on, relay_state, start_agent, wait_until

STATUS = "circuitq/relay_agent/status"


def restart(service_factory, cfg, probe, proc, env=None):
    if proc is not None:
        proc.kill(signal.SIGKILL)
    return start_agent(service_factory, cfg, probe, env)


def test_a_command_resent_on_online_is_taken_after_each_of_100_restarts(config_factory, service_factory,
                                                                        user_probe, probe_factory, broker):
    """The scheduler re-sends its command the moment it sees `online` (AgentOnline)."""
    cfg = config_factory(fast())
    sched = probe_factory(broker, "scheduler")
    sched.subscribe(STATUS)
    proc = None
    for i in range(100):
        if proc is not None:
            proc.kill(signal.SIGKILL)
        mark = sched.mark()
        proc = service_factory("relay_agent", cfg)
        sched.on_topic(STATUS, lambda m: m.text == "online" and not m.retain, since=mark, timeout=30)
        state = "off" if i % 2 else "on"
        mark = user_probe.mark()
        command(sched, "pool_pump", state, lease_s=30, id=f"r{i}")
        m = user_probe.on_topic(relay_state("pool_pump"), lambda m: m.json()["command_id"] == f"r{i}",
                                since=mark, timeout=30)
        assert m.json()["level"] == state, f"restart {i}"
    proc.stop()


def test_crash_loop_of_20_restarts_keeps_min_off_and_the_starts_budget(config_factory, service_factory,
                                                                       user_probe, probe_factory, broker,
                                                                       tmp_path):
    """Safe state ON, commanded OFF under a 3 s lease, min_off 20 s, 1 start per hour: whatever
    the restarts, the relay goes OFF once and back ON once, not before min_off is served."""
    min_off = 20.0
    cfg = config_factory(fast(relays={"pool_pump": {"min_off_s": min_off, "max_starts_per_hour": 1,
                                                    "boot_state": "on", "safe_state": "on"}},
                              relay_agent={"scheduler_offline_safe": False}))
    proc = start_agent(service_factory, cfg, user_probe)
    sched = probe_factory(broker, "scheduler")
    mark = user_probe.mark()
    command(sched, "pool_pump", "off", lease_s=3, id="off")
    user_probe.on_topic(relay_state("pool_pump"), lambda m: m.json()["level"] == "off", since=mark)
    off_at = time.monotonic()
    state_file = tmp_path / "state" / "relay_agent.json"  # persisted right after the publish
    wait_until(lambda: json.loads(state_file.read_text())["outputs"]["relay"]["pool_pump"]["value"] == "off",
               what="the switch persisted")
    levels = []
    t0, after_off = time.monotonic(), user_probe.mark()
    for _ in range(20):
        proc = restart(service_factory, cfg, user_probe, proc)
        levels.append((time.monotonic() - off_at, on(cfg)["pool_pump"]))
    crash_loop_s = time.monotonic() - t0
    # Never back on before min_off, however often the agent started with boot_state "on".
    assert not [t for t, level in levels if level and t < min_off - 0.5], levels
    final = user_probe.on_topic(relay_state("pool_pump"), lambda m: m.json()["level"] == "on", timeout=60,
                                since=after_off)
    assert final.t - off_at >= min_off - 0.5
    assert final.json()["switch_count"] == 2  # one OFF, one start: the budget of 1 start per hour
    assert crash_loop_s < 120  # 20 restarts: about a minute on a loaded 2-core machine
    proc.stop()


def test_kill_9_between_publish_and_persist_loses_only_that_record(config_factory, service_factory,
                                                                  user_probe, probe_factory, broker, tmp_path):
    cfg = config_factory(fast(relays={"pool_pump": {"boot_state": "on", "safe_state": "on"}}))
    state_file = tmp_path / "state" / "relay_agent.json"
    sched = probe_factory(broker, "scheduler")
    proc = start_agent(service_factory, cfg, user_probe)
    mark = user_probe.mark()
    command(sched, "pool_pump", "off", lease_s=30, id="kept")
    user_probe.on_topic(relay_state("pool_pump"), lambda m: m.json()["command_id"] == "kept", since=mark)
    wait_until(lambda: json.loads(state_file.read_text())["outputs"]["relay"]["pool_pump"]["command_id"] == "kept",
               what="the first command persisted")
    assert proc.stop() == 0  # clean: back to the safe state ON, persisted (switch 2)
    before = json.loads(state_file.read_text())["outputs"]["relay"]["pool_pump"]
    assert (before["value"], before["switch_count"]) == ("on", 2)

    # The write now waits 30 s after the publish: kill -9 lands in between.
    proc = start_agent(service_factory, cfg, user_probe, env={"CIRCUITQ_RELAY_PERSIST_DELAY_S": "30"})
    mark = user_probe.mark()
    command(sched, "pool_pump", "off", lease_s=30, id="lost")
    m = user_probe.on_topic(relay_state("pool_pump"), lambda m: m.json()["command_id"] == "lost", since=mark)
    assert m.json()["switch_count"] == 3
    proc.kill(signal.SIGKILL)
    after = json.loads(state_file.read_text())["outputs"]["relay"]["pool_pump"]  # whole, valid JSON
    # only the last switch is missing, everything older is there (the start-up save rewrote it)
    assert (after["value"], after["switch_count"], len(after["events"])) == ("on", 2, len(before["events"]))

    # Restarted from that record: the level it had (ON = safe, no lease), counts from before.
    mark = user_probe.mark()
    proc = start_agent(service_factory, cfg, user_probe)
    m = user_probe.on_topic(relay_state("pool_pump"), lambda m: not m.retain, since=mark).json()
    assert (m["level"], m["switch_count"], m["commanded"]) == ("on", 2, None)
    proc.stop()
