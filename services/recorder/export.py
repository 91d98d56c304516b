"""A recorded day as files: the readings CSV that `python -m sim.replay` reads, and the day's
activity log as text (what CircuitQueueing's dailyTidy.sh zipped away each midnight)."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

from .query import History
from .rollup import day_bounds

PRODUCTION = "production_w"  # sim/replay_input.py's column name


def readings_csv(history: History, cfg, day: date) -> str:
    """Header `ts,production_w,<circuit>...`; one row per reading, local time with its offset.
    A circuit missing from a reading is an empty cell ("not in this reading")."""
    rc = cfg.recorder
    tz = cfg.site.tz
    start, end = day_bounds(day, tz)
    rows = history.rows(start, end, rc.production, rc.solar_fresh_s)
    circuits = sorted({c for r in rows for c in r.circuits})
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["ts", PRODUCTION, *circuits])
    for r in rows:
        w.writerow([datetime.fromtimestamp(r.ts, tz).isoformat(timespec="seconds"), _num(r.production_w),
                    *(_num(r.circuits[c]) if c in r.circuits else "" for c in circuits)])
    return out.getvalue()


def _num(w: float) -> str:
    return f"{w:.1f}".rstrip("0").rstrip(".") if w != int(w) else str(int(w))


def activity_text(history: History, cfg, day: date) -> str:
    """One line per activity line, alert and override of the day, in local time."""
    tz = cfg.site.tz
    start, end = day_bounds(day, tz)
    lines = []
    for m in history.messages(("activity", "alert", "load_set", "drm_set"), start, end, limit=100000,
                              newest_first=False):
        when = datetime.fromisoformat(m["received"]).astimezone(tz).strftime("%H:%M:%S")
        p = m["payload"]
        if m["kind"] == "activity" and isinstance(p, dict):
            lines.append(f"{when} {p.get('service', '?'):<12} {p.get('subject', '')}: {p.get('message', '')}")
        elif m["kind"] == "alert" and isinstance(p, dict):
            tag = "resolved" if p.get("resolved") else "ALERT"
            lines.append(f"{when} {tag:<12} {p.get('title', '')}: {p.get('message', '')}")
        else:
            text = p if isinstance(p, str) else json.dumps(p)
            lines.append(f"{when} {'override':<12} {m['name']}: {text} (by {m['by'] or 'MQTT'})")
    return "\n".join(lines) + ("\n" if lines else "")
