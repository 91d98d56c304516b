"""Events in, commands out, and the scheduler's state. Plain dataclasses: cheap to build.

The core (`core.decide`) updates a State in place and returns it with a list of commands;
the service turns commands into MQTT messages. Nothing here does I/O.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# ------------------------------------------------------------------ events


@dataclass(slots=True)
class Tick:
    """A timer fired (window boundary, lease renewal, override expiry, next_change)."""


@dataclass(slots=True)
class Batch:
    """Several inputs of the same moment (a simulator's minute: solar + Curb), decided once."""
    events: list


@dataclass(slots=True)
class Reading:
    circuits: dict[str, float]
    ts: datetime
    stale: bool = False
    production_w: float | None = None  # used as the solar reading if data.solar_from_curb
    consumption_w: float | None = None  # the whole house (Curb mains), for the planner's surplus


@dataclass(slots=True)
class Solar:
    w: float | None  # None: the reading was invalid (negative, unparsable) -> DRM stale mode
    ts: datetime | None = None
    stale: bool = False


@dataclass(slots=True)
class SourceHealth:
    source: str  # "curb" | "solar"
    ok: bool
    text: str = ""


@dataclass(slots=True)
class CollectorStatus:
    source: str  # "curb" | "solar"
    online: bool


@dataclass(slots=True)
class AgentOnline:
    """An output agent (relay_agent, ecobee_agent) came online: it may have missed commands."""
    agent: str


@dataclass(slots=True)
class RelayFeedback:
    relay: str
    level: str
    since: datetime | None = None  # when the relay agent last switched it
    pending: tuple | None = None  # a held change: (state, code, text, eligible_at)


@dataclass(slots=True)
class DrmFeedback:
    output: str
    mode: int
    since: datetime | None = None  # when the relay agent last changed the mode
    pending: tuple | None = None  # a held change: (mode, code, text, eligible_at)


@dataclass(slots=True)
class ThermostatFeedback:
    name: str
    running: bool
    connected: bool = True
    shed: bool = False
    indoor_c: float | None = None  # the room's temperature, as the thermostat reports it


@dataclass(slots=True)
class PriceSeries:
    """A dynamic price series arrived (already validated): [(start, end, import, export)]."""
    points: list


@dataclass(slots=True)
class SolarForecast:
    """A forecast service's production ahead: [(start, end, watts)]."""
    points: list


@dataclass(slots=True)
class TankTemp:
    load: str
    temp_c: float


@dataclass(slots=True)
class Override:
    target: str  # "load" | "drm"
    name: str
    mode: str | int  # "auto" | "on" | "off" | a DRM mode
    until: datetime | None = None
    source: str = "user"


# ------------------------------------------------------------------ commands


@dataclass(slots=True)
class RelayCmd:
    relay: str
    state: str
    lease_s: float


@dataclass(slots=True)
class DrmCmd:
    output: str
    mode: int
    lease_s: float


@dataclass(slots=True)
class ShedCmd:
    thermostat: str
    shed: bool
    reason: str
    lease_s: float


@dataclass(slots=True)
class PublishLoad:
    load: str
    state: dict  # LoadState fields


@dataclass(slots=True)
class PublishDrm:
    output: str
    state: dict  # DrmLoadState fields


@dataclass(slots=True)
class ActivityLine:
    subject: str
    message: str


@dataclass(slots=True)
class AlertMsg:
    key: str
    title: str
    message: str
    priority: int = 0
    resolved: bool = False


@dataclass(slots=True)
class PublishPlan:
    plan: dict  # circuitq/plan payload fields


@dataclass(slots=True)
class Persist:
    """Overrides or guarantee clocks changed: the service writes state_dir atomically."""


# ------------------------------------------------------------------ state


@dataclass(slots=True)
class LoadRt:
    """What the scheduler knows and decided about one load."""
    mode: str = "auto"
    until: datetime | None = None  # override end
    power_w: float | None = None
    running: bool = False
    pending_level: bool | None = None  # debounce: the level seen, not yet held long enough
    pending_since: datetime | None = None
    quiet_since: datetime | None = None  # when it last stopped drawing (demand discovery)
    thermo_running: bool = False
    indoor_c: float | None = None  # thermostat loads: the room temperature last reported
    indoor_at: datetime | None = None
    relay_level: str | None = None
    relay_since: datetime | None = None  # the relay agent's own account (load state `actual`)
    relay_pending: tuple | None = None
    permitted: bool | None = None  # None until the first decision
    permitted_since: datetime | None = None
    by_override: bool = False  # permitted by a user's ON (no policy min_on hold afterwards)
    starts: deque = field(default_factory=deque)  # permission starts in the last hour
    off_since: datetime | None = None
    last_on: datetime | None = None  # last time permitted (guarantee clock)
    guarantee_until: datetime | None = None
    runtime_day: Any = None  # local date the runtime counts for
    runtime_s: float = 0.0
    gate_open: bool = False  # solar gate, with hysteresis
    gate_at: datetime | None = None  # when the gate was last judged (an unbroken run keeps it open)
    cond_on: dict = field(default_factory=dict)  # block_when index -> bool (hysteresis)
    cond_pending: dict = field(default_factory=dict)  # block_when index -> (level, since): debounce
    blocked_for: dict = field(default_factory=dict)  # reason code -> seconds since last permitted
    warned: bool = False
    mismatch_since: datetime | None = None  # drawing power while its relay is off
    mismatch_alerted: bool = False
    code: str = ""
    why: Any = None  # the reason: catalogue key and numbers (reasons.py), or a planner sentence
    text: str = ""  # its sentence, made when `why` changes
    next_change: datetime | None = None
    since: datetime | None = None
    want: str = ""  # last evaluation: forced | eligible | blocked | override (for tests/debug)
    cmd_state: Any = None  # last command sent (relay on/off, shed bool)
    cmd_at: datetime | None = None
    published: tuple | None = None


def quiet_for_since(lt: "LoadRt") -> datetime | None:
    """Since when a permitted load has drawn nothing: demand discovery counts from here."""
    if lt.permitted_since is None:
        return None
    if lt.quiet_since is None or lt.quiet_since < lt.permitted_since:
        return lt.permitted_since
    return lt.quiet_since


@dataclass(slots=True)
class DrmRt:
    override: int | None = None
    until: datetime | None = None
    mode: int | None = None  # the mode the policy currently wants
    level: int | None = None  # threshold step index (0 = most restrictive)
    since: datetime | None = None
    feedback: int | None = None  # the mode the output asserts (relay agent), and since when
    feedback_since: datetime | None = None
    feedback_pending: tuple | None = None
    changes: deque = field(default_factory=deque)  # mode changes the output made in the last hour
    changed_at: datetime | None = None  # when our wish last moved from one mode to another
    agent_at: datetime | None = None  # when the relay agent last came online (it may have restarted)
    code: str = ""
    why: Any = None  # as LoadRt.why
    text: str = ""
    next_change: datetime | None = None
    cmd_at: datetime | None = None
    cmd_mode: int | None = None
    published: tuple | None = None


@dataclass(slots=True)
class Source:
    """One data source (Curb or solar): freshness is judged from these."""
    at: datetime | None = None  # when we last received a reading
    ts: datetime | None = None  # the reading's own timestamp
    ts_changed_at: datetime | None = None
    flagged_stale: bool = False
    health_ok: bool = True
    online: bool = True
    fresh: bool = False
    ever_fresh: bool = False  # after a stale spell, fresh again only once it held fresh_again_s
    fresh_since: datetime | None = None  # since when the data has been fresh, uninterrupted
    stale_since: datetime | None = None
    alerted: bool = False


@dataclass
class State:
    policy: Any  # core.Policy: compiled config and calendars
    loads: dict[str, LoadRt]
    drm: dict[str, DrmRt]
    curb: Source = field(default_factory=Source)
    solar: Source = field(default_factory=Source)
    circuits: dict[str, float] = field(default_factory=dict)  # latest watts, incl. briefly missing
    circuit_seen: dict[str, datetime] = field(default_factory=dict)  # circuit -> last reading with it
    solar_w: float | None = None
    consumption_w: float | None = None  # whole house, last reading (None: not measured)
    planner: Any = None  # planner.state.PlannerState when any load has a contract
    solar_samples: deque = field(default_factory=deque)  # (ts, w) for the rolling average
    solar_sum: float = 0.0
    solar_invalid: bool = False
    boot_at: datetime | None = None
    last_eval: datetime | None = None
    last_grant_at: datetime | None = None
    next_wake: datetime | None = None
    dirty: bool = False  # persist at the end of this decision
