"""FleetClient: online only once subscribed, what cannot outlive its owner, the broker
unreachable, readings that cannot crowd out commands, state files that cannot be written."""
from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from datetime import datetime

import pytest

from circuitq import liveness, topics
from circuitq.config.mqtt import MqttConfig
from circuitq.mqtt import FleetClient
from circuitq.state import write_json_atomic


KEY = "persist:relay_agent:relay_agent.json"


def make(broker_port, secrets, service="scheduler", **cfg):
    return FleetClient(service, MqttConfig(port=broker_port, reconnect_min_s=0.1, reconnect_max_s=0.5, **cfg),
                       secrets.mqtt_users[service])


def wait(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise TimeoutError(what)


@pytest.fixture
def fast_heartbeat(monkeypatch):
    monkeypatch.setattr(liveness, "HEARTBEAT_S", 1.0)
    monkeypatch.setattr(liveness, "EXPIRE_AFTER_S", 2.0)


def test_a_command_sent_the_instant_online_is_seen_is_always_heard(broker, secrets, probe_factory):
    """The scheduler re-sends its commands the moment the relay agent says `online`."""
    sched = probe_factory(broker, "scheduler")
    sched.subscribe("circuitq/relay_agent/status")
    status = "circuitq/relay_agent/status"
    for i in range(30):
        heard = threading.Event()
        agent = make(broker.port, secrets, "relay_agent")
        agent.subscribe(topics.RELAY_COMMAND.filter("circuitq"),
                        lambda t, p, r, i=i: heard.set() if json.loads(p)["id"] == str(i) else None)
        mark = sched.mark()
        agent.start()
        sched.on_topic(status, lambda m: m.text == "online" and not m.retain, since=mark)
        sched.c.publish("circuitq/relay/pool_pump/command", json.dumps({"state": "on", "lease_s": 9, "id": str(i)}),
                        qos=1)
        assert heard.wait(30), f"restart {i}: the command sent on `online` was lost"
        agent.paho.disconnect()  # like a crash of the agent: no `offline` of its own
        agent.paho.loop_stop()
        agent.stop()


def test_heartbeat_says_until_when_the_service_is_alive(broker, secrets, probe_factory, fast_heartbeat):
    c = make(broker.port, secrets, "notifier")
    phone = probe_factory(broker, "user")
    phone.subscribe("circuitq/notifier/heartbeat")
    c.start()
    try:
        mine = lambda m: m.json()["started"] == c.started_wall.isoformat()  # noqa: E731 (not another test's)
        first = phone.on_topic("circuitq/notifier/heartbeat", lambda m: not m.retain and mine(m)).json()
        again = phone.on_topic("circuitq/notifier/heartbeat",
                               lambda m: mine(m) and m.json()["ts"] != first["ts"], timeout=30).json()
        ts, expires = datetime.fromisoformat(again["ts"]), datetime.fromisoformat(again["expires"])
        assert (expires - ts).total_seconds() == pytest.approx(2.0)
        assert again["broker"]["connected"] is True and again["service"] == "notifier"
    finally:
        c.stop()


def test_retained_online_and_states_do_not_outlive_their_owner(own_broker, secrets, probe_factory,
                                                                fast_heartbeat):
    """Owner gone while the broker restarts: what the broker restores is already expired."""
    c = make(own_broker.port, secrets, "relay_agent")
    c.start()
    assert c.wait_connected(10)
    c.publish_entry(topics.RELAY_STATE, '{"level": "on"}', relay="pool_pump")
    c.beat()
    watcher = probe_factory(own_broker, "user")
    watcher.subscribe("circuitq/#")
    watcher.on_topic("circuitq/relay/pool_pump/state")
    watcher.close()
    c.paho.loop_stop()  # the service dies silently (its will waits for the broker to notice)
    own_broker.stop()  # a clean stop saves the retained messages (persistence)
    time.sleep(liveness.EXPIRE_AFTER_S + 1.5)  # the expiry itself (whole seconds at the broker)
    own_broker.start()
    late = probe_factory(own_broker, "user")
    late.subscribe("circuitq/#")
    marker = probe_factory(own_broker, "curb_collector")  # after it, every retained one has come
    marker.publish("circuitq/curb/circuit/marker", "1")
    late.on_topic("circuitq/curb/circuit/marker")
    c.stop()
    seen = {m.topic: m for m in late.messages if m.retain}
    assert "circuitq/relay/pool_pump/state" not in seen
    hb = seen.get("circuitq/relay_agent/heartbeat")
    assert hb is None or datetime.fromisoformat(hb.json()["expires"]) < datetime.now().astimezone()
    status = seen.get("circuitq/relay_agent/status")
    assert status is None or status.text != "online"


def test_broker_unreachable_is_logged_at_once_and_again_and_health_says_so(secrets, caplog, monkeypatch):
    monkeypatch.setattr(liveness, "BROKER_LOG_EVERY_S", 1.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here
    c = make(port, secrets, "curb_collector")
    caplog.set_level(logging.WARNING, logger="circuitq.mqtt")
    c.start()
    try:
        lines = lambda: [r.getMessage() for r in caplog.records  # noqa: E731
                         if f"127.0.0.1:{port} unreachable" in r.getMessage()]
        wait(lambda: lines(), 10, "the first log line")
        first = lines()[0]
        assert f"127.0.0.1:{port}" in first and "refused" in first.lower()
        wait(lambda: len(lines()) >= 3, 15, "the repeated log lines")
        broker = c.health()["broker"]
        assert broker["connected"] is False and "refused" in broker["error"].lower()
        assert broker["port"] == port and broker["down_since"] is not None
    finally:
        c.stop()


def test_a_flood_of_readings_is_conflated_and_never_delays_commands(broker, secrets, probe_factory):
    got_readings, got_sets = [], []
    gate, events = threading.Event(), queue.SimpleQueue()

    def busy_loop():  # a busy service: its one loop thread gets to the messages after the flood
        gate.wait(60)
        while True:
            fn, args = events.get()
            fn(*args)

    threading.Thread(target=busy_loop, daemon=True).start()

    def slow_dispatch(fn, *args):
        events.put((fn, args))

    c = FleetClient("scheduler", MqttConfig(port=broker.port), secrets.mqtt_users["scheduler"],
                    dispatch=slow_dispatch)
    c.subscribe(topics.CURB_READING.filter("circuitq"), lambda t, p, r: got_readings.append(json.loads(p)["n"]))
    c.subscribe(topics.LOAD_SET.filter("circuitq"), lambda t, p, r: got_sets.append(p))
    c.start()
    try:
        flood(c, broker, probe_factory, gate, got_readings, got_sets)
    finally:
        c.stop()


def flood(c, broker, probe_factory, gate, got_readings, got_sets):
    assert c.wait_connected(10)
    curb, phone = probe_factory(broker, "curb_collector"), probe_factory(broker, "user")
    n = 3000
    for i in range(n):
        curb.c.publish("circuitq/curb/reading", json.dumps({"n": i}), qos=1)
        if i % 150 == 0:
            phone.c.publish("circuitq/load/pool_pump/set", f"ON{i}", qos=1)
    curb.publish("circuitq/curb/reading", {"n": n}, retain=True)  # the last, and wait for the acks
    phone.publish("circuitq/load/pool_pump/set", "AUTO")
    wait(lambda: c._latest or got_readings, 10, "the newest reading queued")
    time.sleep(0.5)  # let the broker finish delivering what it had
    gate.set()
    wait(lambda: len(got_sets) == n // 150 + 1 and got_readings and got_readings[-1] == n, 30,
         "every /set and the newest reading handled")
    assert got_sets[-1] == b"AUTO" and len(set(got_sets)) == len(got_sets)
    assert len(got_readings) < n // 10  # conflated: a queue of 3000 stale readings never builds
    curb.publish("circuitq/curb/reading", b"", retain=True)


def test_a_state_file_that_cannot_be_written_raises_an_alert_until_it_can(broker, secrets, probe_factory,
                                                                         tmp_path):
    c = make(broker.port, secrets, "relay_agent")
    phone = probe_factory(broker, "user")
    phone.subscribe("circuitq/alert")
    c.start()
    assert c.wait_connected(10)
    path = tmp_path / "relay_agent.json"
    path.mkdir()  # a directory where the file should be: os.replace fails, even for root
    (path / "x").write_text("x")
    try:
        with pytest.raises(OSError):
            write_json_atomic(path, {"n": 1}, what="relay switch counts")
        alert = phone.on_topic("circuitq/alert", lambda m: m.json()["key"] == KEY).json()
        assert str(path) in alert["message"] and "relay switch counts no longer kept" in alert["message"]
        assert alert["resolved"] is False and alert["source"] == "relay_agent"
        assert str(path) in c.health()["not_persisted"]
        (path / "x").unlink()
        path.rmdir()
        write_json_atomic(path, {"n": 2}, what="relay switch counts")
        done = phone.on_topic("circuitq/alert", lambda m: m.json()["key"] == KEY and m.json()["resolved"]).json()
        assert done["key"] == alert["key"] and str(path) in done["message"]
        assert c.health()["not_persisted"] == {}
    finally:
        c.stop()
