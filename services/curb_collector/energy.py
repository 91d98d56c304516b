"""kWh counters integrated from the Curb readings, for Home Assistant's Energy dashboard.

Curb gives watts (a 1-minute average, or live samples); the Energy dashboard needs energy
that only grows (`state_class: total_increasing`: any decrease reads as a meter reset).
Each new reading adds the trapezoid between it and the previous one (W x s / 3.6e6 = kWh),
per circuit and for consumption, production, grid import (net > 0) and export (net < 0).

- Only readings with a newer content timestamp count; a stale reading adds nothing.
- Negative watts (a CT's idle noise, a production circuit's sign) count as 0: never a decrease.
- Two readings more than MAX_GAP_S apart: the gap is not guessed, it is counted as
  `uncounted_s` (the dashboard shows a flat hour rather than an invented one).
- The counters live in state_dir and are saved at most every SAVE_EVERY_S (an SD card's
  wear) and at shutdown; a crash loses at most that much, never the total.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from circuitq.payloads import CurbReading, EnergyTotals
from circuitq.state import read_json, write_json_atomic

MAX_GAP_S = 900.0  # readings further apart than 15 min: the energy between is unknown
SAVE_EVERY_S = 600.0
J_PER_KWH = 3.6e6
TOTALS = ("consumption", "production", "import", "export")


def _flows(r: CurbReading) -> dict[str, float]:
    """Watts of every counter in one reading (before clamping)."""
    flows = {"consumption": r.consumption_w, "production": r.production_w,
             "import": r.net_w, "export": -r.net_w}
    flows.update({f"circuit:{c}": w for c, w in r.circuits.items()})
    return flows


class EnergyMeter:
    def __init__(self, path: Path):
        self.path = path
        data = read_json(path, {}) or {}
        self.kwh: dict[str, float] = {k: float(v) for k, v in (data.get("kwh") or {}).items()}
        self.since = _dt(data.get("since"))
        self.last_ts = _dt(data.get("last_ts"))
        self.last_w: dict[str, float] = {k: float(v) for k, v in (data.get("last_w") or {}).items()}
        self.uncounted_s = float(data.get("uncounted_s") or 0.0)
        self.saved_at: datetime | None = None

    def add(self, r: CurbReading, now: datetime) -> bool:
        """Count one reading; True if the counters moved on (publish them)."""
        if r.stale or (self.last_ts is not None and r.ts <= self.last_ts):
            return False
        flows = {k: max(0.0, w) for k, w in _flows(r).items()}
        if self.since is None:
            self.since = r.ts
        if self.last_ts is not None:
            dt = (r.ts - self.last_ts).total_seconds()
            if dt > MAX_GAP_S:
                self.uncounted_s += dt
            else:
                for k, w in flows.items():
                    before = self.last_w.get(k)
                    if before is not None:  # a circuit new in this reading starts counting now
                        self.kwh[k] = self.kwh.get(k, 0.0) + (before + w) / 2 * dt / J_PER_KWH
        self.last_ts, self.last_w = r.ts, flows
        for k in flows:
            self.kwh.setdefault(k, 0.0)
        if self.saved_at is None or (now - self.saved_at).total_seconds() >= SAVE_EVERY_S:
            self.save(now)
        return True

    def totals(self) -> EnergyTotals | None:
        if self.last_ts is None:
            return None
        k = self.kwh
        return EnergyTotals(
            ts=self.last_ts, since=self.since,
            **{f"{name}_kwh": round(k.get(name, 0.0), 4) for name in TOTALS},
            circuits={c.removeprefix("circuit:"): round(v, 4) for c, v in sorted(k.items())
                      if c.startswith("circuit:")},
            uncounted_s=round(self.uncounted_s, 1))

    def save(self, now: datetime) -> None:
        self.saved_at = now
        try:
            write_json_atomic(self.path, {
                "version": 1, "since": _iso(self.since), "last_ts": _iso(self.last_ts),
                "kwh": self.kwh, "last_w": self.last_w, "uncounted_s": self.uncounted_s},
                private=False, what="the kWh counters (Home Assistant's Energy dashboard)")
        except OSError:
            pass  # circuitq.state raises the persistence alert; counting goes on in memory


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


def _dt(text) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
