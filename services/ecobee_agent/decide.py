"""The pure part: given the time, the standing shed request, the last reading and the hold we
set, what should happen to the thermostat now, and when to look again. No I/O here.

Every hold is a `dateTime` hold that ends `hold_minutes` ahead and is renewed while the
request stands, so a dead agent leaves at most one short hold behind.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from circuitq.config.ecobee import ThermostatConfig
from circuitq.payloads import Reason

from .model import HoldEvent, Reading, f, to_local

# Starting a shed needs this much margin (°F) inside the comfort bounds; a standing one is
# ended only at the bounds themselves, so a house near a bound does not flap holds on and off.
START_MARGIN_F = 1.0
START_SLACK = timedelta(seconds=60)  # hold start a minute back: the thermostat's clock may lag


@dataclass(frozen=True)
class Request:
    id: str
    reason: str
    until: datetime  # the lease: the request stands until then unless renewed
    since: datetime  # when this continuous shed began (for max_shed_minutes)


@dataclass(frozen=True)
class OurHold:
    """A hold circuitq asked for (persisted, so that a restart can undo it)."""
    heat: int  # °F x 10
    cool: int
    end: datetime  # latest end we asked for (UTC)
    end_local: str  # the same on the thermostat's clock
    set_at: datetime  # when we last asked
    confirmed_end: datetime | None = None  # end of the last hold the API accepted


Kind = Literal["none", "set", "renew", "resume", "forget"]
Status = Literal["none", "gone", "maybe", "in_place"]


@dataclass(frozen=True)
class Action:
    kind: Kind
    why: str = ""
    params: dict | None = None  # setHold params
    hold: OurHold | None = None  # the hold to remember when kind is set/renew
    refused: Reason | None = None
    next_check: datetime | None = None


def is_ours(event: HoldEvent | None, ours: OurHold | None) -> bool:
    """Our temperatures and no later than the latest end we asked for (a renewal may have failed)."""
    return (event is not None and ours is not None and event.heat == ours.heat
            and event.cool == ours.cool and event.end_local <= ours.end_local)


def hold_status(now: datetime, reading: Reading | None, ours: OurHold | None) -> Status:
    if ours is None:
        return "none"
    if ours.end <= now:
        return "gone"  # it ended by itself
    fresh = reading is not None and reading.fetched_at > ours.set_at
    if fresh and not is_ours(reading.hold, ours):
        return "gone"  # someone resumed or replaced it since
    if ours.confirmed_end is not None and ours.confirmed_end > now:
        return "in_place"
    return "in_place" if fresh else "maybe"


def hold_temps(reading: Reading, cfg: ThermostatConfig) -> tuple[int, int] | None:
    if cfg.hold == "setpoints":
        return round(cfg.heat_hold_f * 10), round(cfg.cool_hold_f * 10)
    if reading.heat_range is None or reading.cool_range is None:
        return None
    return reading.heat_range[0], reading.cool_range[1]  # CircuitQueueing: heatRangeLow, coolRangeHigh


def _refusal(now: datetime, req: Request, reading: Reading, ours: OurHold | None,
             ours_status: Status, cfg: ThermostatConfig) -> Reason | None:
    started = ours_status == "in_place"
    margin = 0.0 if started else START_MARGIN_F
    if now - req.since >= timedelta(minutes=cfg.max_shed_minutes):
        return Reason(code="refused:too_long",
                      text=f"shed for {cfg.max_shed_minutes:g} min already (max_shed_minutes); "
                           "the heat pump runs on its schedule until the request ends")
    if not reading.connected:
        return Reason(code="refused:offline", text="the thermostat is not connected to ecobee")
    if reading.hvac_mode == "off":
        return Reason(code="refused:hvac_off", text="the thermostat is off; there is nothing to shed")
    indoor = f(reading.indoor)
    start = "" if started else f" (a shed starts only {START_MARGIN_F:g} °F inside the bounds)"
    if indoor is not None and indoor < cfg.min_indoor_f + margin:
        return Reason(code="refused:too_cold",
                      text=f"indoor {indoor:.1f} °F, comfort minimum {cfg.min_indoor_f:g} °F{start}")
    if indoor is not None and indoor > cfg.max_indoor_f - margin:
        return Reason(code="refused:too_hot",
                      text=f"indoor {indoor:.1f} °F, comfort maximum {cfg.max_indoor_f:g} °F{start}")
    if cfg.respect_other_holds and ours_status not in ("in_place", "maybe") \
            and reading.hold is not None and not is_ours(reading.hold, ours):
        return Reason(code="refused:user_hold",
                      text=f"someone else's hold is in place until {reading.hold.end_local}; "
                           "circuitq does not override it")
    if hold_temps(reading, cfg) is None:
        return Reason(code="refused:no_ranges", text="the thermostat did not report its temperature ranges")
    return None


def _set(now: datetime, req: Request, reading: Reading, ours: OurHold | None,
         cfg: ThermostatConfig, kind: Kind) -> Action:
    heat, cool = hold_temps(reading, cfg)
    end = now + timedelta(minutes=cfg.hold_minutes)
    start_d, start_t = to_local(now - START_SLACK, reading.utc_offset)
    end_d, end_t = to_local(end, reading.utc_offset)
    params = {"holdType": "dateTime", "heatHoldTemp": heat, "coolHoldTemp": cool,
              "startDate": start_d, "startTime": start_t, "endDate": end_d, "endTime": end_t}
    hold = OurHold(heat, cool, end, f"{end_d} {end_t}", now,
                   ours.confirmed_end if ours is not None else None)
    max_end = req.since + timedelta(minutes=cfg.max_shed_minutes)
    return Action(kind, why=req.reason, params=params, hold=hold,
                  next_check=min(req.until, end - timedelta(seconds=cfg.renew_before_s), max_end))


def decide_hold(now: datetime, request: Request | None, reading: Reading | None,
                ours: OurHold | None, cfg: ThermostatConfig, ended_why: str = "shed ended") -> Action:
    """The one decision: set, renew, resume, forget a stale record, or nothing."""
    status = hold_status(now, reading, ours)
    active = request is not None and now < request.until
    if reading is None:  # not read yet (start-up): never act on a hold we cannot see
        if not active:
            return Action("none")
        return Action("none", refused=Reason(code="refused:no_reading", text="no reading from the thermostat yet"),
                      next_check=request.until)
    if not active:
        why = ended_why if request is None else "lease lapsed: no renewal from the scheduler"
        if status == "in_place":
            return Action("resume", why=why)
        if status in ("gone", "maybe"):
            return Action("forget", why="our hold has ended")
        return Action("none")
    refused = _refusal(now, request, reading, ours, status, cfg)
    if refused is not None:
        if status == "in_place":
            return Action("resume", why=refused.text, refused=refused)
        kind: Kind = "forget" if status in ("gone", "maybe") else "none"
        # Look again when the lease lapses (the request may be renewed by then).
        return Action(kind, refused=refused, next_check=request.until)
    if status != "in_place":
        return _set(now, request, reading, ours, cfg, "set")
    renew_at = ours.end - timedelta(seconds=cfg.renew_before_s)
    if now >= renew_at:
        return _set(now, request, reading, ours, cfg, "renew")
    max_end = request.since + timedelta(minutes=cfg.max_shed_minutes)
    return Action("none", next_check=min(request.until, renew_at, max_end))


def confirm(hold: OurHold) -> OurHold:
    """The API accepted the hold: it is in place until its end."""
    return replace(hold, confirmed_end=hold.end)
