"""Any MQTT topic as a source: a Shelly/Tasmota meter or a Node-RED flow.

Pushed, not polled: the service subscribes to `topic` and hands each message to `accept`;
`read(now)` returns the newest accepted reading (evcc-style interface all the same).
Payloads: a bare number (`1234`), or JSON; `json_path` (dotted, list indices allowed, e.g.
`ENERGY.Power` or `emeters.0.power`) picks the watts, default key `w`; `ts_path` picks a
timestamp (Unix seconds, or ISO 8601; Tasmota's offset-less local `Time` is read in
site.timezone). A retained message without a timestamp is ignored: its age is unknown.
"""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from circuitq import topics

from ..core import BadData, NoData, Sample, epoch_to_dt, parse_watts


def dig(data, path: str, what: str):
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise BadData(f"{what}: no {part!r} in path {path!r}", raw=json.dumps(data)[:200])
    return node


def parse_message(payload: bytes, *, json_path: str | None, ts_path: str | None, scale: float,
                  retained: bool, now: datetime, tz: ZoneInfo) -> Sample:
    text = payload.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = text  # a bare word: parse_watts names it
    ts_value = None
    if isinstance(data, dict):
        value = dig(data, json_path or "w", "watts")
        path = ts_path or ("ts" if "ts" in data and not json_path else None)
        ts_value = dig(data, path, "timestamp") if path else None
    elif json_path:
        raise BadData(f"expected a JSON object with {json_path!r}", raw=text[:200])
    else:
        value = data
    w = parse_watts(value, "watts") * scale
    if ts_value is None:
        if retained:
            raise NoData("retained value without a timestamp ignored (its age is unknown); "
                         "waiting for a live message", raw=text[:200])
        return Sample(w, now, text[:200])
    if isinstance(ts_value, str) and "T" in ts_value and not _has_offset(ts_value):
        try:
            return Sample(w, datetime.fromisoformat(ts_value).replace(tzinfo=tz), text[:200])
        except ValueError:
            pass
    return Sample(w, epoch_to_dt(ts_value, "timestamp"), text[:200])


def _has_offset(s: str) -> bool:
    tail = s.split("T", 1)[1]
    return s.endswith("Z") or "+" in tail or "-" in tail


class MqttInput:
    def __init__(self, src, ctx):
        self.src, self.tz = src, ctx.cfg.site.tz
        self.topic = src.topic or topics.SOLAR_INPUT.topic(ctx.base, source=src.label)
        self.describe = self.topic
        self.pause_until = None
        self.latest: Sample | None = None

    def accept(self, payload: bytes, retained: bool, now: datetime) -> Sample:
        s = parse_message(payload, json_path=self.src.json_path, ts_path=self.src.ts_path,
                          scale=self.src.scale, retained=retained, now=now, tz=self.tz)
        self.latest = s
        return s

    def first_delay(self, now: datetime) -> float:
        return 0.0

    def read(self, now: datetime) -> Sample:
        if self.latest is None:
            raise NoData(f"no message on {self.topic} yet")
        return self.latest
