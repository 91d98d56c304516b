"""What the ecobee API says about a thermostat, parsed into plain values (no I/O).

Wire temperatures are integers in °F x 10 (711 = 71.1 °F); we keep them as such for holds
(setHold takes the same unit) and convert to °F only for the published state.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

LOCAL_FMT = "%Y-%m-%d %H:%M:%S"
# equipmentStatus values that mean a compressor or heat stage is on (fan alone is not load).
RUNNING_PREFIXES = ("heatPump", "compCool", "auxHeat")


def running(equipment: list[str]) -> bool:
    return any(e.startswith(RUNNING_PREFIXES) for e in equipment)


def split_equipment(csv: str) -> list[str]:
    return [e for e in (csv or "").split(",") if e]


def f(x10) -> float | None:
    return None if x10 is None else round(int(x10) / 10.0, 1)


@dataclass(frozen=True)
class HoldEvent:
    heat: int  # °F x 10
    cool: int
    start_local: str  # "YYYY-MM-DD HH:MM:SS", thermostat local time
    end_local: str


@dataclass
class Reading:
    identifier: str
    name: str
    connected: bool
    fetched_at: datetime  # our clock, when the answer arrived
    utc_offset: timedelta  # thermostat local time minus UTC
    hvac_mode: str | None = None
    indoor: int | None = None  # °F x 10
    desired_heat: int | None = None
    desired_cool: int | None = None
    heat_range: tuple[int, int] | None = None  # settings heatRangeLow/High
    cool_range: tuple[int, int] | None = None
    min_delta: int = 30  # heatCoolMinDelta (°F x 10)
    equipment: list[str] = field(default_factory=list)
    hold: HoldEvent | None = None
    revision: str = ""


@dataclass(frozen=True)
class SummaryEntry:
    identifier: str
    connected: bool
    revision: str  # thermostatRev + runtimeRev: a change means fetch /1/thermostat
    equipment: list[str]


def _naive(s: str) -> datetime:
    return datetime.strptime(s, LOCAL_FMT)


def thermostat_offset(t: dict, fallback: timedelta) -> timedelta:
    """Thermostat local time minus UTC, from its own clock, rounded to 15 min (time zones)."""
    try:
        diff = (_naive(t["thermostatTime"]) - _naive(t["utcTime"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return fallback
    return timedelta(minutes=round(diff / 900) * 15)


def parse_thermostat(t: dict, fetched_at: datetime, fallback_offset: timedelta) -> Reading:
    rt, st = t.get("runtime") or {}, t.get("settings") or {}
    hold = None
    for e in t.get("events") or []:
        if e.get("type") == "hold" and e.get("running"):
            hold = HoldEvent(int(e.get("heatHoldTemp") or 0), int(e.get("coolHoldTemp") or 0),
                             f"{e.get('startDate')} {e.get('startTime')}", f"{e.get('endDate')} {e.get('endTime')}")
            break
    hr = (st["heatRangeLow"], st["heatRangeHigh"]) if "heatRangeLow" in st and "heatRangeHigh" in st else None
    cr = (st["coolRangeLow"], st["coolRangeHigh"]) if "coolRangeLow" in st and "coolRangeHigh" in st else None
    return Reading(
        identifier=str(t["identifier"]), name=t.get("name", ""),
        connected=bool(rt.get("connected", True)), fetched_at=fetched_at,
        utc_offset=thermostat_offset(t, fallback_offset),
        hvac_mode=st.get("hvacMode"), indoor=rt.get("actualTemperature"),
        desired_heat=rt.get("desiredHeat"), desired_cool=rt.get("desiredCool"),
        heat_range=hr, cool_range=cr, min_delta=int(st.get("heatCoolMinDelta", 30)),
        equipment=split_equipment(t.get("equipmentStatus", "")), hold=hold,
        revision=f"{t.get('thermostatRev', '')}:{rt.get('runtimeRev', '')}",
    )


def parse_summary(d: dict) -> dict[str, SummaryEntry]:
    """revisionList "id:name:connected:thermostatRev:alertsRev:runtimeRev:intervalRev"."""
    equipment = {}
    for s in d.get("statusList") or []:
        ident, _, csv = s.partition(":")
        equipment[ident] = split_equipment(csv)
    out = {}
    for r in d.get("revisionList") or []:
        parts = r.split(":")
        if len(parts) < 7:
            continue
        ident = parts[0]
        # The name may itself contain ':'; count the fixed fields from the end.
        connected, trev, _alerts, rrev = parts[-5], parts[-4], parts[-3], parts[-2]
        out[ident] = SummaryEntry(ident, connected == "true", f"{trev}:{rrev}", equipment.get(ident, []))
    return out


def to_local(when_utc: datetime, offset: timedelta) -> tuple[str, str]:
    """("YYYY-MM-DD", "HH:MM:SS") on the thermostat's clock for an aware instant."""
    local = when_utc.astimezone(timezone.utc).replace(tzinfo=None) + offset
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def local_to_utc(local: str, offset: timedelta) -> datetime:
    return (_naive(local) - offset).replace(tzinfo=timezone.utc)
