"""Reading the recorder's file: a day's rows, roll-ups, series for charts, messages.

Used by the recorder itself (roll-ups, export) and by the web service, which opens the file
read-only (WAL lets it read while the recorder writes).
"""
from __future__ import annotations

import bisect
import json
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from circuitq import tariff as tariff_mod
from circuitq.payloads import PriceSeries

from . import schema
from .rollup import LoadInfo, Row, day_bounds, summarize

CONTROLLED = ("relay", "thermostat", "drm")


def load_infos(cfg) -> dict[str, LoadInfo]:
    return {n: LoadInfo(lc.circuit or n, lc.kind in CONTROLLED, lc.running_w) for n, lc in cfg.loads.items()}


class History:
    def __init__(self, con: sqlite3.Connection, lock=None):
        self.con = con
        self.lock = lock
        self._tariff = self._tariff_made = None

    @classmethod
    def open(cls, path: Path | str, readonly: bool = True) -> "History":
        return cls(schema.connect(path, readonly=readonly))

    def _q(self, sql: str, args=()) -> list:
        if self.lock is None:
            return self.con.execute(sql, args).fetchall()
        with self.lock:
            return self.con.execute(sql, args).fetchall()

    # ------------------------------------------------------------ readings
    def rows(self, start: float, end: float, production: str = "curb", solar_fresh_s: float = 1000) -> list[Row]:
        raw = self._q("SELECT ts, consumption_w, production_w, circuits FROM readings "
                      "WHERE ts>=? AND ts<? ORDER BY ts", (start, end))
        rows = [Row(ts, c, p, json.loads(circ)) for ts, c, p, circ in raw]
        if production == "solar":
            sol = self._q("SELECT ts, w FROM solar WHERE ts>=? AND ts<? AND stale=0 ORDER BY ts",
                          (start - solar_fresh_s, end))
            times = [s[0] for s in sol]
            out = []
            for r in rows:
                i = bisect.bisect_right(times, r.ts) - 1
                w = sol[i][1] if i >= 0 and r.ts - times[i] <= solar_fresh_s else 0.0
                out.append(Row(r.ts, r.consumption_w, w, r.circuits))
            rows = out
        return rows

    def prev_ts(self, before: float) -> float | None:
        got = self._q("SELECT max(ts) FROM readings WHERE ts<?", (before,))
        return got[0][0] if got else None

    def series(self, start: float, end: float, step_s: float = 300) -> dict:
        """Mean consumption, production and net per step (for the day's chart)."""
        got = self._q("SELECT CAST((ts-?)/? AS INTEGER) AS b, avg(consumption_w), avg(production_w) "
                      "FROM readings WHERE ts>=? AND ts<? GROUP BY b ORDER BY b", (start, step_s, start, end))
        t = [start + b * step_s for b, _, _ in got]
        return {"t": t, "consumption_w": [round(c, 1) for _, c, _ in got],
                "production_w": [round(max(p, 0.0), 1) for _, _, p in got]}

    # ------------------------------------------------------------ roll-ups
    def has_readings(self, start: float, end: float) -> bool:
        return bool(self._q("SELECT 1 FROM readings WHERE ts>=? AND ts<? LIMIT 1", (start, end)))

    def tariff_for(self, cfg, start: float, end: float):
        """The configured tariff with the dynamic price series recorded around [start, end).
        Made once per History: its holiday calendars take tens of ms and a few MiB to build."""
        if self._tariff_made is not cfg:
            self._tariff, self._tariff_made = tariff_mod.from_config(cfg), cfg
        tariff = self._tariff
        if tariff is None or not cfg.tariff.price_topic:
            return tariff
        points: list[tariff_mod.SeriesPoint] = []
        for (payload,) in self._q("SELECT payload FROM messages WHERE kind='tariff_price' AND received<? "
                                  "AND received>=? ORDER BY id", (end, start - 3 * 86400)):
            try:
                series = PriceSeries.model_validate_json(payload)
            except ValueError:
                continue
            new = []
            for i, p in enumerate(series.points):
                nxt = series.points[i + 1].start if i + 1 < len(series.points) else None
                stop = p.end or nxt or p.start + timedelta(minutes=series.slot_min)
                new.append(tariff_mod.SeriesPoint(p.start, stop, p.import_per_kwh, p.export_per_kwh))
            # a newer series replaces the older one where they overlap
            points = [o for o in points if all(o.end <= n.start or o.start >= n.end for n in new)] + new
        try:
            tariff.set_series(points)
        except ValueError:
            pass  # overlapping points within one series: the scheduler refused it too
        return tariff

    def summarize_day(self, cfg, day: date, max_span_s: float, production: str = "curb",
                      solar_fresh_s: float = 1000) -> dict:
        tz = cfg.site.tz
        start, end = day_bounds(day, tz)
        rows = self.rows(start, end, production, solar_fresh_s)
        out = summarize(day, tz, rows, self.prev_ts(start), load_infos(cfg),
                        self.tariff_for(cfg, start, end), max_span_s)
        out["overrides"] = self.count(("load_set", "drm_set"), start, end)
        out["alerts"] = self.count(("alert",), start, end)
        return out

    def day_summary(self, day: str) -> tuple[dict, float, bool] | None:
        got = self._q("SELECT summary, made, final FROM days WHERE day=?", (day,))
        return (json.loads(got[0][0]), got[0][1], bool(got[0][2])) if got else None

    def days(self, limit: int = 60) -> list[str]:
        """Local days that have a roll-up, newest first."""
        return [d for (d,) in self._q("SELECT day FROM days ORDER BY day DESC LIMIT ?", (limit,))]

    def reading_span(self) -> tuple[float | None, float | None]:
        got = self._q("SELECT min(ts), max(ts) FROM readings")
        return got[0] if got else (None, None)

    # ------------------------------------------------------------ messages
    def count(self, kinds: tuple[str, ...], start: float, end: float) -> int:
        marks = ",".join("?" * len(kinds))
        return self._q(f"SELECT count(*) FROM messages WHERE kind IN ({marks}) AND received>=? AND received<?",
                       (*kinds, start, end))[0][0]

    def messages(self, kinds: tuple[str, ...], start: float, end: float, limit: int = 500,
                 newest_first: bool = True) -> list[dict]:
        marks = ",".join("?" * len(kinds))
        order = "DESC" if newest_first else "ASC"
        got = self._q(f"SELECT received, kind, name, payload, by FROM messages WHERE kind IN ({marks}) "
                      f"AND received>=? AND received<? ORDER BY received {order}, id {order} LIMIT ?",
                      (*kinds, start, end, limit))
        out = []
        for received, kind, name, payload, by in got:
            try:
                data = json.loads(payload) if payload[:1] in "{[" else payload
            except ValueError:
                data = payload
            out.append({"received": datetime.fromtimestamp(received, timezone.utc).isoformat(),
                        "kind": kind, "name": name, "payload": data, "by": by})
        return out

    def stats(self) -> dict:
        last_msg = self._q("SELECT max(received) FROM messages")[0][0]
        last_reading = self._q("SELECT max(received) FROM readings")[0][0]
        iso = lambda ts: datetime.fromtimestamp(ts, timezone.utc).isoformat() if ts else None  # noqa: E731
        return {"last_message": iso(last_msg), "last_reading": iso(last_reading),
                "messages": self._q("SELECT max(id) FROM messages")[0][0] or 0}
