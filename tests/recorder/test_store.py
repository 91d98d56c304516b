"""What is kept, and only once: states when they change, a reading per timestamp, a redelivered
event once; retention; what a message becomes."""
from __future__ import annotations

import json
import sqlite3

from services.recorder.classify import Message, Reading, Solar, classify
from services.recorder.store import Store

READING = {"ts": "2026-07-14T13:00:00-04:00", "received": "2026-07-14T13:00:02-04:00", "stale": False,
           "age_s": 2, "consumption_w": 5200, "production_w": 3000, "net_w": 2200,
           "circuits": {"pool_pump": 1100, "kitchen": 300}}


def msg(topic, payload, retained=False, by=None):
    data = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return classify("circuitq", topic, data.encode() if isinstance(data, str) else data, retained, by)


def rows(path, sql):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_what_each_message_becomes():
    r = msg("circuitq/curb/reading", READING, True)
    assert isinstance(r, Reading) and r.circuits == {"pool_pump": 1100, "kitchen": 300} and r.net_w == 2200
    s = msg("circuitq/solar/production", {"w": 4100, "ts": "2026-07-14T13:00:00-04:00", "source": "envoy",
                                          "received": "2026-07-14T13:00:01-04:00", "stale": False, "age_s": 1})
    assert isinstance(s, Solar) and s.w == 4100 and s.source == "envoy"
    st = msg("circuitq/load/pool_pump/state", {"mode": "auto", "since": "2026-07-14T12:00:00-04:00"}, True)
    assert isinstance(st, Message) and (st.kind, st.name) == ("load_state", "pool_pump") and st.ts is not None
    o = msg("circuitq/load/pool_pump/set", "ON", by="alice")
    assert (o.kind, o.by, o.payload) == ("load_set", "alice", "ON")
    assert msg("circuitq/activity", {"service": "scheduler"}, by="mallory").by is None  # only overrides
    assert msg("circuitq/scheduler/heartbeat", {"ts": "x"}, True) is None  # not kept
    assert msg("circuitq/load/pool_pump/set", b"", True) is None  # a cleared retained /set
    assert msg("elsewhere/topic", "x") is None
    bad = msg("circuitq/curb/reading", {"ts": "yesterday", "circuits": {}}, True)
    assert isinstance(bad, Message) and bad.kind == "curb_reading"  # kept, not lost


def test_states_are_kept_when_they_change_even_across_a_restart(tmp_path):
    path = tmp_path / "r.sqlite"
    store = Store(path)
    a = msg("circuitq/load/pool_pump/state", {"mode": "auto", "running": True}, True)
    b = msg("circuitq/load/pool_pump/state", {"mode": "auto", "running": False}, True)
    assert store.add(a, 1.0) and not store.add(a, 2.0)  # a heartbeat's re-send, a re-subscribe
    assert store.add(b, 3.0)
    store.close()
    store = Store(path)  # the last payload of each state is read back at start
    assert not store.add(b, 4.0) and store.add(a, 5.0)
    store.close()
    assert rows(path, "SELECT count(*) FROM messages")[0][0] == 3


def test_a_reading_once_per_timestamp_and_a_redelivered_event_once(tmp_path):
    path = tmp_path / "r.sqlite"
    store = Store(path)
    r = msg("circuitq/curb/reading", READING, True)
    assert store.add(r, 1.0) and not store.add(r, 2.0)
    act = msg("circuitq/activity", {"service": "scheduler", "subject": "pool_pump", "message": "on",
                                    "ts": "2026-07-14T13:00:00-04:00"})
    assert store.add(act, 10.0)
    assert not store.add(act, 11.0, dup=True)  # the broker's redelivery after a crash (DUP flag)
    on = msg("circuitq/load/pool_pump/set", "ON", by="alice")
    assert store.add(on, 12.0) and store.add(on, 13.0)  # two presses of ON are two overrides
    store.close()
    assert rows(path, "SELECT count(*) FROM readings")[0][0] == 1
    assert rows(path, "SELECT kind, by FROM messages ORDER BY id") == [
        ("activity", None), ("load_set", "alice"), ("load_set", "alice")]


def test_retention_deletes_old_rows_and_keeps_roll_ups(tmp_path):
    path = tmp_path / "r.sqlite"
    store = Store(path)
    for i in range(12000):  # more than one purge chunk
        store.add(Message("activity", "", "circuitq/activity", f'{{"n": {i}}}', None, False), 100.0 + i)
    store.add(Message("activity", "", "circuitq/activity", '{"n": "new"}', None, False), 1e6)
    store.add(Reading(50.0, 1, 0, 1, {}, False), 50.0)
    store.add(Reading(5e5, 1, 0, 1, {}, False), 5e5)
    store.save_day("2026-07-14", 1.0, True, {"consumption_kwh": 1})
    assert store.purge(messages_before=9e5, readings_before=1e5) == 12001
    store.close()
    assert rows(path, "SELECT payload FROM messages") == [('{"n": "new"}',)]
    assert rows(path, "SELECT ts FROM readings") == [(5e5,)]
    assert rows(path, "SELECT day FROM days") == [("2026-07-14",)]
