"""What the simulator hands to every policy: the house (HouseSpec) and the world (Exogenous).

Plain dataclasses, no behaviour beyond a few unit helpers, so that the runner, the KPIs and
the perfect-foresight optimum (sim/simulate/optimum.py) read the same numbers.

Conventions (all of them, everywhere in sim/simulate):
- time: minute index k = 0 .. n-1; minute k is [t0 + k min, t0 + (k+1) min) in UTC.
  `Exogenous.ts` holds the POSIX seconds of each minute's start; `local_day` its local date
  index (0 = the first local day of the run), `local_min` its local minute of the day.
- power in W (average over the minute), energy in kWh, temperature in C, volume in L.
- hot water: `Exogenous.draw_l40[tank]` is litres per minute of MIXED water at the tap at
  TAP_C (40 C), what the household asks for. It does not depend on control. The tank's
  outlet delivers draw_l40 x (TAP_C - inlet_c) / (T_top - inlet_c) litres of tank water
  (a thermostatic mixing valve), or all of draw_l40 straight from the tank when its top is
  below TAP_C. The heat the household asks for is draw_kwh() (independent of control).
- initial state (minute 0): every tank uniformly at its setpoint, every zone at initial_c,
  every relay at its boot state (`RelaySpec.boot_on`), no shed.
- a policy's output, for the runner: per controllable load name, a bool per minute
  ("permitted": relay closed / thermostat not shed). The optimum returns exactly this:
  `solve(spec, exo, tariff) -> dict[load_name, np.ndarray[bool] of length exo.n]`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

TAP_C = 40.0  # temperature of the mixed water a household uses at the tap (C)
COLD_DRAW_C = 45.0  # water leaving a tank below this is a cold draw (C)
KWH_PER_L_K = 0.00116  # heat of one litre of water per kelvin (kWh/L/K); circuitq.config.scheduler
WATER_KG_PER_L = 0.998
CP_J_PER_KG_K = 4186.0


@dataclass
class SiteSpec:
    name: str  # "greensboro", "sandpoint" or the weather file's name
    latitude: float  # degrees north
    longitude: float  # degrees east
    elevation_m: float
    timezone: str  # IANA zone of local time (calendars, tariff, household habits)
    country: str | None  # holidays (tariff and calendars)
    subdivision: str | None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass
class PVSpec:
    dc_w: float  # nameplate DC size (W), solar.system_size_w
    tilt_deg: float  # 0 flat, 90 vertical
    azimuth_deg: float  # compass: 90 east, 180 south, 270 west
    inverter_w: float | None  # AC limit (W); None: no clipping
    losses_pct: float  # wiring, soiling, mismatch (PVWatts default 14 %)
    gamma_pdc: float = -0.0037  # DC power temperature coefficient (1/K), PVWatts standard module


@dataclass
class RelaySpec:
    relay: str  # relay name (relays.<name>)
    min_on_s: float  # the relay agent's hard limits
    min_off_s: float
    max_starts_per_hour: int
    boot_on: bool  # level at minute 0


@dataclass
class TankSpec:
    load: str  # the load's name (loads.<name>)
    circuit: str  # Curb circuit it is measured on
    relay: RelaySpec
    tank_l: float  # volume (L)
    element_w: float  # each of the two elements (W); they never heat together
    setpoint_c: float  # both thermostats' setting (C)
    deadband_c: float  # a thermostat calls below setpoint - deadband, stops at setpoint (K)
    inlet_c: float  # cold mains (C)
    ambient_c: float  # air around the tank (C)
    ua_w_k: float  # standby loss of the whole tank (W/K)
    layers: int  # stratification nodes, 0 = bottom
    upper_layer: int  # node of the upper element and its thermostat (priority element)
    lower_layer: int  # node of the lower element and its thermostat
    max_off_h: float | None  # the load's promise: relay never off longer than this (h)

    @property
    def full_kwh(self) -> float:
        """Heat of a full tank counted from the inlet (kWh), as the hot_water contract counts it."""
        return self.tank_l * (self.setpoint_c - self.inlet_c) * KWH_PER_L_K

    @property
    def usable_kwh(self) -> float:
        """Heat above the cold-draw limit of a full, uniformly hot tank (kWh)."""
        return self.tank_l * (self.setpoint_c - COLD_DRAW_C) * KWH_PER_L_K


@dataclass
class PoolSpec:
    load: str
    circuit: str
    relay: RelaySpec
    watts: float  # draw while running (W); it runs whenever its relay is closed
    hours: float  # runtime contract: at least this a local day ...
    max_hours: float  # ... and never more (h)
    window: str  # calendar name; the runtime must fall inside it (Exogenous.windows[window])
    timer_start_min: int  # no_control: its own timer starts at this local minute of the day


@dataclass
class ZoneSpec:
    """A 1R1C thermal zone and its heat pump: C dT/dt = UA (T_out - T) + gains + Q_hp."""
    load: str
    circuit: str
    thermostat: str | None  # ecobee key when sheddable, else None (observed only)
    sheddable: bool
    electric_w: float  # compressor + fans while running (W)
    ua_w_k: float  # envelope + ventilation (W/K)
    capacity_j_k: float  # effective heat capacity (J/K)
    solar_m2: float  # effective solar aperture: gains = solar_m2 x GHI (W)
    internal_w: float  # people, appliances (W)
    heat_c: float  # thermostat heating setpoint (C)
    cool_c: float  # thermostat cooling setpoint (C)
    deadband_c: float  # starts at setpoint -/+ deadband/2, stops at +/- deadband/2 (K)
    min_on_s: float  # compressor minimum run / off times (s)
    min_off_s: float
    cop_heat_eta: float  # heating COP = eta x T_sink / (T_sink - T_out), clipped
    cop_cool_eta: float  # cooling COP = eta x T_source / (T_out - T_source), clipped
    comfort_min_c: float | None  # the promise while shed (sheddable zones): the room stays inside
    comfort_max_c: float | None
    initial_c: float

    SINK_C = 40.0  # condensing temperature in heating (C)
    SOURCE_C = 10.0  # evaporating temperature in cooling (C)
    COP_MIN, COP_MAX = 1.5, 5.5

    def cop_heat(self, t_out_c):
        """Heating COP at outdoor temperature t_out_c (scalar or array)."""
        dt = np.maximum(self.SINK_C - np.asarray(t_out_c, dtype=float), 5.0)
        return np.clip(self.cop_heat_eta * (self.SINK_C + 273.15) / dt, self.COP_MIN, self.COP_MAX)

    def cop_cool(self, t_out_c):
        """Cooling COP (EER in W/W) at outdoor temperature t_out_c (scalar or array)."""
        dt = np.maximum(np.asarray(t_out_c, dtype=float) - self.SOURCE_C, 5.0)
        return np.clip(self.cop_cool_eta * (self.SOURCE_C + 273.15) / dt, self.COP_MIN, self.COP_MAX)


@dataclass
class ObservedSpec:
    load: str  # kind: observed (dryer, kitchen, heat_pump_north): watts in Exogenous.observed_w
    circuit: str
    model: str  # "dryer" | "kitchen" | "zone"


@dataclass
class HouseSpec:
    site: SiteSpec
    pv: PVSpec
    tanks: dict[str, TankSpec]  # load name -> tank
    pool: PoolSpec | None
    zones: dict[str, ZoneSpec]  # load name -> zone (observed ones are simulated in Exogenous)
    observed: dict[str, ObservedSpec]  # load name -> observed load (incl. an observed zone)
    circuits: dict[str, str]  # load name -> circuit
    running_w: dict[str, float]  # big loads (counts: true) -> running at or above (W)
    max_running: int  # scheduler.max_running: big loads at once
    base_w_mean: float  # the rest of the house (W, mean), in Exogenous.base_w

    @property
    def sheddable(self) -> ZoneSpec | None:
        return next((z for z in self.zones.values() if z.sheddable), None)

    @property
    def controllable(self) -> list[str]:
        """Load names a policy decides: tanks, the pool pump, the sheddable zone."""
        names = list(self.tanks) + ([self.pool.load] if self.pool else [])
        return names + [z.load for z in self.zones.values() if z.sheddable]


@dataclass
class Exogenous:
    """Everything that does not depend on control, per minute, identical for every policy."""
    t0: datetime  # UTC start of minute 0
    n: int  # minutes
    timezone: str  # IANA zone of local time
    ts: np.ndarray  # int64 POSIX seconds of each minute's start
    local_day: np.ndarray  # int32 local date index, 0 = the run's first local day
    local_min: np.ndarray  # int16 local minute of the day 0..1439
    days: list  # datetime.date of each local day index
    pv_w: np.ndarray  # float64 PV AC output (W)
    t_out_c: np.ndarray  # outdoor air (C)
    ghi_w_m2: np.ndarray  # global horizontal irradiance (W/m2), for solar gains
    draw_l40: dict[str, np.ndarray]  # tank load -> litres/min at the tap mixed to TAP_C
    observed_w: dict[str, np.ndarray]  # observed load -> W (dryer, kitchen, observed heat pump)
    base_w: np.ndarray  # the rest of the house (W): not on any load's circuit
    windows: dict[str, np.ndarray] = field(default_factory=dict)  # calendar -> bool per minute
    seed: int = 0
    weather: str = ""  # where the weather came from (file name)
    pool_timer: np.ndarray | None = None  # the pool pump's own clock (no_control): bool per minute

    def time(self, k: int) -> datetime:
        return self.t0 + timedelta(minutes=k)

    @property
    def end(self) -> datetime:
        return self.t0 + timedelta(minutes=self.n)

    def draw_kwh(self, tank: TankSpec) -> np.ndarray:
        """Heat the household asks of a tank per minute (kWh), counted from its inlet."""
        return self.draw_l40[tank.load] * (TAP_C - tank.inlet_c) * KWH_PER_L_K


def utc(t: datetime) -> datetime:
    return t.astimezone(timezone.utc)
