"""QoS 1 command -> state round trip through the project's broker, as the fleet does it.

The scheduler's FleetClient publishes a relay command; a relay-agent FleetClient answers
on the relay's state topic; we time publish -> answer. Measured with TCP_NODELAY as
shipped (broker `set_tcp_nodelay true`, clients set it on the socket) and with Nagle on
both sides, to show what the socket option is worth (../shared/reference/measured.md).
"""
from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

from circuitq import topics as t
from circuitq.config import Secrets
from circuitq.config.mqtt import MqttConfig
from circuitq.mqtt import FleetClient
from sim.broker import Broker
from sim.secrets import make_dev_secrets


def _round_trips(port: int, secrets: Secrets, n: int, nodelay: bool) -> list[float]:
    sched = FleetClient("scheduler", MqttConfig(port=port), secrets.mqtt_users["scheduler"])
    agent = FleetClient("relay_agent", MqttConfig(port=port), secrets.mqtt_users["relay_agent"])
    if not nodelay:
        for c in (sched, agent):
            c.paho.on_socket_open = None  # leave Nagle's algorithm on
    got = threading.Event()
    agent.subscribe(t.RELAY_COMMAND.filter("circuitq"),
                    lambda topic, payload, r: agent.publish(t.RELAY_STATE.topic("circuitq", relay="bench"),
                                                            payload, qos=1))
    sched.subscribe(t.RELAY_STATE.topic("circuitq", relay="bench"), lambda *a: got.set())
    for c in (agent, sched):
        c.start()
        c.wait_connected(5)
    time.sleep(0.3)
    cmd = t.RELAY_COMMAND.topic("circuitq", relay="bench")
    samples = []
    for i in range(n):
        got.clear()
        t0 = time.perf_counter()
        sched.publish(cmd, '{"state":"on","lease_s":60,"id":"%d"}' % i, qos=1)
        if not got.wait(2):
            continue
        samples.append((time.perf_counter() - t0) * 1000)
    for c in (sched, agent):
        c.stop()
    return samples


def run(n: int = 200) -> list[tuple[str, str]]:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        secrets = Secrets.model_validate(make_dev_secrets(Path(d) / "secrets.yaml"))
        for label, nodelay, count in (("TCP_NODELAY (as shipped)", True, n),
                                      ("Nagle on both sides", False, max(20, n // 10))):
            broker = Broker(Path(d) / label.split()[0], secrets, tcp_nodelay=nodelay).start()
            try:
                s = sorted(_round_trips(broker.port, secrets, count, nodelay))
            finally:
                broker.stop()
            p99 = s[min(len(s) - 1, int(len(s) * 0.99))]
            rows.append((f"command->state round trip, QoS 1, {label}",
                         f"p50 {statistics.median(s):.2f} ms, p99 {p99:.2f} ms (n={len(s)})"))
    return rows


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
