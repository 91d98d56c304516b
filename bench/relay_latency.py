"""Relay command to pin read-back: scheduler publish -> relay agent switches -> retained state seen.

The real relay agent process (sim backend, no switching limits) on the project's broker;
the time is from the scheduler's publish to a phone-like client receiving the new level.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from circuitq.config import Secrets
from sim.broker import Broker
from sim.fleet import ROOT, write_fleet_config
from sim.secrets import make_dev_secrets
from tests.mqtt_probe import Probe

RELAYS = ("water_heater_north", "water_heater_south", "pool_pump")


def run(n: int = 200) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        secrets = Secrets.model_validate(make_dev_secrets(d / "secrets.yaml"))
        broker = Broker(d / "broker", secrets).start()
        cfg = write_fleet_config(d / "config.yaml", d, broker.port, d / "secrets.yaml", None, {
            "relays": {r: {"min_on_s": 0, "min_off_s": 0, "max_starts_per_hour": 100000} for r in RELAYS}})
        agent = subprocess.Popen([sys.executable, "-m", "services.relay_agent", "--config", str(cfg)],
                                 cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            phone = Probe(broker.port, "user", secrets.mqtt_users["user"])
            phone.subscribe("circuitq/relay/pool_pump/state")
            sched = Probe(broker.port, "scheduler", secrets.mqtt_users["scheduler"])
            phone.on_topic("circuitq/relay/pool_pump/state", lambda m: not m.retain, timeout=10)
            samples = []
            for i in range(n):
                want = "off" if i % 2 == 0 else "on"
                mark = phone.mark()
                t0 = time.monotonic()
                sched.c.publish("circuitq/relay/pool_pump/command",
                                '{"state":"%s","lease_s":60,"id":"b%d"}' % (want, i), qos=1)
                m = phone.on_topic("circuitq/relay/pool_pump/state",
                                   lambda m: m.json()["level"] == want, since=mark, timeout=5)
                samples.append((m.t - t0) * 1000)
            phone.close()
            sched.close()
        finally:
            agent.terminate()
            agent.wait(10)
            broker.stop()
    s = sorted(samples)
    return [("relay command -> pin switched -> state received, QoS 1",
             f"p50 {statistics.median(s):.2f} ms, p99 {s[int(len(s) * 0.99) - 1]:.2f} ms (n={len(s)})")]


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
