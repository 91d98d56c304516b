"""End to end through the real scheduler and relay agent processes, beside the broker's floor.

Paths timed (QoS 1, TCP_NODELAY, the project's broker, one run):
- floor: three chained plain paho clients, each re-publishing what it receives at once
  (curb -> "scheduler" -> "relay agent" -> phone: the same 3 broker hops, no work at all);
- a Curb reading -> scheduler decides -> relay command -> relay agent switches the pin ->
  read-back state received by a phone (the kitchen reading alternates 5 kW / 0 W, so the pool
  pump is shed and let on again by `max_running: 1`);
- a user's `/set` (OFF / ON alternately) -> scheduler -> relay agent -> read-back state;
- throughput: plain paho QoS 1 messages/s to one subscriber, and readings/s the scheduler
  absorbs (a burst of N readings, the last one changing the decision: N / time until the
  relay reads back that decision; readings are latest-value, so a burst is conflated).
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import paho.mqtt.client as paho
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from circuitq.config import Secrets
from sim.broker import Broker
from sim.fleet import EXAMPLE, ROOT, write_fleet_config
from sim.secrets import make_dev_secrets
from tests.mqtt_probe import Probe

READING, STATE = "circuitq/curb/reading", "circuitq/relay/pool_pump/state"
CMD, SET = "circuitq/relay/pool_pump/command", "circuitq/load/pool_pump/set"
NO_LIMITS = {"min_on_s": 0, "min_off_s": 0, "max_starts_per_hour": 1_000_000, "max_lease_s": 900}


def _house(d: Path) -> Path:
    """The example config with two loads: the kitchen (observed) and the pool pump (relay)."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["loads"] = {
        "kitchen": {"kind": "observed", "priority": 100, "running_w": 4000, "hysteresis_w": 100,
                    "debounce_s": 0},
        "pool_pump": {"kind": "relay", "relay": "pool_pump", "priority": 10, "running_w": 500,
                      "hysteresis_w": 100, "debounce_s": 0, "min_on_s": 0, "min_off_s": 0},
    }
    data["scheduler"].update({"max_running": 1, "settle_s": 0.001, "startup_grace_s": 0.5, "drm": {},
                              "ha_discovery": False})
    data["drm_outputs"] = {}
    data.pop("simulation", None)  # the simulated house describes the example's loads
    data["relays"] = {"pool_pump": {**data["relays"]["pool_pump"], **NO_LIMITS}}
    path = d / "house.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _reading(kitchen_w: float, pool_w: float) -> str:
    """A Curb reading; the pool pump draws while it runs (an idle permitted load frees its slot)."""
    now = datetime.now(timezone.utc).isoformat()
    return json.dumps({"ts": now, "received": now, "stale": False, "age_s": 0.0,
                       "consumption_w": kitchen_w + pool_w, "production_w": 0.0, "net_w": kitchen_w + pool_w,
                       "circuits": {"kitchen": kitchen_w, "pool_pump": pool_w}})


def _relay(port: int, user: str, pw: str, src: str, dst: str) -> paho.Client:
    """A plain paho client that re-publishes every message on `src` to `dst` at once."""
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"floor-{user}")
    c.username_pw_set(user, pw)
    c.on_socket_open = lambda cl, u, s: s.setsockopt(6, 1, 1)  # TCP_NODELAY
    ready = threading.Event()
    c.on_connect = lambda cl, u, f, rc, p: cl.subscribe(src, 1)
    c.on_subscribe = lambda *a: ready.set()
    c.on_message = lambda cl, u, m: cl.publish(dst, m.payload, qos=1)
    c.connect("127.0.0.1", port)
    c.loop_start()
    ready.wait(10)
    return c


def _stats(ms: list[float]) -> str:
    s = sorted(ms)
    return f"p50 {statistics.median(s):.2f} ms, p99 {s[max(0, int(len(s) * 0.99) - 1)]:.2f} ms (n={len(s)})"


def _timed(phone: Probe, send, want, n: int) -> list[float]:
    out = []
    for i in range(n):
        mark = phone.mark()
        t0 = time.monotonic()
        send(i)
        m = phone.on_topic(STATE, lambda m, i=i: m.json()["level"] == want(i), since=mark, timeout=10)
        out.append((m.t - t0) * 1000)
    return out


def _floor(port: int, secrets: Secrets, n: int) -> list[float]:
    pw = secrets.mqtt_users
    hops = [_relay(port, "scheduler", pw["scheduler"], READING, CMD),
            _relay(port, "relay_agent", pw["relay_agent"], CMD, STATE)]
    phone = Probe(port, "user", pw["user"])
    phone.subscribe(STATE)
    curb = Probe(port, "curb_collector", pw["curb_collector"])
    try:
        out = []
        for i in range(n):
            mark = phone.mark()
            t0 = time.monotonic()
            curb.c.publish(READING, json.dumps({"level": str(i)}), qos=1)
            m = phone.on_topic(STATE, lambda m, i=i: m.json()["level"] == str(i), since=mark, timeout=10)
            out.append((m.t - t0) * 1000)
        return out
    finally:
        for c in hops:
            c.loop_stop()
            c.disconnect()
        phone.close()
        curb.close()


def _raw_throughput(port: int, secrets: Secrets, n: int) -> float:
    pw = secrets.mqtt_users
    sub = Probe(port, "user", pw["user"])  # may read curb/circuit/+, which nothing else reads here
    sub.subscribe("circuitq/curb/circuit/raw")
    pub = Probe(port, "curb_collector", pw["curb_collector"])
    t0 = time.monotonic()
    for i in range(n):
        pub.c.publish("circuitq/curb/circuit/raw", str(i), qos=1)
    sub.wait_for(lambda m: m.text == str(n - 1), timeout=60)
    rate = n / (time.monotonic() - t0)
    sub.close()
    pub.close()
    return rate


def run(n: int = 200, burst: int = 900) -> list[tuple[str, str]]:
    # burst below the broker's max_queued_messages (1000): a plain subscriber that lags more
    # has messages dropped by the broker, which would flatter neither side
    rows = []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        secrets = Secrets.model_validate(make_dev_secrets(d / "secrets.yaml"))
        broker = Broker(d / "broker", secrets).start()
        procs = []
        try:
            floor = _floor(broker.port, secrets, n)
            rows.append(("floor: 3 broker hops, plain paho re-publishing, QoS 1", _stats(floor)))
            cfg = write_fleet_config(d / "config.yaml", d, broker.port, d / "secrets.yaml", None, base=_house(d))
            phone = Probe(broker.port, "user", secrets.mqtt_users["user"])
            phone.subscribe("circuitq/#")
            for name in ("relay_agent", "scheduler"):
                log = open(d / f"{name}.log", "wb")
                procs.append(subprocess.Popen([sys.executable, "-m", f"services.{name}", "--config", str(cfg)],
                                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
                try:
                    phone.on_topic(f"circuitq/{name}/status", lambda m: m.text == "online" and not m.retain,
                                   timeout=30)
                except TimeoutError:
                    raise RuntimeError(f"{name} did not come online:\n{(d / f'{name}.log').read_text()[-2000:]}")
            curb = Probe(broker.port, "curb_collector", secrets.mqtt_users["curb_collector"])
            curb.publish(READING, _reading(0.0, 0.0), retain=True)
            phone.on_topic(STATE, lambda m: m.json()["level"] == "on" and not m.retain, timeout=30)
            e2e = _timed(phone, lambda i: curb.c.publish(READING, _reading(*((5000.0, 1500.0) if i % 2 == 0
                                                                    else (0.0, 0.0))), qos=1, retain=True),
                         lambda i: "off" if i % 2 == 0 else "on", n)
            p50 = statistics.median(e2e)
            rows.append(("Curb reading -> scheduler -> relay agent -> read-back", _stats(e2e)))
            rows.append(("  ... / floor (p50)", f"{p50 / statistics.median(floor):.1f} x (goal: within 4 x)"))
            sets = _timed(phone, lambda i: phone.c.publish(SET, "OFF" if i % 2 == 0 else "ON", qos=1),
                          lambda i: "off" if i % 2 == 0 else "on", n)
            rows.append(("user /set -> scheduler -> relay agent -> read-back", _stats(sets)))
            phone.publish(SET, "AUTO")
            phone.on_topic(STATE, lambda m: m.json()["level"] == "on", timeout=10)

            raw = _raw_throughput(broker.port, secrets, burst)
            rows.append(("plain paho QoS 1 to one subscriber", f"{raw:,.0f} messages/s (n={burst})"))
            mark = phone.mark()
            t0 = time.monotonic()
            for i in range(burst - 1):
                curb.c.publish(READING, _reading(0.0, 1500.0), qos=1, retain=True)
            curb.c.publish(READING, _reading(5000.0, 1500.0), qos=1, retain=True)
            phone.on_topic(STATE, lambda m: m.json()["level"] == "off", since=mark, timeout=60)
            absorbed = burst / (time.monotonic() - t0)
            rows.append(("scheduler absorbing a burst of readings", f"{absorbed:,.0f} readings/s "
                                                                    f"= {absorbed / raw * 100:.0f} % of plain paho "
                                                                    f"(goal >= 50 %)"))
            curb.close()
            phone.close()
        finally:
            for p in procs:
                p.terminate()
                p.wait(10)
            broker.stop()
    return rows


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
