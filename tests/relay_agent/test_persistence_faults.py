"""A state file that stops being writable while the agent runs: relays still switch and read
back, an alert names the service, the path and what is no longer kept, resolved when it is
written again."""
from __future__ import annotations

import shutil

from .helpers import command, fast, relay_state, start_agent

ALERT = "circuitq/alert"
KEY = "persist:relay_agent:relay_agent.json"


def test_unwritable_state_file_is_alerted_then_resolved(config_factory, service_factory, user_probe,
                                                       probe_factory, broker, tmp_path):
    cfg = config_factory(fast())
    proc = start_agent(service_factory, cfg, user_probe)
    sched = probe_factory(broker, "scheduler")
    path = tmp_path / "state" / "relay_agent.json"
    path.unlink()
    path.mkdir()  # a directory where the file goes: every write fails, even as root
    (path / "blocker").write_text("x")

    mark = user_probe.mark()
    command(sched, "pool_pump", "off", id="a")
    state = user_probe.on_topic(relay_state("pool_pump"), lambda m: m.json()["command_id"] == "a", since=mark)
    assert state.json()["level"] == "off"  # the output is driven whatever the disk does
    alert = user_probe.on_topic(ALERT, lambda m: m.json()["key"] == KEY, since=mark).json()
    assert alert["source"] == "relay_agent" and not alert["resolved"] and alert["priority"] >= 1
    assert str(path) in alert["message"] and "relay switch counts, hold times and leases no longer kept" \
        in alert["message"]

    shutil.rmtree(path)
    mark = user_probe.mark()
    command(sched, "pool_pump", "on", id="b")
    done = user_probe.on_topic(ALERT, lambda m: m.json()["key"] == KEY, since=mark).json()
    assert done["resolved"] and path.is_file()
    assert proc.alive()
    proc.stop()
