"""Parse Curb's `GET /api/v3/latest/:locationId` body (pure).

`{}` means the hub has been offline for over 5 minutes (Curb docs): that is `None`, not an
error. Anything else that is not the documented shape is a `BadBody` naming what is wrong.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class BadBody(ValueError):
    pass


class CurbCircuit(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    label: str | None = ""
    w: float
    main: bool = False
    production: bool = False
    other: bool = False
    circuit_type: str | None = None  # live stream: consumption | line_side_production | main


class _Latest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    timestamp: float = Field(description="epoch seconds of the 1-minute average")
    consumption: float = 0
    production: float = 0
    net: float | None = None
    circuits: list[CurbCircuit] = Field(default_factory=list)


@dataclass(frozen=True)
class Snapshot:
    ts: datetime
    consumption_w: float
    production_w: float
    net_w: float
    circuits: tuple[CurbCircuit, ...]


def parse_latest(body) -> Snapshot | None:
    """Snapshot, or None for `{}` (hub offline); raises BadBody for anything else odd."""
    if isinstance(body, dict) and not body:
        return None
    if not isinstance(body, dict):
        raise BadBody(f"expected a JSON object, got {type(body).__name__}")
    try:
        m = _Latest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(body)"
        raise BadBody(f"{where}: {first['msg']}") from None
    net = m.net if m.net is not None else m.consumption - m.production
    return Snapshot(datetime.fromtimestamp(m.timestamp, timezone.utc), m.consumption,
                    m.production, net, tuple(m.circuits))


class _Live(BaseModel):
    model_config = ConfigDict(extra="ignore")
    circuits: list[CurbCircuit]


def parse_live(body, now: datetime) -> Snapshot:
    """A live `data` event: circuits only, no timestamp and no totals, so `ts` is `now`.

    Totals are derived [unverified: Curb documents no formula]: mains (`main` or circuit_type
    main) carry the grid flow = net; production circuits report negative watts, so
    production = -sum(their w); consumption = net + production.
    """
    try:
        m = _Live.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadBody(f"live data: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    mains = [c for c in m.circuits if c.main or c.circuit_type == "main"]
    prod = [c for c in m.circuits if c.production or c.circuit_type == "line_side_production"]
    production = max(0.0, -sum(c.w for c in prod))
    net = sum(c.w for c in mains)
    return Snapshot(now, net + production, production, net, tuple(m.circuits))
