"""What each subscribed reading contributes to the rules' metrics (a table, one row a topic).

Each row: catalogue entry, payload model, and a pure function (payload, topic names) ->
{metric: value} or None to skip the reading. Stale readings are skipped: a frozen Curb value
must not keep "dryer on" counting (the collectors raise their own staleness alerts).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

from circuitq import payloads as p
from circuitq import topics


def curb(r: p.CurbReading, names: dict) -> dict[str, float] | None:
    if r.stale:
        return None
    out = {"consumption": r.consumption_w, "production": r.production_w, "net": r.net_w}
    out.update({f"circuit.{name}": w for name, w in r.circuits.items()})
    return out


def solar(r: p.SolarReading, names: dict) -> dict[str, float] | None:
    return None if r.stale else {"solar": r.w}


def relay(r: p.RelayState, names: dict) -> dict[str, float]:
    return {f"relay.{names['relay']}": 1.0 if r.level == "on" else 0.0}


def load(r: p.LoadState, names: dict) -> dict[str, float]:
    return {f"load.{names['load']}": 1.0 if r.running else 0.0}


class Source(NamedTuple):
    entry: topics.Topic
    model: type
    extract: Callable[..., dict[str, float] | None]
    prefix: str  # metrics it can give start with this (subscribe only if a rule needs it)


SOURCES: tuple[Source, ...] = (
    Source(topics.CURB_READING, p.CurbReading, curb, ""),
    Source(topics.SOLAR_PRODUCTION, p.SolarReading, solar, "solar"),
    Source(topics.RELAY_STATE, p.RelayState, relay, "relay."),
    Source(topics.LOAD_STATE, p.LoadState, load, "load."),
)
CURB_TOTALS = ("consumption", "production", "net")


def needed(metrics: set[str]) -> list[Source]:
    """The sources some rule needs (the Curb reading if any circuit or total is used)."""
    out = []
    for src in SOURCES:
        if src.entry is topics.CURB_READING:
            if any(m.startswith("circuit.") or m in CURB_TOTALS for m in metrics):
                out.append(src)
        elif any(m.startswith(src.prefix) for m in metrics):
            out.append(src)
    return out
