"""The scheduler's I/O shell: MQTT messages and timers in, the pure core's commands out.

Every message and timer runs on the EventLoop thread: parse -> core.decide(now, state,
event) -> publish commands -> arm one timer at state.next_wake. No cron tick: a window
boundary, an override end or a lease renewal wakes it at that moment.
"""
from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from pydantic import BaseModel, ValidationError

from circuitq import payloads as p
from circuitq import topics as t
from circuitq.service import ServiceContext
from circuitq.state import check_state_dir

from . import discovery, sensing, store
from .planner import inputs as planner_inputs
from . import model as m
from .core import decide
from .overrides import LengthSet, OverrideError, OverrideLengths, parse
from .policy import new_state

TICK = m.Tick()
SOURCES = {"curb_collector": "curb", "solar_collector": "solar"}


RETRY_S = 5.0  # after an unexpected error in decide(), try again this soon
LEASED = (m.RelayCmd, m.DrmCmd, m.ShedCmd)  # what the agents act on
LENGTHS_FILE = "override_lengths.json"  # the override length a user chose per load ({"minutes": N})


class SchedulerService:
    def __init__(self, ctx: ServiceContext):
        self.ctx, self.cfg, self.client, self.log = ctx, ctx.cfg, ctx.client, ctx.log
        self.base = ctx.base
        self.clock = ctx.clock
        now = self.clock.now()
        self.state = new_state(self.cfg, now)
        check_state_dir(self.cfg.state_dir, store.WHAT)  # exit 2 naming the path, not a traceback
        self.path = ctx.state_path(self.cfg.scheduler.state_file)
        self._dirty = False  # a Persist waits until the decision's messages are out
        for note in store.load(self.path, self.state, now):
            self.log.info("restart: %s", note)
        self.lengths = OverrideLengths(ctx.state_path(LENGTHS_FILE))
        self._timer = None
        self._ids = itertools.count(1)
        self._run = uuid.uuid4().hex[:6]

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        sub = self.client.subscribe
        sub(t.CURB_READING.filter(self.base), self._typed(p.CurbReading, self._reading))
        sub(t.CURB_HEALTH.filter(self.base), self._typed(p.Health, lambda tp, h: self._health("curb", h)))
        sub(t.SOLAR_PRODUCTION.filter(self.base), self._solar)
        sub(t.SOLAR_HEALTH.filter(self.base), self._typed(p.Health, lambda tp, h: self._health("solar", h)))
        for svc in SOURCES:
            sub(t.STATUS.topic(self.base, service=svc), self._status)
        for agent in sensing.AGENT_KINDS:
            sub(t.STATUS.topic(self.base, service=agent), self._agent_status)
        sub(t.RELAY_STATE.filter(self.base), self._typed(p.RelayState, self._relay))
        sub(t.DRED_STATE.filter(self.base), self._typed(p.DrmState, self._dred))
        sub(t.ECOBEE_STATE.filter(self.base), self._typed(p.ThermostatState, self._thermostat))
        sub(t.LOAD_SET.filter(self.base), lambda tp, pl, r: self._set("load", t.LOAD_SET, tp, pl, r))
        sub(t.DRM_SET.filter(self.base), lambda tp, pl, r: self._set("drm", t.DRM_SET, tp, pl, r))
        sub(discovery.birth_topic(self.cfg), discovery.birth_handler(self.client, self.cfg, self.log))
        # the planner's inputs: a forecast service, a dynamic price series, tank sensors
        sub(t.SOLAR_FORECAST.filter(self.base), self._typed(p.SolarForecast, self._forecast))
        tariff = self.cfg.tariff
        if tariff is not None and tariff.price_topic:
            sub(t.TARIFF_PRICE.filter(self.base), self._typed(p.PriceSeries, self._prices))
        sub(t.LOAD_TANK.filter(self.base), self._typed(p.TankTemperature, self._tank))
        self.client.on_connect_hooks.append(self._on_connect)
        self._connected_once = False

    def shutdown(self) -> None:
        if self._timer:
            self._timer.cancel()
        now = self.clock.now()
        for name, lp in self.state.policy.loads.items():  # a shed must never outlive us
            if lp.kind == "thermostat" and self.state.loads[name].cmd_state is True:
                self._exec(m.ShedCmd(lp.target, False, "scheduler stopping", lp.lease_s))
        self._save(now)

    def _on_connect(self) -> None:
        if not self._connected_once:  # the start-up grace counts from the first connection,
            self._connected_once = True  # when retained readings can start to arrive
            self.state.boot_at = self.clock.now()
        discovery.publish(self.client, self.cfg)  # turned off: empty configs remove the entities
        for lt in self.state.loads.values():  # retained states again after a broker restart
            lt.published = None
        for d in self.state.drm.values():
            d.published = None
        self.decide(TICK)

    # ------------------------------------------------------------ core
    def decide(self, event) -> None:
        now = self.clock.now()
        try:
            st, cmds = decide(now, self.state, event)
        except Exception:
            # A bug must not silence the scheduler: look again soon (the loop reports the
            # error on circuitq/error); the relay agent's leases cover the meantime.
            self._arm(RETRY_S)
            raise
        # Leased commands first: the relays must not wait behind states and activity lines.
        for c in sorted(cmds, key=lambda c: not isinstance(c, LEASED)):
            try:
                self._exec(c, now)
            except Exception as exc:  # one command failing must not stop the others
                self.log.exception("could not carry out %s", c)
                self.client.report_own_error(repr(c), f"{type(exc).__name__}: {exc}")
        if self._dirty:  # right after the commands: the relays never wait for the disk (a
            self._dirty = False  # kill -9 in between loses this one save, nothing older)
            self._save(now)
        self._arm(None if st.next_wake is None else (st.next_wake - now).total_seconds())

    def _arm(self, delay_s: float | None) -> None:
        if self._timer:
            self._timer.cancel()
            self._timer = None
        if delay_s is not None:
            self._timer = self.ctx.loop.call_later(max(0.0, delay_s) + 0.002, self.decide, TICK)

    def _id(self) -> str:
        return f"{self._run}-{next(self._ids)}"

    def _exec(self, c, now=None) -> None:
        now = now or self.clock.now()
        pub = self.client.publish_entry
        if isinstance(c, m.RelayCmd):
            pub(t.RELAY_COMMAND, p.RelayCommand(state=c.state, lease_s=c.lease_s, id=self._id()), relay=c.relay)
        elif isinstance(c, m.DrmCmd):
            pub(t.DRED_COMMAND, p.DrmCommand(mode=c.mode, lease_s=c.lease_s, id=self._id()), output=c.output)
        elif isinstance(c, m.ShedCmd):
            pub(t.ECOBEE_SHED, p.ShedRequest(shed=c.shed, reason=c.reason[:200], lease_s=c.lease_s, id=self._id()),
                thermostat=c.thermostat)
        elif isinstance(c, m.PublishLoad):
            pub(t.LOAD_STATE, p.LoadState(**c.state), load=c.load)
        elif isinstance(c, m.PublishDrm):
            pub(t.DRM_STATE, p.DrmLoadState(**c.state), drm=c.output)
        elif isinstance(c, m.ActivityLine):
            self.log.info("%s: %s", c.subject, c.message)
            pub(t.ACTIVITY, p.Activity(service="scheduler", subject=c.subject, message=c.message, ts=now))
        elif isinstance(c, m.AlertMsg):
            self.log.warning("alert %s: %s", c.key, c.message)
            pub(t.ALERT, p.Alert(key=c.key, title=c.title, message=c.message, priority=c.priority,
                                 source="scheduler", resolved=c.resolved, ts=now))
        elif isinstance(c, m.PublishPlan):
            pub(t.PLAN, p.Plan(**c.plan))
        elif isinstance(c, m.Persist):
            self._dirty = True

    def _save(self, now) -> None:
        try:
            store.save(self.path, self.state, now)
        except OSError:  # logged and alerted by circuitq.state (MONITOR -> FleetClient)
            pass

    # ------------------------------------------------------------ inputs
    def _typed(self, model: type[BaseModel], fn):
        def handler(topic: str, payload: bytes, retained: bool) -> None:
            if not payload:
                return
            try:
                msg = model.model_validate_json(payload)
            except ValidationError as exc:
                e = exc.errors()[0]
                where = ".".join(str(x) for x in e["loc"]) or "payload"
                self.client.report_error(topic, payload, f"{model.__name__}: {where}: {e['msg']}")
                return
            fn(topic, msg)
        return handler

    def _reading(self, topic: str, r: p.CurbReading) -> None:
        self.decide(m.Reading(r.circuits, r.ts, r.stale, r.production_w, r.consumption_w))

    def _forecast(self, topic: str, f: p.SolarForecast) -> None:
        self.decide(m.SolarForecast([(pt.start, pt.end, pt.w) for pt in f.points]))

    def _prices(self, topic: str, series: p.PriceSeries) -> None:
        try:
            points = planner_inputs.price_points(series, self.clock.now(), self.cfg.tariff.price_series_max_h)
        except ValueError as exc:
            self.client.report_error(topic, series.model_dump_json().encode(), f"PriceSeries: {exc}")
            return
        self.decide(m.PriceSeries(points))

    def _tank(self, topic: str, reading: p.TankTemperature) -> None:
        load = t.LOAD_TANK.match(self.base, topic)["load"]
        lc = self.cfg.loads.get(load)
        if lc is None or lc.hot_water is None or not lc.hot_water.sensor:
            self.client.report_error(topic, reading.model_dump_json().encode(),
                                     f"load {load!r} has no tank sensor configured (loads.{load}.hot_water.sensor)")
            return
        self.decide(m.TankTemp(load, reading.temp_c))

    def _solar(self, topic: str, payload: bytes, retained: bool) -> None:
        if not payload:
            return
        try:
            r = p.SolarReading.model_validate_json(payload)
        except ValidationError as exc:  # dreadpi: invalid or negative production -> DRM0
            self.client.report_error(topic, payload, f"SolarReading: {exc.errors()[0]['msg']}")
            self.decide(m.Solar(None))
            return
        self.decide(m.Solar(r.w, r.ts, r.stale))

    def _health(self, source: str, h: p.Health) -> None:
        self.decide(m.SourceHealth(source, h.state == "ok", h.message))

    def _status(self, topic: str, payload: bytes, retained: bool) -> None:
        if not payload:  # a cleared retained status says nothing (the will says "offline")
            return
        svc = t.STATUS.match(self.base, topic)["service"]
        self.decide(m.CollectorStatus(SOURCES[svc], payload.decode(errors="replace").strip() == t.ONLINE))

    def _agent_status(self, topic: str, payload: bytes, retained: bool) -> None:
        if payload.decode(errors="replace").strip() == t.ONLINE:
            self.decide(m.AgentOnline(t.STATUS.match(self.base, topic)["service"]))

    def _relay(self, topic: str, r: p.RelayState) -> None:
        self.decide(m.RelayFeedback(t.RELAY_STATE.match(self.base, topic)["relay"], r.level, r.since,
                                    _held(r.pending)))

    def _dred(self, topic: str, d: p.DrmState) -> None:
        self.decide(m.DrmFeedback(t.DRED_STATE.match(self.base, topic)["output"], d.mode, d.since,
                                  _held(d.pending)))

    def _thermostat(self, topic: str, s: p.ThermostatState) -> None:
        name = t.ECOBEE_STATE.match(self.base, topic)["thermostat"]
        indoor_c = None if s.indoor_f is None else (s.indoor_f - 32) / 1.8
        self.decide(m.ThermostatFeedback(name, s.running, s.connected, s.shed, indoor_c))

    def _set(self, target: str, entry: t.Topic, topic: str, payload: bytes, retained: bool) -> None:
        if not payload:
            return  # our own clearing of a retained /set, or an empty message
        # Apply once, then clear any retained copy so it cannot fire again after a reconnect.
        # Always: MQTT 3.1.1 delivers a retained publish to live subscribers with retain=0,
        # so the flag alone cannot tell us (clearing a topic with nothing retained is harmless).
        self.client.publish(topic, b"", qos=1, retain=True)
        name = next(iter(entry.match(self.base, topic).values()))
        now = self.clock.now()
        try:
            ev = parse(self.cfg, target, name, payload, now, self.lengths.get(target, name))
        except OverrideError as exc:
            self.client.report_error(topic, payload, str(exc))
            return
        if isinstance(ev, LengthSet):
            ev = self._length(ev, now)
            if ev is None:
                return
        ev.source = "user (retained)" if retained else "user"
        self.decide(ev)

    def _length(self, req: LengthSet, now) -> m.Override | None:
        """{"minutes": N}: the length of this load's next override, and of the running one."""
        try:
            self.lengths.set(req.target, req.name, req.minutes)
        except OSError as exc:  # circuitq.state raises the persistence alert
            self.log.error("cannot save the override length of %s: %s", req.name, exc)
        running = (self.state.drm[req.name].override if req.target == "drm"
                   else None if self.state.loads[req.name].mode == "auto" else self.state.loads[req.name].mode)
        if running is None:
            return None
        return m.Override(req.target, req.name, running, now + timedelta(minutes=req.minutes))


def _held(pending: p.Pending | None) -> tuple | None:
    """A change the relay agent holds back, as the core keeps it: (state, code, text, when)."""
    if pending is None:
        return None
    return (pending.state, pending.reason.code, pending.reason.text, pending.eligible_at)


def build(ctx: ServiceContext) -> SchedulerService:
    return SchedulerService(ctx)
