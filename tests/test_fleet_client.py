"""FleetClient against the real broker and ACL: availability, wills, resubscribe, errors."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from circuitq import SERVICES
from circuitq.config.mqtt import MqttConfig
from circuitq.mqtt import FleetClient
from tests.mqtt_probe import Probe

ROOT = Path(__file__).resolve().parent.parent


def fleet_client(broker, secrets, service="scheduler"):
    c = FleetClient(service, MqttConfig(port=broker.port), secrets.mqtt_users[service])
    c.start()
    assert c.wait_connected(5)
    return c


def test_status_online_retained_then_offline_on_clean_stop(broker, secrets, probe_factory):
    c = fleet_client(broker, secrets, "notifier")
    late = probe_factory(broker, "user")  # subscribes after the fact: sees the retained value
    late.subscribe("circuitq/notifier/status")
    assert late.on_topic("circuitq/notifier/status").text == "online"
    c.stop()
    assert late.on_topic("circuitq/notifier/status", lambda m: m.text == "offline").text == "offline"


@pytest.mark.parametrize("service", SERVICES)
def test_last_will_of_each_service_is_delivered_on_kill_9(broker, secrets, user_probe, service):
    """The ACL must let each user write its own will topic, or Mosquitto drops it silently."""
    topic = f"circuitq/{service}/status"
    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.hold_connection", service,
                             str(broker.port), secrets.mqtt_users[service]],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "connected"
        user_probe.on_topic(topic, lambda m: m.text == "online")
        mark = user_probe.mark()
        proc.kill()
        proc.wait()
        assert user_probe.on_topic(topic, lambda m: m.text == "offline", since=mark, timeout=30)
    finally:
        proc.kill()


def test_user_account_cannot_command_a_relay_or_fake_a_status(broker, secrets, probe_factory):
    agent = probe_factory(broker, "relay_agent")
    agent.subscribe("circuitq/relay/+/command")
    watcher = probe_factory(broker, "user")
    watcher.subscribe("circuitq/+/status")
    phone = probe_factory(broker, "user")
    phone.publish("circuitq/relay/pool_pump/command", {"state": "on", "lease_s": 60, "id": "x"})
    phone.publish("circuitq/scheduler/status", "offline", retain=True)
    scheduler = probe_factory(broker, "scheduler")
    scheduler.publish("circuitq/relay/pool_pump/command", {"state": "off", "lease_s": 60, "id": "y"})
    got = agent.on_topic("circuitq/relay/pool_pump/command")
    assert got.json()["id"] == "y"  # only the scheduler's command arrived
    time.sleep(0.2)
    assert [m.json()["id"] for m in agent.messages] == ["y"]
    # (a retained value from an earlier test arrives flagged retain; a live publish would not)
    assert not any(m.topic == "circuitq/scheduler/status" and not m.retain for m in watcher.messages)


def test_anonymous_and_wrong_password_are_refused(broker):
    with pytest.raises(ConnectionError):
        Probe(broker.port, "user", "wrong-password")
    with pytest.raises(ConnectionError):
        Probe(broker.port, "", None)


def test_subscriptions_restored_after_broker_restart(own_broker, secrets, probe_factory):
    got = []
    c = FleetClient("scheduler", MqttConfig(port=own_broker.port, reconnect_min_s=0.1, reconnect_max_s=0.5),
                    secrets.mqtt_users["scheduler"])
    c.subscribe("circuitq/load/+/set", lambda topic, payload, retained: got.append(payload))
    c.start()
    assert c.wait_connected(5)
    own_broker.kill()
    time.sleep(0.3)
    assert not c.connected.is_set()
    own_broker.start()
    assert c.wait_connected(10)
    time.sleep(0.2)
    probe_factory(own_broker, "user").publish("circuitq/load/pool_pump/set", "ON")
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    c.stop()
    assert got == [b"ON"]


def test_a_handler_that_raises_is_reported_and_the_client_keeps_working(broker, secrets, user_probe):
    seen = []

    def handler(topic, payload, retained):
        if payload == b"boom":
            raise ValueError("cannot use this")
        seen.append(payload)

    c = fleet_client(broker, secrets, "scheduler")
    c.subscribe("circuitq/load/+/set", handler)
    time.sleep(0.1)
    user_probe.publish("circuitq/load/dryer/set", "boom")
    err = user_probe.on_topic("circuitq/error").json()
    assert err["service"] == "scheduler" and err["topic"] == "circuitq/load/dryer/set"
    assert err["payload"] == "boom" and "cannot use this" in err["error"]
    user_probe.publish("circuitq/load/dryer/set", "AUTO")
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    c.stop()
    assert seen == [b"AUTO"]


def test_long_payload_is_cut_in_error_reports(broker, secrets, user_probe):
    c = fleet_client(broker, secrets, "scheduler")
    c.report_error("circuitq/load/x/set", b"y" * 5000, "too long")
    err = user_probe.on_topic("circuitq/error", lambda m: m.json()["error"] == "too long").json()
    c.stop()
    assert len(err["payload"]) == 200


def test_client_socket_has_tcp_nodelay(broker, secrets):
    """Nagle + delayed ACK costs ~88 ms per QoS 1 round trip (measured.md); see bench/."""
    c = fleet_client(broker, secrets)
    sock = c.paho.socket()
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    c.stop()
    conf = (ROOT / "mosquitto" / "mosquitto.conf").read_text()
    assert "\nset_tcp_nodelay true" in conf


def test_a_leased_command_is_not_queued_while_offline(own_broker, secrets, probe_factory):
    """paho queues QoS 1 publishes made while disconnected and sends them on reconnect: a relay
    command would arrive minutes late and start a fresh lease on a stale decision."""
    from circuitq import topics as t
    from circuitq.payloads import RelayCommand
    agent = probe_factory(own_broker, "relay_agent")
    c = FleetClient("scheduler", MqttConfig(port=own_broker.port, reconnect_min_s=0.1, reconnect_max_s=0.5),
                    secrets.mqtt_users["scheduler"])
    c.start()
    assert c.wait_connected(5)
    own_broker.kill()
    agent.close()
    time.sleep(0.3)
    assert c.publish_entry(t.RELAY_COMMAND, RelayCommand(state="on", lease_s=300, id="stale"),
                           relay="pool_pump") is None
    c.publish_entry(t.ALERT, {"key": "k"})  # an ordinary message is still queued
    own_broker.start()
    agent = probe_factory(own_broker, "relay_agent")
    agent.subscribe("circuitq/relay/+/command")
    assert c.wait_connected(10)
    time.sleep(0.5)
    c.stop()
    assert not [m for m in agent.messages if m.topic == "circuitq/relay/pool_pump/command"]


def test_the_broker_refuses_oversized_messages(broker, secrets, probe_factory):
    """max_packet_size: a runaway client cannot make every service parse megabytes."""
    agent = probe_factory(broker, "relay_agent")
    agent.subscribe("circuitq/relay/+/command")
    sched = probe_factory(broker, "scheduler")
    sched.c.publish("circuitq/relay/big/command", b"x" * 100_000, qos=0)
    sched2 = probe_factory(broker, "scheduler")
    sched2.publish("circuitq/relay/big/command", b"small")
    assert agent.on_topic("circuitq/relay/big/command").payload == b"small"
    assert all(len(m.payload) < 65536 for m in agent.messages)
