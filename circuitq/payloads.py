"""Pydantic models of every JSON payload on the bus (see topics.py for where each goes).

Conventions (zigbee2mqtt-like): JSON objects, snake_case keys, watts in `_w`, seconds in `_s`,
times as ISO 8601 with the site's UTC offset (circuitq/timefmt.py). Inbound models refuse unknown keys so that a typo in a
phone app's payload is an error that names the field, not a silent no-op.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_serializer

from . import timefmt


class Inbound(BaseModel):
    """A payload we accept from another process: strict, typos are errors.

    json.loads accepts NaN and Infinity; no command means either (an infinite lease would
    otherwise pass `gt=0`), so they are refused here for every inbound model.
    """
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Outbound(BaseModel):
    """A payload we publish; readers should ignore keys they do not know."""
    model_config = ConfigDict(extra="ignore")

    @field_serializer("*", mode="wrap", when_used="json", check_fields=False)
    def _one_time_format(self, value, handler):
        """Every time in one format: ISO 8601 with the site's offset (never `Z`)."""
        if isinstance(value, datetime):
            return timefmt.iso(value)
        return handler(value)


OnOff = Literal["on", "off"]

# ---------------------------------------------------------------- fleet-wide
class ErrorReport(Outbound):
    """circuitq/error: a message a service could not use. The service keeps running."""
    service: str
    topic: str
    payload: str = Field(description="the first 200 characters of the offending payload")
    error: str
    ts: AwareDatetime


class Alert(Outbound):
    """circuitq/alert: something a person should hear about (the notifier delivers it)."""
    key: str = Field(description="stable id for de-duplication, e.g. 'starved:water_heater_north'")
    title: str
    message: str
    priority: int = Field(0, ge=-2, le=2, description="Prowl scale: -2 very low .. 2 emergency")
    source: str
    resolved: bool = False
    ts: AwareDatetime


class Activity(Outbound):
    """circuitq/activity: one line a person reads, like CircuitQueueing's activity log."""
    service: str
    subject: str
    message: str
    ts: AwareDatetime


class Reason(Outbound):
    code: str = Field(description="machine-readable, e.g. 'blocked:peak'")
    text: str = Field(description="a sentence, e.g. 'peak-rate hours until 19:00'")


# ---------------------------------------------------------------- relay agent
class RelayCommand(Inbound):
    """circuitq/relay/<relay>/command (scheduler only): an absolute state under a lease."""
    state: OnOff
    lease_s: float = Field(gt=0, description="seconds the state holds unless renewed")
    id: str = Field(min_length=1, max_length=64)


class DrmCommand(Inbound):
    """circuitq/dred/<output>/command (scheduler only): AS/NZS 4755 mode under a lease."""
    mode: Literal[0, 1, 2, 3]
    lease_s: float = Field(gt=0)
    id: str = Field(min_length=1, max_length=64)


class Pending(Outbound):
    state: str = Field(description="'on'/'off' for a relay, the mode for a DRM output")
    reason: Reason
    eligible_at: AwareDatetime | None = None


class RelayState(Outbound):
    """circuitq/relay/<relay>/state, retained: what the pin reads back, not what was asked."""
    level: OnOff
    commanded: OnOff | None = None
    command_id: str | None = None
    lease_until: AwareDatetime | None = None
    safe_state: OnOff
    reason: Reason
    pending: Pending | None = None
    switch_count: int
    since: AwareDatetime


class DrmState(Outbound):
    """circuitq/dred/<output>/state, retained: the mode the relay levels assert."""
    mode: int
    commanded_mode: int | None = None
    command_id: str | None = None
    lease_until: AwareDatetime | None = None
    safe_mode: int
    relays: dict[str, OnOff]
    reason: Reason
    pending: Pending | None = None
    switch_count: int = Field(description="mode changes")
    relay_switch_counts: dict[str, int] = Field(
        default_factory=dict, description="operations of each relay (wear; a 2->3 change operates two)")
    since: AwareDatetime


# ---------------------------------------------------------------- collectors
class Health(Outbound):
    """<collector>/health, retained: is the data source answering, and is its data fresh."""
    state: Literal["ok", "stale", "offline", "error"]
    message: str = ""
    source: str | None = None
    last_success: AwareDatetime | None = None
    consecutive_failures: int = 0
    failures_today: int = 0
    since: AwareDatetime


class CurbReading(Outbound):
    """circuitq/curb/reading, retained: one Curb snapshot, timestamped by the hub itself."""
    ts: AwareDatetime = Field(description="the reading's own timestamp from Curb")
    received: AwareDatetime
    stale: bool
    age_s: float
    consumption_w: float
    production_w: float
    net_w: float
    circuits: dict[str, float] = Field(description="circuitq circuit name -> watts")
    source: Literal["rest", "live"] = "rest"


class CircuitPower(Outbound):
    """circuitq/curb/circuit/<circuit>, retained: watts of one circuit, for dashboards."""
    w: float
    ts: AwareDatetime
    stale: bool = False


class EnergyTotals(Outbound):
    """circuitq/curb/energy, retained: kWh counters integrated from the Curb readings.

    The counters only grow (a negative reading adds nothing) and survive restarts: Home
    Assistant's Energy dashboard takes them as `state_class: total_increasing`."""
    ts: AwareDatetime = Field(description="the last reading counted")
    since: AwareDatetime = Field(description="when counting started (every counter's zero)")
    consumption_kwh: float
    production_kwh: float
    import_kwh: float = Field(description="from the grid: net_w above 0")
    export_kwh: float = Field(description="to the grid: net_w below 0")
    circuits: dict[str, float] = Field(description="circuit -> kWh")
    uncounted_s: float = Field(0, description="time between readings too far apart to count (s)")


class SolarReading(Outbound):
    """circuitq/solar/production, retained: production in watts with its content time."""
    w: float = Field(ge=0)
    ts: AwareDatetime = Field(description="when the source measured it, not when we polled")
    received: AwareDatetime
    source: str
    stale: bool
    age_s: float


# ---------------------------------------------------------------- scheduler
class OverrideSet(Inbound):
    """circuitq/load/<load>/set and circuitq/drm/<name>/set as JSON.

    Plain text ON / OFF / AUTO (any case) is accepted too; DRM also takes a mode number.
    """
    mode: Literal["on", "off", "auto"] | int
    minutes: float | None = Field(None, gt=0)
    until: AwareDatetime | None = None


class RelayActual(Outbound):
    """What a load's relay does, as the relay agent reads it back: next to the wish, so one
    topic says both (from circuitq/relay/<relay>/state)."""
    relay: str
    level: OnOff | None = Field(None, description="read back from the pin; null until the relay agent reports")
    since: AwareDatetime | None = None
    pending: Pending | None = Field(None, description="a change the relay agent holds back (minimum "
                                    "on/off time, starts per hour) and when it may happen")


class DrmActual(Outbound):
    """The mode a DRM output asserts, as the relay agent reads its relays back."""
    output: str
    drm_mode: int | None = Field(None, description="null until the relay agent reports")
    since: AwareDatetime | None = None
    pending: Pending | None = None


class LoadState(Outbound):
    """circuitq/load/<load>/state, retained: the scheduler's decision and why."""
    mode: Literal["auto", "on", "off"]
    permitted: bool
    running: bool
    power_w: float | None = None
    reason: Reason
    until: AwareDatetime | None = None
    next_change: AwareDatetime | None = None
    since: AwareDatetime
    priority: int | None = None
    off_hours: float | None = Field(None, description="hours since the load last ran")
    runtime_today_h: float | None = None
    actual: RelayActual | None = Field(None, description="relay loads: what the relay does now")


class DrmLoadState(Outbound):
    """circuitq/drm/<name>/state, retained: the DRM mode the scheduler wants and why."""
    mode: Literal["auto", "override"]
    drm_mode: int
    reason: Reason
    production_w: float | None = None
    until: AwareDatetime | None = None
    next_change: AwareDatetime | None = None
    since: AwareDatetime
    actual: DrmActual | None = Field(None, description="the mode the output asserts now")


# ---------------------------------------------------------------- ecobee
class ShedRequest(Inbound):
    """circuitq/ecobee/<thermostat>/shed (scheduler only): hold the heat pump off, leased."""
    shed: bool
    reason: str = ""
    lease_s: float = Field(gt=0)
    id: str = Field(min_length=1, max_length=64)


class ThermostatState(Outbound):
    """circuitq/ecobee/<thermostat>/state, retained."""
    name: str
    connected: bool
    hvac_mode: str | None = None
    indoor_f: float | None = None
    heat_setpoint_f: float | None = None
    cool_setpoint_f: float | None = None
    equipment: list[str] = Field(default_factory=list)
    running: bool = Field(False, description="a compressor or heat stage is on")
    hold: dict | None = Field(None, description="current hold: end time and who set it")
    shed: bool = False
    shed_refused: Reason | None = None
    ts: AwareDatetime


# ---------------------------------------------------------------- the planner
class PlanRun(Outbound):
    """One planned run of a load: from `start` to `end` it is permitted (or, for a
    thermostat, not shed), for the reason `code` (planned:solar, planned:cheap, needed:...)."""
    start: AwareDatetime
    end: AwareDatetime
    code: str
    kwh: float = Field(description="energy the run is expected to take (kWh)")
    cost: float = Field(description="its expected cost in the tariff's currency (solar at the export credit)")


class LoadPlan(Outbound):
    contract: str = Field(description="hot_water | runtime | comfort")
    runs: list[PlanRun]
    text: str = Field(description="the plan in words, e.g. 'heats 11:15-12:30 on solar'")
    need_kwh: float | None = Field(None, description="hot water: the tank's estimated deficit now (kWh)")


class PlanSlot(Outbound):
    start: AwareDatetime
    import_per_kwh: float
    export_per_kwh: float
    solar_w: float = Field(description="forecast production (W, slot mean)")


class Plan(Outbound):
    """circuitq/plan, retained: the next hours per planned load, with prices and sunshine."""
    made: AwareDatetime
    slot_min: int
    currency: str
    slots: list[PlanSlot]
    loads: dict[str, LoadPlan]
    cost: float = Field(description="expected cost of every planned run")


class PricePoint(Inbound):
    start: AwareDatetime
    end: AwareDatetime | None = Field(None, description="default: the next point's start")
    import_per_kwh: float
    export_per_kwh: float | None = None


class PriceSeries(Inbound):
    """circuitq/tariff/price (user): a dynamic tariff from Node-RED or Home Assistant.
    Replaces the previous series; where it has points they win over the configured periods."""
    points: list[PricePoint] = Field(min_length=1, max_length=1000)
    slot_min: float = Field(60, gt=0, le=1440, description="length of the last point if it has no end")


class TankTemperature(Inbound):
    """circuitq/load/<load>/tank (user): a water heater's tank temperature from a sensor."""
    temp_c: float = Field(ge=-10, le=110)
    ts: AwareDatetime | None = None


class SolarForecastPoint(Outbound):
    start: AwareDatetime
    end: AwareDatetime
    w: float = Field(ge=0, description="mean AC production over the interval (W)")


class SolarForecast(Outbound):
    """circuitq/solar/forecast, retained: production expected from a forecast service."""
    source: str
    made: AwareDatetime
    points: list[SolarForecastPoint]


def to_json(model: BaseModel) -> str:
    return model.model_dump_json(exclude_none=False)


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()
