"""A pure, fast driver for the scheduler core: minute readings, timers at next_wake, and a
little physics (a controllable load draws its demand only while permitted)."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

from circuitq.config import CircuitqConfig
from services.scheduler import model as m
from services.scheduler.core import decide
from services.scheduler.policy import new_state

UTC = timezone.utc
RELAYS = {"water_heater_north": 5, "water_heater_south": 6, "pool_pump": 13}


def config(loads: dict, scheduler: dict | None = None, site: dict | None = None,
           drm: dict | None = None) -> CircuitqConfig:
    """A small house: UTC, US holidays, the three relays without hard limits."""
    data = {
        "site": {"timezone": "UTC", "country": "US", **(site or {})},
        "relays": {n: {"pin": p, "min_on_s": 0, "min_off_s": 0} for n, p in RELAYS.items()},
        # the rule engine alone unless a test asks for the planner (tests/planner/)
        "scheduler": {"settle_s": 120, "startup_grace_s": 0, "planner": {"enabled": False},
                      **(scheduler or {})},
        "loads": loads,
    }
    if drm is not None:
        data["drm_outputs"] = {"aircon": {"relays": {"drm2": {"pin": 17}, "drm3": {"pin": 27}},
                                          "min_dwell_s": 0, "max_changes_per_hour": 1000}}
        data["scheduler"]["drm"] = {"aircon": drm}
    return CircuitqConfig.model_validate(copy.deepcopy(data))


def relay(priority: int, **kw) -> dict:
    return {"kind": "relay", "priority": priority, "running_w": 500, "hysteresis_w": 100,
            "debounce_s": 0, **kw}


def observed(priority: int, running_w: float, **kw) -> dict:
    return {"kind": "observed", "priority": priority, "running_w": running_w, "debounce_s": 0, **kw}


def at(s: str, tz=UTC) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=tz)


class Sim:
    def __init__(self, cfg: CircuitqConfig, start: datetime, step_s: float = 60, solar: float | None = None):
        self.cfg = cfg
        self.now = start
        self.st = new_state(cfg, start)
        self.step = timedelta(seconds=step_s)
        self.next_read = start
        self.feeding = True
        self.solar = solar
        self.observed: dict[str, float] = {}  # circuit -> watts, whatever we decide
        self.demand: dict[str, float] = {}  # controllable load -> watts it draws when permitted
        self.log: list[tuple[datetime, object]] = []

    # ---- driving
    def event(self, ev) -> list:
        _, cmds = decide(self.now, self.st, ev)
        self.log += [(self.now, c) for c in cmds]
        return cmds

    def _value(self, v, *args):
        return v(self.now, *args) if callable(v) else v

    def circuits(self) -> dict[str, float]:
        c = {k: self._value(v) for k, v in self.observed.items()}
        for name, w in self.demand.items():
            lt = self.st.loads[name]
            c[self.st.policy.loads[name].circuit] = self._value(w, lt) if lt.permitted else 0.0
        return c

    def feed(self) -> None:
        """Readings at this minute. `solar`, `observed` and `demand` values may be functions
        of now (demand: of now and the load's LoadRt)."""
        w = self._value(self.solar) if self.solar is not None else None
        if w is not None and not self.st.policy.solar_from_curb:
            self.event(m.Solar(w, self.now))
        self.event(m.Reading(self.circuits(), self.now, production_w=w))

    def run(self, seconds: float) -> "Sim":
        end = self.now + timedelta(seconds=seconds)
        while True:
            cands = [t for t in (self.next_read if self.feeding else None, self.st.next_wake) if t]
            t = min(cands, default=None)
            if t is None or t > end:
                break
            self.now = max(self.now, t)
            if self.feeding and t == self.next_read:
                self.feed()
                self.next_read += self.step
            else:
                self.event(m.Tick())
        self.now = end
        if not self.feeding:
            self.next_read = end
        return self

    def run_until(self, when: datetime) -> "Sim":
        return self.run((when - self.now).total_seconds())

    def override(self, name: str, mode, minutes: float | None = None, target: str = "load"):
        until = self.now + timedelta(minutes=minutes) if minutes else None
        return self.event(m.Override(target, name, mode, until))

    # ---- looking
    def permitted(self, name: str) -> bool:
        return bool(self.st.loads[name].permitted)

    def code(self, name: str) -> str:
        return self.st.loads[name].code

    def on(self) -> set[str]:
        return {n for n, lp in self.st.policy.loads.items() if lp.controllable and self.st.loads[n].permitted}

    def cmds(self, kind, since: datetime | None = None) -> list[tuple[datetime, object]]:
        return [(t, c) for t, c in self.log if isinstance(c, kind) and (since is None or t >= since)]

    def relay_switches(self, relay: str) -> list[tuple[datetime, str]]:
        """(time, state) each time the commanded state changed."""
        out, last = [], None
        for t, c in self.cmds(m.RelayCmd):
            if c.relay == relay and c.state != last:
                out.append((t, c.state))
                last = c.state
        return out

    def alerts(self) -> list[m.AlertMsg]:
        return [c for _, c in self.cmds(m.AlertMsg)]

    def activity(self) -> list[str]:
        return [f"{c.subject}: {c.message}" for _, c in self.cmds(m.ActivityLine)]
