"""States that cannot outlive their owner, with the real scheduler process: killed, its will
marks it offline at once, and its retained load states expire from the broker."""
from __future__ import annotations

import time
from datetime import datetime

HEARTBEAT = {"CIRCUITQ_HEARTBEAT_S": "1"}  # expiry 2.5 s


def retained_after_marker(probe_factory, broker, pattern: str) -> dict:
    """What a client subscribing now is given as retained (pattern must cover curb/circuit/+)."""
    late = probe_factory(broker, "user")
    late.subscribe(pattern)
    marker = probe_factory(broker, "curb_collector")  # live, after every retained one
    marker.publish("circuitq/curb/circuit/liveness_marker", "1")
    late.on_topic("circuitq/curb/circuit/liveness_marker")
    return {m.topic: m for m in late.messages if m.retain}


def test_dead_scheduler_leaves_no_live_looking_load_state(config_factory, service_factory, user_probe,
                                                         probe_factory, broker):
    proc = service_factory("scheduler", config_factory(), env=HEARTBEAT)
    state = "circuitq/load/pool_pump/state"
    user_probe.on_topic(state, lambda m: not m.retain, timeout=30)
    hb = user_probe.on_topic("circuitq/scheduler/heartbeat", lambda m: not m.retain, timeout=30).json()
    assert hb["interval_s"] == 1.0
    # Re-sent with the heartbeat: alive and fresh while the scheduler runs.
    mark = user_probe.mark()
    user_probe.on_topic(state, lambda m: not m.retain, since=mark, timeout=30)
    mark = user_probe.mark()
    proc.kill()  # kill -9: no shutdown code runs
    user_probe.on_topic("circuitq/scheduler/status", lambda m: m.text == "offline", since=mark, timeout=30)
    time.sleep(2.5 + 1.5)  # the expiry itself (whole seconds at the broker) is what is tested
    seen = retained_after_marker(probe_factory, broker, "circuitq/#")
    assert state not in seen and "circuitq/load/water_heater_north/state" not in seen
    hb = seen.get("circuitq/scheduler/heartbeat")
    assert hb is None or datetime.fromisoformat(hb.json()["expires"]) < datetime.now().astimezone()
