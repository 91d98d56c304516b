"""simulation section: the physical house behind the config, for `python -m sim.simulate`.

Only the simulator reads it (no fleet service does). Each appliance is keyed by its load name
(loads.<name>); what the scheduler config already says (a tank's hot_water contract, a pool
pump's runtime, a relay's limits, the array's size and geometry) is not repeated here.

    simulation:
      weather: greensboro            # greensboro | sandpoint | a TMY3, EPW or CSV file
      hot_water: {litres_per_day: 300}
      water_heaters:
        water_heater_north: {share: 0.6}
        water_heater_south: {share: 0.4}
      pool_pump: {load: pool_pump, watts: 1500, timer_start: "11:00"}
      heat_pumps:
        heat_pump_north: {electric_w: 3200}
        heat_pump_south: {electric_w: 2800}
      dryer: {load: dryer}
      kitchen: {load: kitchen}

Units: W, L, C, K, s; times of day local to the site.
"""
from __future__ import annotations

from datetime import time

from pydantic import Field, field_validator, model_validator

from .base import StrictModel
from .scheduler import _hhmm


class SimHotWater(StrictModel):
    """The household's hot water, drawn at the taps mixed to 40 C (a US home: 150-250 L/day
    of 50-60 C water, i.e. about 250-400 L/day at 40 C)."""
    litres_per_day: float = Field(300, gt=0, le=3000, description="mean, all tanks, at 40 C (L)")
    weekend_factor: float = Field(1.15, gt=0, le=3, description="weekend/holiday days use this much more")
    day_sigma: float = Field(0.2, ge=0, le=1, description="day-to-day variation (lognormal sigma)")
    heavy_day_prob: float = Field(0.07, ge=0, le=1, description="share of heavy days (guests, laundry)")
    heavy_day_factor: float = Field(1.8, ge=1, le=5, description="a heavy day uses this much more")


class SimTank(StrictModel):
    """A water heater; volume, element and setpoint come from the load's hot_water contract."""
    share: float = Field(0.5, gt=0, le=1, description="share of the household's hot water it serves")
    tank_l: float | None = Field(None, gt=0, description="default: hot_water.tank_l, else 190 L")
    element_w: float | None = Field(None, gt=0, description="default: hot_water.element_w, else nominal_w")
    setpoint_c: float | None = Field(None, ge=40, le=85, description="default: hot_water.setpoint_c, else 60")
    inlet_c: float | None = Field(None, ge=0, le=35, description="default: hot_water.inlet_c, else 15")
    deadband_c: float = Field(4.0, gt=0, le=15, description="thermostat differential (K)")
    ambient_c: float = Field(20, ge=-10, le=45, description="air around the tank (C)")
    ua_w_k: float = Field(1.6, gt=0, le=20, description="standby loss (W/K): 1.6 W/K ~ 1.5 kWh/day")
    layers: int = Field(12, ge=8, le=60, description="stratification nodes")
    upper_element_at: float = Field(0.7, gt=0, lt=1, description="height of the upper element (0-1)")
    lower_element_at: float = Field(0.1, ge=0, lt=1, description="height of the lower element (0-1)")

    @model_validator(mode="after")
    def _order(self):
        if self.lower_element_at >= self.upper_element_at:
            raise ValueError("lower_element_at must be below upper_element_at")
        return self


class SimPool(StrictModel):
    load: str = Field("pool_pump", description="the pool pump's load (a relay load with a runtime)")
    watts: float = Field(1500, gt=0, description="draw while running (W)")
    timer_start: time = Field(time(11, 0), description="no control: its own timer starts here and "
                              "runs the runtime's hours")

    _t = field_validator("timer_start", mode="before")(_hhmm)


class SimZone(StrictModel):
    """A heat pump and the rooms it serves (1R1C)."""
    electric_w: float = Field(3000, gt=0, description="running draw (W)")
    ua_w_k: float = Field(200, gt=0, description="envelope + ventilation (W/K)")
    capacity_kj_k: float = Field(15000, gt=0, description="effective heat capacity (kJ/K)")
    solar_m2: float = Field(2.0, ge=0, description="effective solar aperture (m2)")
    internal_w: float = Field(300, ge=0, description="people and appliances (W)")
    heat_c: float = Field(20.5, ge=5, le=30, description="heating setpoint (C)")
    cool_c: float = Field(24.5, ge=15, le=35, description="cooling setpoint (C)")
    deadband_c: float = Field(1.0, gt=0, le=5, description="thermostat differential (K)")
    min_on_s: float = Field(300, ge=0)
    min_off_s: float = Field(300, ge=0)
    cop_heat_eta: float = Field(0.4, gt=0, le=1, description="share of the Carnot COP (heating)")
    cop_cool_eta: float = Field(0.3, gt=0, le=1, description="share of the Carnot COP (cooling)")

    @model_validator(mode="after")
    def _band(self):
        if self.cool_c - self.heat_c < self.deadband_c:
            raise ValueError("cool_c must be at least deadband_c above heat_c")
        return self


class SimDryer(StrictModel):
    load: str = "dryer"
    watts: float = Field(5000, gt=0, description="heating element + motor (W)")
    motor_w: float = Field(300, ge=0, description="motor alone while the element cycles off (W)")
    loads_per_week: float = Field(5, ge=0, le=30)
    minutes: float = Field(55, gt=0, le=240, description="mean cycle length (min)")


class SimKitchen(StrictModel):
    load: str = "kitchen"
    idle_w: float = Field(150, ge=0, description="fridge, small appliances (W)")
    oven_w: float = Field(3000, ge=0)
    range_w: float = Field(2500, ge=0, description="cooktop (W), with the oven above running_w")
    dishwasher_w: float = Field(1200, ge=0)


class SimulationConfig(StrictModel):
    weather: str = Field("greensboro", description="greensboro | sandpoint | a TMY3/EPW/CSV file")
    year: int = Field(2025, ge=1990, le=2100, description="calendar year the typical year is laid on")
    seed: int = Field(1, ge=0)
    base_w: float = Field(450, ge=0, description="the rest of the house (W, mean)")
    hot_water: SimHotWater = Field(default_factory=SimHotWater)
    water_heaters: dict[str, SimTank] = Field(default_factory=dict, description="load name -> tank")
    pool_pump: SimPool | None = None
    heat_pumps: dict[str, SimZone] = Field(default_factory=dict, description="load name -> zone")
    dryer: SimDryer | None = None
    kitchen: SimKitchen | None = None

    @model_validator(mode="after")
    def _shares(self):
        total = sum(t.share for t in self.water_heaters.values())
        if self.water_heaters and abs(total - 1) > 1e-6:
            raise ValueError(f"water_heaters: the shares add up to {total:g}, not 1")
        return self


def cross_check(cfg) -> None:
    """Every simulated appliance names a load of the right kind (called by the root model)."""
    sim = cfg.simulation
    if sim is None:
        return
    errs = []
    loads = cfg.loads

    def need(name, where, kinds):
        lc = loads.get(name)
        if lc is None:
            errs.append(f"{where}: unknown load {name!r} (have: {', '.join(sorted(loads)) or 'none'})")
        elif lc.kind not in kinds:
            errs.append(f"{where}: load {name!r} is kind {lc.kind}, expected {' or '.join(kinds)}")
        return lc

    for name in sim.water_heaters:
        need(name, f"simulation.water_heaters.{name}", ("relay",))
    if sim.pool_pump is not None:
        lc = need(sim.pool_pump.load, "simulation.pool_pump.load", ("relay",))
        if lc is not None and lc.kind == "relay" and lc.runtime is None:
            errs.append(f"simulation.pool_pump.load: load {sim.pool_pump.load!r} has no runtime target")
    for name in sim.heat_pumps:
        need(name, f"simulation.heat_pumps.{name}", ("thermostat", "observed"))
    for key in ("dryer", "kitchen"):
        part = getattr(sim, key)
        if part is not None:
            need(part.load, f"simulation.{key}.load", ("observed",))
    if errs:
        raise ValueError("; ".join(errs))
