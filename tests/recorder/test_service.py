"""The recorder as docker-compose runs it, against the real broker and ACL: it keeps what the
fleet says, loses nothing across kill -9 and a broker restart, rolls a day up to the sum of its
readings, and exports a day that `sim.replay` reads back."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from services.recorder.query import History
from services.recorder.store import Store
from services.recorder.classify import classify
from tests.conftest import ROOT, write_config
from tests.recorder.helpers import minutes, query, reading, wait_online, wait_rows

FAST = {"recorder": {"rollup_every_min": 0.05}}
CIRCUITS = {"pool_pump": 1100.0, "kitchen": 400.0, "water_heater_north": 4500.0}


def publish_v5(port: int, user: str, password: str, topic: str, payload: str, by: str | None = None) -> None:
    """One MQTT 5 publish, with the `by` user property an override from the page carries."""
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:6]}", protocol=paho.MQTTv5)
    c.username_pw_set(user, password)
    c.connect("127.0.0.1", port)
    c.loop_start()
    props = None
    if by:
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = ("by", by)
    c.publish(topic, payload, qos=1, properties=props).wait_for_publish(5)
    c.disconnect()
    c.loop_stop()


def test_records_what_the_fleet_says_with_who_made_each_override(broker, secrets, probe_factory, config_factory,
                                                                  service_factory, tmp_path):
    watcher = probe_factory(broker, "user")
    watcher.subscribe("circuitq/+/status")
    mark = watcher.mark()
    rec = service_factory("recorder", config_factory(FAST))
    wait_online(watcher, "recorder", mark)
    db = tmp_path / "state" / "recorder.sqlite"
    sched = probe_factory(broker, "scheduler")
    state = {"mode": "on", "permitted": True, "running": True, "reason": {"code": "override", "text": "ON"},
             "since": "2026-07-14T13:00:00-04:00"}
    sched.publish("circuitq/load/pool_pump/state", state, retain=True)
    sched.publish("circuitq/load/pool_pump/state", state, retain=True)  # the same again: kept once
    sched.publish("circuitq/relay/pool_pump/command", {"state": "on", "lease_s": 300, "id": "c1"})
    sched.publish("circuitq/activity", {"service": "scheduler", "subject": "pool_pump",
                                        "message": "override ON by the page", "ts": "2026-07-14T13:00:00-04:00"})
    publish_v5(broker.port, "web", secrets.mqtt_users["web"], "circuitq/load/pool_pump/set",
               '{"mode": "on", "minutes": 30}', by="alice")
    publish_v5(broker.port, "user", secrets.mqtt_users["user"], "circuitq/load/pool_pump/set", "OFF")
    want = [("load_state", "pool_pump", None), ("relay_command", "pool_pump", None),
            ("activity", "", None), ("load_set", "pool_pump", "alice"), ("load_set", "pool_pump", None)]
    # (retained states other tests left on this broker come first, at subscribe time)
    wait_rows(db, "SELECT kind, name, by FROM messages WHERE kind IN "
                  "('load_state','relay_command','activity','load_set') ORDER BY id", lambda r: r[-5:] == want)
    assert rec.alive()


def test_kill_9_and_a_broker_restart_lose_no_reading(own_broker, secrets, secrets_path, probe_factory,
                                                     service_factory, tmp_path):
    cfg = write_config(tmp_path / "config.yaml", own_broker, secrets_path, tmp_path / "state", FAST)
    db = tmp_path / "state" / "recorder.sqlite"
    day = "2026-07-14"
    times = minutes(day, 80, offset_min=9 * 60)
    published: list[float] = []

    def burst(probe, n: int) -> None:
        for ts in times[len(published):len(published) + n]:
            probe.publish("circuitq/curb/reading", reading(ts, CIRCUITS, 2000.0), retain=True)
            published.append(ts.timestamp())

    watcher = probe_factory(own_broker, "user")
    watcher.subscribe("circuitq/+/status")
    rec = service_factory("recorder", cfg)
    wait_online(watcher, "recorder", 0)
    curb = probe_factory(own_broker, "curb_collector")
    burst(curb, 20)
    wait_rows(db, "SELECT count(*) FROM readings", lambda r: r[0][0] == 20)
    rec.kill()  # kill -9: the broker keeps its session and queues for it
    burst(curb, 20)
    publish_v5(own_broker.port, "web", secrets.mqtt_users["web"], "circuitq/load/pool_pump/set", "ON", by="bob")
    own_broker.restart()  # a clean restart writes the queue to its persistence file first
    curb = probe_factory(own_broker, "curb_collector")
    burst(curb, 20)
    watcher = probe_factory(own_broker, "user")
    watcher.subscribe("circuitq/+/status")
    mark = watcher.mark()
    service_factory("recorder", cfg)
    wait_online(watcher, "recorder", mark)
    burst(curb, 20)
    got = wait_rows(db, "SELECT ts FROM readings ORDER BY ts", lambda r: len(r) >= 80)
    assert [t for (t,) in got] == sorted(published)  # every one, once
    assert query(db, "SELECT payload, by FROM messages WHERE kind='load_set'") == [("ON", "bob")]
    # the day's roll-up equals the sum of its readings (a minute each; the first one has no span)
    s = wait_rows(db, f"SELECT summary FROM days WHERE day='{day}'",
                  lambda r: r and json.loads(r[0][0])["readings"] == 80)
    summary = json.loads(s[0][0])
    assert abs(summary["loads"]["pool_pump"]["kwh"] - 1.1 * 79 / 60) < 1e-6
    assert abs(summary["consumption_kwh"] - 6.0 * 79 / 60) < 1e-6
    assert abs(summary["import_kwh"] - 4.0 * 79 / 60) < 1e-6


def test_a_recorded_day_exports_as_a_csv_that_replay_reads(tmp_path, secrets_path):
    cfg = write_config(tmp_path / "config.yaml", None, secrets_path, tmp_path / "state")
    store = Store(tmp_path / "state" / "recorder.sqlite")
    day = "2026-07-14"
    for i, ts in enumerate(minutes(day, 24 * 60)):
        circuits = {"kitchen": 300.0 + i % 7, "dryer": 0.0, "heat_pump_north": 3100.0 if i % 90 < 30 else 0.0,
                    "water_heater_north": 4500.0 if 11 * 60 <= i < 13 * 60 else 0.0, "pool_pump": 1100.0}
        row = classify("circuitq", "circuitq/curb/reading", reading(ts, circuits, 3000.0).encode(), True)
        store.add(row, ts.timestamp())
    store.close()
    out = tmp_path / "day.csv"
    r = subprocess.run([sys.executable, "-m", "services.recorder", "export", "--config", str(cfg), "--day", day,
                        "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "ts,production_w,dryer,heat_pump_north,kitchen,pool_pump,water_heater_north"
    assert lines[1].startswith("2026-07-14T00:00:00-04:00,3000,0,3100,300,1100,0")
    summary = tmp_path / "replay.json"
    r = subprocess.run([sys.executable, "-m", "sim.replay", "--config", str(cfg), "--data", str(out),
                        "--json", str(summary)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    got = json.loads(summary.read_text())
    assert got["rows"] == 24 * 60 and got["skipped_rows"] == 0
    assert not [w for w in got["warnings"] if "column" in w], got["warnings"]
    assert got["loads"]["pool_pump"]["hours_permitted"] > 0


def test_export_of_a_day_never_recorded_is_a_header_and_a_bad_day_is_refused(tmp_path, secrets_path):
    cfg = write_config(tmp_path / "config.yaml", None, secrets_path, tmp_path / "state")
    Store(tmp_path / "state" / "recorder.sqlite").close()
    run = lambda *a: subprocess.run([sys.executable, "-m", "services.recorder", "export", "--config", str(cfg),  # noqa: E731
                                     *a], cwd=ROOT, capture_output=True, text=True, timeout=60)
    r = run("--day", "2026-01-01")
    assert r.returncode == 0 and r.stdout == "ts,production_w\n"
    r = run("--day", "14/07/2026")
    assert r.returncode == 2 and "14/07/2026" in r.stderr
    assert History.open(tmp_path / "state" / "recorder.sqlite").days() == []


def test_a_file_it_cannot_use_stops_it_at_start_with_the_path(tmp_path, secrets_path):
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "recorder.sqlite").write_bytes(b"this is not a database, it is a note" * 200)
    cfg = write_config(tmp_path / "config.yaml", None, secrets_path, tmp_path / "state")
    r = subprocess.run([sys.executable, "-m", "services.recorder", "--config", str(cfg)], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "recorder.sqlite" in r.stderr and "Traceback" not in r.stderr, r.stderr
