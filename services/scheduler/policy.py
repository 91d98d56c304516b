"""The config compiled once for the core: per-load constants looked up without pydantic."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from circuitq.config import CircuitqConfig
from circuitq.tariff import from_config as tariff_from_config
from circuitq.config.scheduler import LoadConfig

from .calendars import Calendars
from .model import DrmRt, LoadRt, State

CONTROLLABLE = ("relay", "thermostat", "drm")


@dataclass(slots=True)
class LoadPolicy:
    name: str
    cfg: LoadConfig
    kind: str
    circuit: str
    target: str  # relay name, thermostat key or DRM output
    controllable: bool
    on_w: float
    off_w: float
    debounce: timedelta
    hard_min_on_s: float  # the relay agent's own limits (0 for thermostats)
    hard_min_off_s: float
    min_on: timedelta
    min_off: timedelta  # max(policy, hard): the first moment the relay agent would allow it
    lease_s: float
    renew: timedelta  # lease_s / 3 of its own (possibly capped) lease
    max_starts_per_hour: int | None = None  # the relay agent's switching budget, respected here
    force_rules: tuple = ()  # only the rules this load's config uses (rules.py tables)
    block_rules: tuple = ()
    window_rules: tuple = ()
    calendars: tuple = ()  # every calendar its rules read: its boundaries may change the decision


class Policy:
    def __init__(self, cfg: CircuitqConfig):
        self.cfg = cfg
        s = cfg.scheduler
        self.sched = s
        self.site = cfg.site
        self.tz = cfg.site.tz
        self.calendars = Calendars(s.calendars, self.tz, cfg.site.country, cfg.site.subdivision)
        self.tariff = tariff_from_config(cfg)  # None: no tariff section (the planner counts kWh)
        self.settle = timedelta(seconds=s.settle_s)
        self.grace = timedelta(seconds=s.startup_grace_s)
        d = s.data
        self.reading_timeout = timedelta(seconds=d.reading_timeout_s)
        self.frozen = timedelta(seconds=d.frozen_s)
        self.solar_timeout = timedelta(seconds=d.solar_timeout_s)
        self.solar_avg = timedelta(seconds=d.solar_average_s)
        self.rotate = timedelta(minutes=d.stale_rotate_min)
        self.fresh_again = timedelta(seconds=d.fresh_again_s)
        self.solar_from_curb = d.solar_from_curb
        self.loads: dict[str, LoadPolicy] = {}
        for name, lc in cfg.loads.items():
            target = {"relay": lc.relay, "thermostat": lc.thermostat, "drm": lc.output}.get(lc.kind) or name
            hard_on = hard_off = 0.0
            lease = s.lease_s
            starts = None
            if lc.kind == "relay" and target in cfg.relays:
                r = cfg.relays[target]
                hard_on, hard_off, lease = r.min_on_s, r.min_off_s, min(lease, r.max_lease_s)
                starts = r.max_starts_per_hour
            self.loads[name] = LoadPolicy(
                name=name, cfg=lc, kind=lc.kind, circuit=lc.circuit or name, target=target,
                controllable=lc.kind in CONTROLLABLE,
                on_w=lc.running_w, off_w=max(0.0, lc.running_w - lc.hysteresis_w),
                debounce=timedelta(seconds=lc.debounce_s),
                hard_min_on_s=hard_on, hard_min_off_s=hard_off,
                # the relay agent's own minimum times too: never a wish it would hold
                min_on=timedelta(seconds=max(lc.min_on_s, hard_on)),
                min_off=timedelta(seconds=max(lc.min_off_s, hard_off)),
                lease_s=lease, renew=timedelta(seconds=lease / 3), max_starts_per_hour=starts)
        from .rules import applicable
        self.planned = set()  # loads the planner schedules (a contract, the planner on)
        if s.planner.enabled:
            for lp in self.loads.values():
                c = lp.cfg
                if (c.hot_water and lp.kind == "relay") or (c.runtime and lp.kind == "relay") \
                        or (c.comfort and lp.kind == "thermostat"):
                    self.planned.add(lp.name)
        for lp in self.loads.values():
            lp.force_rules, lp.block_rules, lp.window_rules = applicable(lp.cfg, lp.name in self.planned)
            lc = lp.cfg
            lp.calendars = tuple(sorted(set(lc.block) | set(lc.only) | set(lc.force)
                                        | {g.window for g in (lc.solar, lc.runtime) if g}))
        # a planned run ranks just above the most important controllable load (queue.py)
        self.top_priority = max((lp.cfg.priority for lp in self.loads.values() if lp.controllable), default=0)
        # highest priority first (stable: config order among equals): forced starts go in this order
        self.by_priority = sorted(self.loads.items(), key=lambda kv: -kv[1].cfg.priority)
        # circuits each load reads: a reading updates only these
        self.by_circuit: dict[str, list[str]] = {}
        for lp in self.loads.values():
            self.by_circuit.setdefault(lp.circuit, []).append(lp.name)
        self.drm_lease = {n: min(s.lease_s, cfg.drm_outputs[n].max_lease_s) for n in s.drm}
        self.drm_renew = {n: timedelta(seconds=v / 3) for n, v in self.drm_lease.items()}
        self.drm_loads = {lp.target: lp.name for lp in self.loads.values() if lp.kind == "drm"}
        # calendars in use, for wake-ups at their boundaries
        used = set()
        for lc in cfg.loads.values():
            used.update(lc.block, lc.only, lc.force)
            if lc.solar:
                used.add(lc.solar.window)
            if lc.runtime:
                used.add(lc.runtime.window)
        self.used_calendars = sorted(used)
        self.uses_solar = bool(s.drm) or any(lc.solar for lc in cfg.loads.values())
        self.uses_curb = bool(cfg.loads)  # a DRM-only house (dreadpi) has no Curb

    def solar_threshold(self, lp: LoadPolicy, now: datetime) -> float:
        g = lp.cfg.solar
        month = now.astimezone(self.tz).month
        for s in g.seasonal:
            if month in s.months:
                return s.threshold_w
        return g.threshold_w


def new_state(cfg: CircuitqConfig, now: datetime) -> State:
    """A fresh state; `now` is the boot time (startup grace and guarantee clocks start here)."""
    pol = Policy(cfg)
    st = State(policy=pol, loads={n: LoadRt() for n in pol.loads}, drm={n: DrmRt() for n in cfg.scheduler.drm})
    st.boot_at = now
    from .planner import new_planner
    st.planner = new_planner(pol)
    for lt in st.loads.values():
        lt.last_on = now  # unknown history: assume the load was available until boot
        lt.since = now
    return st
