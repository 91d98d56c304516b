"""What one MQTT message becomes in the recorder: a reading, a solar reading, a message row,
or nothing. Pure: no I/O, no clock.

The recorder subscribes to `<base>/#`; the broker's ACL (built from the catalogue, where the
recorder is a subscriber of what it records) decides what arrives. Heartbeats are not kept
(one every 30 s per service says nothing the status changes do not).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime

from circuitq import topics as t

NOT_KEPT = {t.HEARTBEAT.key, t.CURB_CIRCUIT.key, t.HA_DISCOVERY.key, t.PLAN.key, t.SOLAR_FORECAST.key}
STATE_KINDS = {e.key for e in t.CATALOGUE if e.retained}  # kept only when the payload changes
OVERRIDE_KINDS = {t.LOAD_SET.key, t.DRM_SET.key}


@dataclass(slots=True)
class Message:
    kind: str
    name: str
    topic: str
    payload: str
    ts: float | None
    retained: bool
    by: str | None = None


@dataclass(slots=True)
class Reading:
    ts: float
    consumption_w: float
    production_w: float
    net_w: float
    circuits: dict[str, float]
    stale: bool


@dataclass(slots=True)
class Solar:
    ts: float
    source: str
    w: float
    stale: bool


def user_property(msg, name: str) -> str | None:
    """An MQTT 5 user property of a paho message (overrides carry `by`: who sent them)."""
    props = getattr(msg, "properties", None)
    for k, v in getattr(props, "UserProperty", None) or ():
        if k == name:
            return str(v)[:64]
    return None


def _time(value) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.timestamp() if dt.tzinfo is not None else None


def _watts(value) -> float:
    w = float(value)
    if not math.isfinite(w):
        raise ValueError("not a finite number of watts")
    return w


def _reading(data: dict) -> Reading:
    ts = _time(data.get("ts"))
    if ts is None:
        raise ValueError("no ts with a UTC offset")
    circuits = {str(k): _watts(v) for k, v in dict(data["circuits"]).items()}
    cons, prod = _watts(data["consumption_w"]), _watts(data["production_w"])
    net = _watts(data.get("net_w", cons - prod))
    return Reading(ts, cons, prod, net, circuits, bool(data.get("stale", False)))


def _solar(data: dict) -> Solar:
    ts = _time(data.get("ts"))
    if ts is None:
        raise ValueError("no ts with a UTC offset")
    return Solar(ts, str(data.get("source") or "?"), _watts(data["w"]), bool(data.get("stale", False)))


def classify(base: str, topic: str, payload: bytes, retained: bool,
             by: str | None = None) -> Message | Reading | Solar | None:
    """The row for one message, or None when it is not kept (an empty retained clear, a
    heartbeat, a topic outside the catalogue). A reading that does not parse is kept as a
    message, so nothing that arrived is lost."""
    found = t.find(base, topic)
    if found is None or not payload:
        return None
    entry, names = found
    if entry.key in NOT_KEPT:
        return None
    text = payload.decode("utf-8", "replace")
    data = None
    if text[:1] == "{":
        try:
            data = json.loads(text)
        except ValueError:
            data = None
    if isinstance(data, dict):
        try:
            if entry is t.CURB_READING:
                return _reading(data)
            if entry is t.SOLAR_PRODUCTION:
                return _solar(data)
        except (KeyError, TypeError, ValueError):
            pass  # kept below as a plain message
    name = next(iter(names.values()), "")
    ts = None
    if isinstance(data, dict):
        ts = _time(data.get("ts")) or _time(data.get("since"))
    return Message(entry.key, name, topic, text, ts, retained,
                   by if entry.key in OVERRIDE_KINDS else None)
