"""The example house on the simulator, driven by the real scheduler core (planner on) and the
real relay agent core, with what the world and the household do to it scripted in: draws
scaled from some minute on (a household whose use doubles), PV scaled (clouds), a user's
override, a price series, a restart of the scheduler.

The physics is the simulator's (sim.simulate: stratified tanks, draws, RC zones, PV, the
runner's minute loop); this file only arranges a run and records what a household would
notice and what the core said (each load's reason code per minute, every circuitq/plan it
published, each tank's learned level). Pure and deterministic: no clock, no sleeping; a
simulated day costs about 2 s of CPU.
"""
from __future__ import annotations

import copy
import json
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from unittest import mock

import numpy as np
import yaml

from circuitq.config import CircuitqConfig, load_config
from circuitq.tariff import from_config
from services.relay_agent.core import Now
from services.scheduler import core, store
from services.scheduler import model as m
from services.scheduler.policy import new_state
from sim.fleet import deep_update
from sim.simulate import kpi, policies
from sim.simulate.build import exogenous, house_spec, site_spec, with_site
from sim.simulate.house.weather import read_weather
from sim.simulate.policies import CoreController, NoControl
from sim.simulate.prices import Prices, prices
from sim.simulate.runner import Trace, run
from sim.simulate.spec import Exogenous, HouseSpec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example.yaml"
TANKS = ("water_heater_north", "water_heater_south")
POOL = "pool_pump"
ZONE = "heat_pump_south"


def house_cfg(changes: dict | None = None) -> CircuitqConfig:
    """config/example.yaml (read, never written) with `changes` merged in, validated as a
    user's file would be."""
    data = deep_update(yaml.safe_load(EXAMPLE.read_text()), copy.deepcopy(changes or {}))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "house.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return load_config(path, env={})


@lru_cache(maxsize=2)
def _weather(source: str):
    return read_weather(source)


def world(cfg: CircuitqConfig, start: date, days: int, seed: int = 1):
    """(cfg with the site applied, HouseSpec, Exogenous) for `days` local days from local
    midnight of `start` (sim.simulate.build starts on the 1st of a month; DST and holidays
    need other days)."""
    w = _weather(cfg.simulation.weather)
    site = site_spec(cfg, w, from_weather=False)
    cfg = with_site(cfg, site)
    spec = house_spec(cfg, site)
    tz = site.tz
    a = datetime.combine(start, time(0), tzinfo=tz)
    b = datetime.combine(start + timedelta(days=days), time(0), tzinfo=tz)
    t0 = a.astimezone(timezone.utc)
    n = int((b.astimezone(timezone.utc) - t0).total_seconds() // 60)
    return cfg, spec, exogenous(cfg, spec, w, t0, n, seed)


def day_start(exo: Exogenous, d: int) -> int:
    """Minute index where local day d of the run starts."""
    return int(np.searchsorted(exo.local_day, d))


def minute_of(exo: Exogenous, local: datetime) -> int:
    """Minute index of an aware local time."""
    return int((local.astimezone(timezone.utc) - exo.t0).total_seconds() // 60)


@dataclass
class Restart:
    """The scheduler stops at minute `at` (its state saved as the service saves it) and a
    fresh one starts from the same config `down_min` later, restoring the saved state."""
    at: int
    down_min: int = 0
    offline_safe: bool = True  # the relay agent sees the scheduler's last will: safe states
    saved: dict | None = None
    notes: list = field(default_factory=list)
    before: object = None  # the old core state at the stop (for comparisons)
    after: object = None  # the new core state right after the restore


class House(CoreController):
    """CoreController with a script and a record.

    events: minute k -> list of scheduler events (m.Override, m.PriceSeries, ...) decided at
    the end of minute k, after its reading. indoor=False: the thermostat reports no room
    temperature. restart: see Restart."""

    def __init__(self, cfg, spec: HouseSpec, exo: Exogenous, events: dict | None = None,
                 indoor: bool = True, restart: Restart | None = None):
        super().__init__("circuitq", cfg, spec, exo)
        self.events = events or {}
        self.indoor = indoor
        self.restart = restart
        self.code = {name: [""] * exo.n for name in spec.controllable}
        self.learned = {name: np.zeros(exo.n) for name in spec.tanks}  # Tank.level per minute
        self.daily_kwh = {name: {} for name in spec.tanks}  # minute -> learned use a day (kWh), hourly
        self.plans: list[tuple[datetime, dict]] = []  # every circuitq/plan the core emitted
        self.plan_objs: list = []  # the planner's Plan behind each (slots with their ends)
        self.cmds: list[tuple[datetime, object]] = []  # every relay / shed command

    def down(self, k: int) -> bool:
        r = self.restart
        return r is not None and r.at <= k < r.at + r.down_min

    def observe(self, k, circuits, pv_w, zone_c, zone_running, tank_top_c) -> None:
        now = self.t0 + timedelta(minutes=k + 1)
        t = (k + 1) * 60.0
        r = self.restart
        if r is not None and k == r.at:
            self._stop(r, now, t)
        if self.down(k):  # nobody decides; the relay agent keeps its own time
            self._tick(t, now)
            self._record(k)
            return
        if r is not None and k == r.at + r.down_min and r.after is None:
            self._start(r, now, t)
        super().observe(k, circuits, pv_w, zone_c if self.indoor else None, zone_running, tank_top_c)
        for ev in self.events.get(k, ()):
            self._decide(now, ev)
        self._record(k)

    def _record(self, k: int) -> None:
        st = self.st
        for name in self.code:
            self.code[name][k] = st.loads[name].code
        for name, tank in st.planner.tanks.items():
            self.learned[name][k] = tank.level
            if k % 60 == 0:  # the whole week's prediction: level x profile, per day
                self.daily_kwh[name][k] = tank.level * sum(tank.profile) / 7

    def _stop(self, r: Restart, now: datetime, t: float) -> None:
        r.before = copy.deepcopy(self.st.planner)
        r.saved = json.loads(json.dumps(store.dump(self.st, now)))  # what the state file holds
        if r.offline_safe and r.down_min > 0:
            self.fleet.fallback_all(Now(t, now), "safe:scheduler_offline")
            self.deadline = None

    def _start(self, r: Restart, now: datetime, t: float) -> None:
        self.st = new_state(self.cfg, now)
        r.notes = store.restore(self.st, r.saved, now)
        r.after = copy.deepcopy(self.st.planner)
        self.reported = {}  # the relay agent's retained states arrive again
        self.next_poll = t  # and the thermostat's
        self.cmd_n += 1000  # a new process: fresh command ids


def _recording(h: House):
    """core.decide, keeping what the house's tests read from its commands."""
    real = core.decide

    def decide(now, st, event):
        st, cmds = real(now, st, event)
        for c in cmds:
            if type(c) is m.PublishPlan:
                h.plans.append((now, c.plan))
                h.plan_objs.append(st.planner.plan)
            elif type(c) in (m.RelayCmd, m.ShedCmd):
                h.cmds.append((now, c))
        return st, cmds
    return decide


@dataclass(repr=False)
class Result:
    cfg: CircuitqConfig
    spec: HouseSpec
    exo: Exogenous
    house: House
    trace: Trace
    kpis: dict
    prices: Prices

    # ------------------------------------------------------------ what a household notices
    def cold_l(self, name: str | None = None) -> float:
        names = [name] if name else list(self.spec.tanks)
        return float(sum(self.trace.cold_l[n].sum() for n in names))

    def longest_off_h(self, name: str) -> float:
        return kpi.longest_run(~self.trace.permit[name]) / 60

    def kwh(self, name: str, mask: np.ndarray | None = None) -> float:
        w = self.trace.load_w[name]
        return float((w if mask is None else w[mask]).sum() / 60000.0)

    def day_mask(self, d: int) -> np.ndarray:
        return self.exo.local_day == d

    def peak_mask(self) -> np.ndarray:
        return self.prices.period == "on_peak"

    def period_mask(self, name: str) -> np.ndarray:
        return self.prices.period == name

    def pool_hours(self) -> np.ndarray:
        """Hours the pool pump ran on each local day (real minutes, as the KPIs count)."""
        return kpi.per_day((self.trace.load_w[POOL] > 0).astype(float), self.exo) / 60

    def codes(self, name: str) -> np.ndarray:
        return np.array(self.house.code[name], dtype=object)


def simulate(cfg, spec, exo, **house_kw) -> Result:
    """Run the house; `house_kw` go to House (events, indoor, restart)."""
    h = House(cfg, spec, exo, **house_kw)
    with mock.patch.object(policies, "decide", _recording(h)):
        tr = run(h, spec, exo)
    pr = prices(from_config(cfg), exo)
    return Result(cfg, spec, exo, h, tr, kpi.kpis(tr, spec, exo, pr), pr)


def no_control(spec: HouseSpec, exo: Exogenous) -> Trace:
    """The same house with every heater always permitted (its own thermostat alone) and the
    pool pump on its timer: what the household had before circuitq."""
    ctl = NoControl(spec, exo)
    ctl.name = "no_control"
    return run(ctl, spec, exo)


def scale_draws(exo: Exogenous, factor: float, from_minute: int = 0) -> None:
    """The household draws `factor` times the water from minute `from_minute` on."""
    for name in exo.draw_l40:
        exo.draw_l40[name] = exo.draw_l40[name].copy()
        exo.draw_l40[name][from_minute:] *= factor


def scale_pv(exo: Exogenous, factor: float, a: int = 0, b: int | None = None) -> None:
    """Clouds: PV production times `factor` over minutes [a, b) (the sky the house sees)."""
    exo.pv_w = exo.pv_w.copy()
    exo.pv_w[a:b] *= factor
