"""What survives a restart: overrides, the guarantee clocks and what the planner learned (each
tank's hot-water use, each room's drift, the sky's clearness), in cfg.state_dir, atomically.

A load that was permitted when saved gets last_on = the save time, so its off-time clock
never restarts from zero (a restart must not reset the 20 h hot-water guarantee).
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

from circuitq.state import read_json, write_json_atomic

from . import model as m
from .planner import state as planner_state

log = logging.getLogger(__name__)
VERSION = 1
WHAT = "overrides, hot-water guarantee clocks and runtime counts"


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


def _dt(s: str | None) -> datetime | None:
    return None if not s else datetime.fromisoformat(s)


def dump(st: m.State, now: datetime) -> dict:
    loads = {}
    for name, lt in st.loads.items():
        loads[name] = {"mode": lt.mode, "until": _iso(lt.until),
                       "last_on": _iso(now if lt.permitted else lt.last_on),
                       "guarantee_until": _iso(lt.guarantee_until),
                       "runtime_day": lt.runtime_day.isoformat() if lt.runtime_day else None,
                       "runtime_s": round(lt.runtime_s, 1)}
    drm = {name: {"override": d.override, "until": _iso(d.until)} for name, d in st.drm.items()}
    out = {"version": VERSION, "saved": now.isoformat(), "loads": loads, "drm": drm}
    if st.planner is not None:  # what it learned: the tanks' use, the rooms, the sky, the house
        out["planner"] = planner_state.dump(st.planner)
    return out


def restore(st: m.State, data: dict, now: datetime) -> list[str]:
    """Apply a dump to a fresh state; expired overrides are dropped. Returns notes for the log."""
    notes = []
    for name, rec in (data.get("loads") or {}).items():
        lt = st.loads.get(name)
        if lt is None:
            notes.append(f"dropped saved state of unknown load {name!r}")
            continue
        until = _dt(rec.get("until"))
        if rec.get("mode") in ("on", "off") and until and until > now:
            lt.mode, lt.until = rec["mode"], until
            notes.append(f"{name}: override {rec['mode'].upper()} restored until {until.isoformat()}")
        g = _dt(rec.get("guarantee_until"))
        if g is not None and g > now:  # a guarantee in progress goes on after the restart
            lt.guarantee_until = g
        last_on = _dt(rec.get("last_on"))
        if last_on is not None and last_on <= now:
            lt.last_on = last_on
        if rec.get("runtime_day"):
            lt.runtime_day = date.fromisoformat(rec["runtime_day"])
            lt.runtime_s = float(rec.get("runtime_s") or 0.0)
    if st.planner is not None and isinstance(data.get("planner"), dict):
        notes += planner_state.restore(st.planner, data["planner"], now, _dt(data.get("saved")))
    for name, rec in (data.get("drm") or {}).items():
        d = st.drm.get(name)
        until = _dt(rec.get("until"))
        if d is not None and rec.get("override") is not None and until and until > now:
            d.override, d.until = int(rec["override"]), until
            notes.append(f"drm {name}: override DRM{d.override} restored until {until.isoformat()}")
    return notes


def save(path: Path, st: m.State, now: datetime) -> None:
    """Atomically: a crash leaves the old file or the new one, never half (circuitq.state)."""
    write_json_atomic(path, dump(st, now), what=WHAT)


def load(path: Path, st: m.State, now: datetime) -> list[str]:
    existed = path.exists()
    try:
        data = read_json(path)  # not JSON: set aside as <name>.bad, with a warning
    except OSError as exc:
        log.warning("%s: unreadable saved state (%s); starting fresh", path, exc)
        return [f"unreadable saved state: {exc}"]
    if data is None:
        return [f"unreadable saved state (kept as {path.name}.bad); starting fresh"] if existed else []
    if data.get("version") != VERSION:
        return ["saved state has another version; starting fresh"]
    try:
        return restore(st, data, now)
    except (TypeError, ValueError) as exc:
        log.warning("%s: bad saved state (%s); starting fresh", path, exc)
        return [f"bad saved state: {exc}"]
