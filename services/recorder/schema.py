"""The recorder's SQLite file: WAL, one writer (the recorder), any number of readers (the page).

Times are POSIX seconds (REAL, UTC); days are local dates of site.timezone ('YYYY-MM-DD').
WAL with synchronous=NORMAL: a commit is a write() into the WAL, not an fsync, so a killed
process (kill -9) loses nothing it committed; a power cut may lose the last second or so of
commits, never the file's consistency (SQLite's documented WAL guarantee).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- every message except readings: states (only when they change), commands, overrides,
-- alerts, activity lines, errors, health and availability
CREATE TABLE IF NOT EXISTS messages(
  id INTEGER PRIMARY KEY,
  received REAL NOT NULL,          -- when the recorder got it (POSIX s)
  ts REAL,                         -- the payload's own time (ts, else since), if it has one
  kind TEXT NOT NULL,              -- catalogue key: load_state, relay_command, activity, ...
  name TEXT NOT NULL DEFAULT '',   -- the topic's name level: load, relay, service, source
  topic TEXT NOT NULL,
  payload TEXT NOT NULL,
  retained INTEGER NOT NULL DEFAULT 0,
  by TEXT                          -- overrides: who (MQTT 5 user property `by`)
);
CREATE INDEX IF NOT EXISTS messages_kind ON messages(kind, name, received);
CREATE INDEX IF NOT EXISTS messages_received ON messages(received);
-- Curb readings, one per content timestamp (a reading delivered twice is kept once)
CREATE TABLE IF NOT EXISTS readings(
  ts REAL PRIMARY KEY,             -- Curb's own timestamp
  received REAL NOT NULL,
  consumption_w REAL NOT NULL,
  production_w REAL NOT NULL,
  net_w REAL NOT NULL,
  circuits TEXT NOT NULL,          -- JSON {circuit: W}
  stale INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS solar(
  ts REAL NOT NULL,
  source TEXT NOT NULL,
  w REAL NOT NULL,
  stale INTEGER NOT NULL DEFAULT 0,
  received REAL NOT NULL,
  PRIMARY KEY (ts, source)
) WITHOUT ROWID;
-- one roll-up per local day; final = 1 once the day is over
CREATE TABLE IF NOT EXISTS days(
  day TEXT PRIMARY KEY,
  made REAL NOT NULL,
  final INTEGER NOT NULL DEFAULT 0,
  summary TEXT NOT NULL            -- JSON, services/recorder/rollup.py
);
"""


class SchemaError(Exception):
    pass


def connect(path: Path | str, *, readonly: bool = False, timeout_s: float = 5.0) -> sqlite3.Connection:
    """Open the file (the writer creates it). Autocommit: each statement is its own transaction
    unless the caller says BEGIN, so a message is durable when its INSERT returns."""
    path = Path(path)
    if readonly:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no recorder database (is the recorder running?)")
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout_s,
                              isolation_level=None, check_same_thread=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA auto_vacuum=INCREMENTAL")  # only takes effect on a new file
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.executescript(DDL)
        row = con.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        if row is None:
            con.execute("INSERT INTO meta(key, value) VALUES('version', ?)", (str(VERSION),))
        elif int(row[0]) > VERSION:
            raise SchemaError(f"{path}: written by a newer recorder (schema {row[0]}, this one knows "
                              f"{VERSION}); upgrade circuitq or move the file aside")
    con.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
    return con
