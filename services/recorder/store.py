"""The recorder's writes: one row per message, committed before the message is acknowledged.

`add()` runs in the MQTT client's network thread (paho sends the PUBACK of a QoS 1 message
after its callback returns), so a message is in the WAL before the broker forgets it: a
recorder killed at any instant loses nothing the broker delivered. Roll-ups and retention
run on the service's loop thread through the same connection, under one lock.

Duplicates are dropped here: a retained state is kept only when its payload changed (every
re-subscribe and heartbeat re-sends the same one); a reading once per content timestamp; an
event redelivered after a crash (DUP flag) once.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

from . import schema
from .classify import STATE_KINDS, Message, Reading, Solar

DUP_WINDOW_S = 3600.0  # a redelivered event is looked for among the last hour's rows
PURGE_CHUNK = 5000  # rows per DELETE: keeps each write lock short for the message path


class Store:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.con = schema.connect(self.path)
        self.lock = threading.Lock()
        self.last: dict[tuple[str, str], str] = {}  # (kind, name) -> last state payload kept
        for kind, name, payload in self.con.execute(
                "SELECT kind, name, payload FROM messages WHERE id IN "
                "(SELECT max(id) FROM messages GROUP BY kind, name)"):
            if kind in STATE_KINDS:
                self.last[(kind, name)] = payload
        self.written = 0  # rows written since start (bench, health)

    def close(self) -> None:
        with self.lock:
            self.con.close()

    # ------------------------------------------------------------ the message path
    def add(self, row: Message | Reading | Solar, received: float, dup: bool = False) -> bool:
        """Write one row (its own transaction). False: a duplicate, nothing written."""
        with self.lock:
            if isinstance(row, Reading):
                cur = self.con.execute(
                    "INSERT OR IGNORE INTO readings(ts, received, consumption_w, production_w, net_w, "
                    "circuits, stale) VALUES (?,?,?,?,?,?,?)",
                    (row.ts, received, row.consumption_w, row.production_w, row.net_w,
                     json.dumps(row.circuits, separators=(",", ":")), int(row.stale)))
            elif isinstance(row, Solar):
                cur = self.con.execute(
                    "INSERT OR IGNORE INTO solar(ts, source, w, stale, received) VALUES (?,?,?,?,?)",
                    (row.ts, row.source, row.w, int(row.stale), received))
            else:
                key = (row.kind, row.name)
                if row.kind in STATE_KINDS:
                    if self.last.get(key) == row.payload:
                        return False
                elif dup and self.con.execute(
                        "SELECT 1 FROM messages WHERE kind=? AND name=? AND received>? AND payload=? LIMIT 1",
                        (row.kind, row.name, received - DUP_WINDOW_S, row.payload)).fetchone():
                    return False
                cur = self.con.execute(
                    "INSERT INTO messages(received, ts, kind, name, topic, payload, retained, by) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    (received, row.ts, row.kind, row.name, row.topic, row.payload, int(row.retained), row.by))
                if row.kind in STATE_KINDS:
                    self.last[key] = row.payload
            stored = cur.rowcount > 0
            self.written += stored
            return stored

    # ------------------------------------------------------------ roll-ups and retention
    def save_day(self, day: str, made: float, final: bool, summary: dict) -> None:
        with self.lock:
            self.con.execute("INSERT OR REPLACE INTO days(day, made, final, summary) VALUES (?,?,?,?)",
                             (day, made, int(final), json.dumps(summary, separators=(",", ":"))))

    def final_days(self) -> set[str]:
        with self.lock:
            return {d for (d,) in self.con.execute("SELECT day FROM days WHERE final=1")}

    def purge(self, messages_before: float, readings_before: float) -> int:
        """Delete rows older than the cut-offs, a chunk per transaction; returns rows deleted."""
        total = 0
        for sql, cut in (("DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE received<? LIMIT %d)",
                          messages_before),
                         ("DELETE FROM readings WHERE ts IN (SELECT ts FROM readings WHERE ts<? LIMIT %d)",
                          readings_before),
                         ("DELETE FROM solar WHERE ts IN (SELECT ts FROM solar WHERE ts<? LIMIT %d)",
                          readings_before)):
            while True:
                with self.lock:
                    n = self.con.execute(sql % PURGE_CHUNK, (cut,)).rowcount
                total += n
                if n < PURGE_CHUNK:
                    break
        if total:
            with self.lock:
                self.con.execute("PRAGMA incremental_vacuum(2000)")
        return total
