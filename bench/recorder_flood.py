"""The recorder's write rate under a flood of Curb readings, beside its two floors.

One run, one broker (the project's config): N readings with distinct timestamps published at
QoS 1 as fast as paho sends them, by the curb_collector user. Floors: a bare paho QoS 1
subscriber counting the same flood (what the broker and paho can deliver), and SQLite alone
committing the same rows one transaction each (what the disk path costs). The recorder's figure
is from the first publish until its file holds all N rows; lost = rows that never arrived.
"""
from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from circuitq.config import Secrets
from services.recorder.classify import classify
from services.recorder.store import Store
from sim.broker import Broker
from sim.fleet import ROOT, write_fleet_config
from sim.secrets import make_dev_secrets
from tests.mqtt_probe import Probe
from tests.recorder.helpers import reading

CIRCUITS = {c: 500.0 for c in ("kitchen", "dryer", "heat_pump_north", "heat_pump_south", "water_heater_north",
                               "water_heater_south", "pool_pump", "garage", "bedroom_1", "bedroom_2")}


def payloads(n: int) -> list[str]:
    t0 = datetime(2026, 7, 14, 4, 0, tzinfo=timezone.utc)
    return [reading(t0 + timedelta(seconds=i), CIRCUITS, 1000.0) for i in range(n)]


def flood(port: int, password: str, msgs: list[str]) -> float:
    pub = Probe(port, "curb_collector", password)
    t0 = time.monotonic()
    infos = [pub.c.publish("circuitq/curb/reading", m, qos=1, retain=True) for m in msgs]
    for info in infos:
        info.wait_for_publish(60)
    pub.close()
    return t0


def floor_paho(port: int, secrets: Secrets, msgs: list[str], as_recorder: bool = False) -> tuple[int, float]:
    """A bare paho QoS 1 subscriber (no parsing, no disk): (readings received, readings/s).
    as_recorder: subscribed as the recorder is (a persistent MQTT 5 session, `circuitq/#`)."""
    got, last = [0], [0.0]
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-floor-{as_recorder}", protocol=paho.MQTTv5)
    c.username_pw_set("recorder", secrets.mqtt_users["recorder"])
    c.on_socket_open = lambda cl, u, sock: sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    subscribed = threading.Event()
    c.on_subscribe = lambda *a: subscribed.set()

    def on_message(cl, u, m):
        got[0] += 1
        last[0] = time.monotonic()
    c.on_message = on_message
    props = None
    if as_recorder:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
    c.connect("127.0.0.1", port, clean_start=not as_recorder, properties=props)
    c.loop_start()
    c.subscribe("circuitq/#" if as_recorder else "circuitq/curb/reading", qos=1)
    subscribed.wait(10)
    time.sleep(0.2)
    got[0] = 0  # not the retained one
    t0 = flood(port, secrets.mqtt_users["curb_collector"], msgs)
    while got[0] < len(msgs) and time.monotonic() - max(last[0], t0) < 2.0:
        time.sleep(0.01)
    c.disconnect()
    c.loop_stop()
    return got[0], got[0] / max(last[0] - t0, 1e-6)


def floor_sqlite(d: Path, msgs: list[str]) -> float:
    store = Store(d / "floor.sqlite")
    rows = [classify("circuitq", "circuitq/curb/reading", m.encode(), True) for m in msgs]
    t0 = time.monotonic()
    for r in rows:
        store.add(r, 0.0)
    rate = len(rows) / (time.monotonic() - t0)
    store.close()
    return rate


def count_rows(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT count(*) FROM readings").fetchone()[0]
    finally:
        con.close()


def until_quiet(db: Path, want: int, quiet_s: float = 2.0) -> tuple[int, float]:
    """Rows counted until `want` arrive or none arrive for quiet_s; (rows, when the last came)."""
    count, last_change = count_rows(db), time.monotonic()
    while count < want and time.monotonic() - last_change < quiet_s:
        time.sleep(0.01)
        now = count_rows(db)
        if now != count:
            count, last_change = now, time.monotonic()
    return count, last_change


def recorder_rate(d: Path, port: int, secrets: Secrets, msgs: list[str]) -> tuple[int, float]:
    cfg = write_fleet_config(d / "config.yaml", d, port, d / "secrets.yaml", None, {"state_dir": str(d / "state")})
    watcher = Probe(port, "user", secrets.mqtt_users["user"])
    watcher.subscribe("circuitq/recorder/status")
    rec = subprocess.Popen([sys.executable, "-m", "services.recorder", "--config", str(cfg)], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        watcher.on_topic("circuitq/recorder/status", lambda m: m.text == "online" and not m.retain, timeout=60)
        db = d / "state" / "recorder.sqlite"
        base = count_rows(db)  # the retained reading the subscription brought
        t0 = flood(port, secrets.mqtt_users["curb_collector"], msgs)
        count, last = until_quiet(db, base + len(msgs))
        return count - base, last - t0
    finally:
        rec.terminate()
        rec.wait(10)
        watcher.close()


def run(n: int = 3000) -> list[tuple[str, str]]:
    msgs = payloads(n + 1)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        secrets = Secrets.model_validate(make_dev_secrets(d / "secrets.yaml"))
        broker = Broker(d / "broker", secrets).start()
        try:
            paho_got, paho_rate = floor_paho(broker.port, secrets, msgs[:n])
            rec_got, rec_rate = floor_paho(broker.port, secrets, msgs[:n], as_recorder=True)
            sqlite_rate = floor_sqlite(d, msgs[:n])
            got, elapsed = recorder_rate(d, broker.port, secrets, msgs[1:])
        finally:
            broker.stop()
        dropped = "Outgoing messages are being dropped for client circuitq-recorder" in broker.log_text()
    limit = next((ln.split()[1] for ln in (ROOT / "mosquitto" / "mosquitto.conf").read_text().splitlines()
                  if ln.startswith("max_queued_messages")), "?")
    return [("floor: bare paho QoS 1 subscriber", f"{paho_rate:,.0f} readings/s ({paho_got} of {n})"),
            ("floor: bare paho subscribed as the recorder (MQTT 5 persistent session, circuitq/#)",
             f"{rec_rate:,.0f} readings/s ({rec_got} of {n})"),
            ("floor: SQLite alone, one commit per reading (WAL, synchronous=NORMAL)", f"{sqlite_rate:,.0f} readings/s"),
            (f"recorder: a burst of {n} readings, publish -> row in its file",
             f"{got / elapsed:,.0f} readings/s; {got} kept, {n - got} never delivered"
             + (f" (the broker logged 'Outgoing messages are being dropped': its queue for a client "
                f"holds max_queued_messages {limit})" if dropped else ""))]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label}: {value}")
