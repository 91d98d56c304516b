"""Helpers for the recorder's tests: readings as the Curb collector publishes them, a reader of
the recorder's file, and a wait for a service's live `online`."""
from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/New_York")  # the example config's site.timezone


def reading(ts: datetime, circuits: dict[str, float], production_w: float = 0.0) -> str:
    cons = sum(circuits.values())
    return json.dumps({"ts": ts.isoformat(), "received": ts.isoformat(), "stale": False, "age_s": 1.0,
                       "consumption_w": cons, "production_w": production_w, "net_w": cons - production_w,
                       "circuits": circuits, "source": "rest"})


def query(path: Path, sql: str, args=()) -> list:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def wait_rows(path: Path, sql: str, pred, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        if path.exists():
            try:
                got = query(path, sql)
                if pred(got):
                    return got
            except sqlite3.OperationalError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"{sql}: still {got!r} after {timeout} s")


def wait_online(probe, service: str, since: int, timeout: float = 30.0) -> None:
    """A live `online` (not a retained one an earlier process left)."""
    probe.on_topic(f"circuitq/{service}/status", lambda m: m.text == "online" and not m.retain,
                   timeout=timeout, since=since)


def day_start(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=TZ)


def minutes(day: str, n: int, offset_min: int = 0) -> list[datetime]:
    start = day_start(day) + timedelta(minutes=offset_min)
    return [start + timedelta(minutes=i) for i in range(n)]
