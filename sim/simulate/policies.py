"""The policies a run compares, each behind the same small interface the runner drives.

- CoreController: a config through the REAL scheduler core (services.scheduler.core.decide)
  and the REAL relay agent core (services.relay_agent.fleet.Fleet / core.OutputCore). It sees
  only what the live scheduler sees: at the end of each minute a Curb reading of that
  minute's average circuit watts (with production_w, as Curb measures it) and a solar
  reading; relay read-back when a relay's level changed; the thermostat's state (running,
  indoor temperature) every ecobee poll_s. Timers the core asks for (next_wake) fire between
  readings, as the live EventLoop fires them. RelayCmd -> the relay agent core (leases, min
  on/off, starts budget) -> relay level; ShedCmd -> a leased hold like the ecobee agent's,
  with its comfort guard (min/max_indoor_f, a START_MARGIN_F to start) and max_shed_minutes.
- NoControl: every relay closed, never shed; the pool pump on its own timer.
- Permits: a per-minute permit schedule (the optimum's) played through the relay agent core.

A level the relay agent sets inside minute k acts on the physics from minute k + 1.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import numpy as np

from services.ecobee_agent.decide import START_MARGIN_F
from services.relay_agent.core import Now
from services.relay_agent.fleet import Fleet
from services.scheduler import model as m
from services.scheduler.core import decide
from services.scheduler.policy import new_state

from .spec import Exogenous, HouseSpec

# reason codes of a load the policy did not choose to run: forced windows and guarantees,
# overrides, and the planner's hard needs (a tank at its reserve, a day's hours, a room at
# the edge of its band)
FORCED = ("forced:", "override:", "needed:")


class ShedHold:
    """The thermostat hold as the ecobee agent keeps it: leased, guarded, time-limited."""

    def __init__(self, tcfg):
        self.until = -1.0  # request lease end (s since t0)
        self.since: float | None = None  # start of the continuous request
        self.active = False  # the hold is in place
        if tcfg is not None:
            self.lo, self.hi = (tcfg.min_indoor_f - 32) / 1.8, (tcfg.max_indoor_f - 32) / 1.8
            self.margin = START_MARGIN_F / 1.8
            self.max_s = tcfg.max_shed_minutes * 60
        else:
            self.lo, self.hi, self.margin, self.max_s = -1e9, 1e9, 0.0, 1e18

    def command(self, t: float, shed: bool, lease_s: float) -> None:
        if shed:
            if self.until < t:
                self.since = t
            self.until = t + lease_s
        else:
            self.until, self.since = -1.0, None

    def held(self, t: float, indoor_c: float) -> bool:
        """Is the hold in place for the minute starting at t (the agent's refusals applied)."""
        if t >= self.until:
            self.since = None
            self.active = False
            return False
        m_ = 0.0 if self.active else self.margin
        ok = (self.lo + m_ <= indoor_c <= self.hi - m_) and t - self.since < self.max_s
        self.active = ok
        return ok


class CoreController:
    def __init__(self, name: str, cfg, spec: HouseSpec, exo: Exogenous, record_forced: bool = True):
        self.name, self.cfg, self.spec, self.exo = name, cfg, spec, exo
        self.t0 = exo.t0
        self.st = new_state(cfg, self.t0)
        self.pol = self.st.policy
        self.fleet = Fleet(cfg, Now(0.0, self.t0))
        self.relays = self.fleet.cores["relay"]
        self.relay_of = {n: self.pol.loads[n].target for n in spec.controllable if n in self.pol.loads
                         and self.pol.loads[n].kind == "relay"}
        missing = [n for n in spec.controllable if n not in self.pol.loads]
        if missing:
            raise ValueError(f"policy {name}: its config has no load {', '.join(missing)} of the house")
        moved = [f"{n} reads {lp.circuit!r}, the house measures it on {spec.circuits[n]!r}"
                 for n, lp in self.pol.loads.items() if n in spec.circuits and lp.circuit != spec.circuits[n]]
        if moved:
            raise ValueError(f"policy {name}: " + "; ".join(moved))
        z = spec.sheddable
        self.zone_load = z.load if z else None
        self.zone_thermostat = z.thermostat if z else None
        tcfg = cfg.ecobee.thermostats.get(z.thermostat) if (z and cfg.ecobee) else None
        self.shed = ShedHold(tcfg)
        self.poll_s = cfg.ecobee.poll_s if cfg.ecobee else 180.0
        self.next_poll = 0.0
        self.reported: dict[str, str] = {}
        self.decisions = 0
        self.core_s = 0.0
        self.from_curb = self.pol.solar_from_curb
        self.codes: dict[str, str] = {}
        self.shed_changes = 0
        self._held = False
        self.cmd_n = 0
        self.deadline = None  # the relay agent's next lease end or eligible transition (s)
        self.sensors = [n for n in spec.tanks if cfg.loads[n].hot_water and cfg.loads[n].hot_water.sensor]

    # ------------------------------------------------------------------ the runner's interface
    def level(self, load: str) -> bool:
        return self.relays[self.relay_of[load]].value == "on"

    def held(self, k: int, indoor_c: float) -> bool:
        h = self.shed.held(k * 60.0, indoor_c)
        if h != self._held:
            self.shed_changes += 1
            self._held = h
        return h

    def forced(self, load: str) -> bool:
        return self.st.loads[load].code.startswith(FORCED)

    def observe(self, k: int, circuits: dict[str, float], pv_w: float, zone_c: float | None,
                zone_running: bool, tank_top_c: dict[str, float]) -> None:
        """End of minute k: timers inside it, then the reading of its averages (and the tank
        sensors a config declares with hot_water.sensor: the top of the tank)."""
        now = self.t0 + timedelta(minutes=k + 1)
        st = self.st
        while st.next_wake is not None and st.next_wake < now:
            self._decide(st.next_wake, m.Tick())
        events = []
        if not self.from_curb:
            events.append(m.Solar(pv_w, now))
        events.append(m.Reading(circuits, now, False, pv_w))
        for relay, core in self.relays.items():
            if self.reported.get(relay) != core.value:
                self.reported[relay] = core.value
                events.append(m.RelayFeedback(relay, core.value))
        for load in self.sensors:
            events.append(m.TankTemp(load, tank_top_c[load]))
        t = (k + 1) * 60.0
        if self.zone_load and t >= self.next_poll:
            self.next_poll = t + self.poll_s
            events.append(m.ThermostatFeedback(self.zone_thermostat, zone_running, True, self._held, zone_c))
        self._decide(now, m.Batch(events))
        self._tick(t, now)

    # ------------------------------------------------------------------ internals
    def _decide(self, now: datetime, event) -> None:
        t = (now - self.t0).total_seconds()
        c0 = time.perf_counter()
        self.st, cmds = decide(now, self.st, event)
        self.core_s += time.perf_counter() - c0
        self.decisions += 1
        if not cmds:
            return
        for c in cmds:
            kind = type(c)
            if kind is m.RelayCmd:
                self.cmd_n += 1
                core = self.relays[c.relay]
                core.command(Now(t, now), c.state, c.lease_s, str(self.cmd_n))
            elif kind is m.ShedCmd:
                self.shed.command(t, c.shed, c.lease_s)
                continue
            elif kind is m.DrmCmd:
                self.cmd_n += 1
                core = self.fleet.cores["drm"][c.output]
                core.command(Now(t, now), c.mode, c.lease_s, str(self.cmd_n))
            else:
                continue
            # a command may have set a lease or a pending transition of this output: the next
            # deadline is at the latest its own (one too early only costs a tick that finds
            # nothing due: the agent's tick applies what is due whenever it runs)
            if self.deadline is not None:
                d = core.next_deadline()
                if d is not None and d < self.deadline:
                    self.deadline = d

    def _tick(self, t: float, now: datetime) -> None:
        """Lease ends and held transitions whose time has come (the agent's timer), checked at
        each minute boundary: the physics only sees levels at minute boundaries."""
        d = self.deadline
        if d is None:
            d = self.fleet.next_deadline()
            d = self.deadline = float("inf") if d is None else d
        if d <= t:
            self.fleet.tick(Now(t, now))
            self.deadline = None


class NoControl:
    """Everything permitted always; the pool pump runs on its own timer."""

    def __init__(self, spec: HouseSpec, exo: Exogenous):
        self.pool = spec.pool.load if spec.pool else None
        self.timer = exo.pool_timer.tolist() if exo.pool_timer is not None else None
        self.k = 0
        self.decisions = 0
        self.core_s = 0.0
        self.shed_changes = 0

    def level(self, load: str) -> bool:
        return self.timer[self.k] if load == self.pool else True

    def held(self, k: int, indoor_c: float) -> bool:
        self.k = k
        return False

    def forced(self, load: str) -> bool:
        return False

    def observe(self, k, circuits, pv_w, zone_c, zone_running, tank_top_c) -> None:
        self.k = k + 1 if k + 1 < len(self.timer or ()) else k


class Permits(CoreController):
    """A permit schedule (load -> bool per minute) through the relay agent core."""

    def __init__(self, name: str, cfg, spec: HouseSpec, exo: Exogenous, permits: dict[str, np.ndarray]):
        self.name, self.cfg, self.spec, self.exo, self.t0 = name, cfg, spec, exo, exo.t0
        self.fleet = Fleet(cfg, Now(0.0, self.t0))
        self.relays = self.fleet.cores["relay"]
        self.relay_of = {n: (cfg.loads[n].relay or n) for n in spec.controllable
                         if cfg.loads[n].kind == "relay"}
        bad = [n for n in spec.controllable if n not in permits or len(permits[n]) != exo.n]
        if bad:
            raise ValueError(f"policy {name}: no permit series of {exo.n} minutes for {', '.join(bad)}")
        self.permits = {n: np.asarray(v, dtype=bool).tolist() for n, v in permits.items()}
        z = spec.sheddable
        self.zone_load = z.load if z else None
        self.shed = ShedHold(None)  # the optimum keeps the comfort band itself
        self.decisions, self.core_s, self.shed_changes, self._held, self.cmd_n = 0, 0.0, 0, False, 0
        self.deadline = None
        self.lease_s = min(rc.max_lease_s for rc in cfg.relays.values()) if cfg.relays else 300.0
        self._apply(0)

    def forced(self, load: str) -> bool:
        return False

    def _apply(self, k: int) -> None:
        t = k * 60.0
        now = self.t0 + timedelta(minutes=k)
        self._tick(t, now)
        if k >= self.exo.n:
            return
        for load, relay in self.relay_of.items():
            self.cmd_n += 1
            self.relays[relay].command(Now(t, now), "on" if self.permits[load][k] else "off",
                                       self.lease_s, str(self.cmd_n))
        self.deadline = None
        if self.zone_load:
            self.shed.command(t, not self.permits[self.zone_load][k], 120.0)

    def observe(self, k, circuits, pv_w, zone_c, zone_running, tank_top_c) -> None:
        self._apply(k + 1)
