"""The I/O shell: shed requests from MQTT, ecobee calls on two worker threads, state out.

All decisions run on the service's event loop thread (decide.py); HTTP runs on a pool of
two workers (ecobee asks for at most 2-3 requests in flight) whose results are posted back
to the loop. Per thermostat at most one write (setHold / resumeProgram) is in flight.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from circuitq import topics
from circuitq.config import ConfigError
from circuitq.config.ecobee import ThermostatConfig
from circuitq.loop import Timer
from circuitq.payloads import Activity, Alert, Reason, ShedRequest, ThermostatState
from circuitq.service import ServiceContext

from .api import EcobeeApi, EcobeeError, ReauthorizeNeeded
from .decide import Action, OurHold, Request, confirm, decide_hold, hold_status, is_ours
from .model import Reading, f, local_to_utc, parse_summary, parse_thermostat, running
from .store import HOLDS_FILE, TOKENS_FILE, HoldStore, TokenStore

log = logging.getLogger("ecobee_agent")
ALERT_KEY = "ecobee:authorize"
SHUTDOWN_S = 6.0


@dataclass
class Slot:
    """Everything the agent knows about one configured thermostat."""
    name: str
    cfg: ThermostatConfig
    request: Request | None = None
    ended_why: str = "shed ended"
    reading: Reading | None = None
    revision: str | None = None  # last fetched thermostatRev:runtimeRev
    equipment: list[str] | None = None  # from the latest summary
    connected: bool | None = None
    ours: OurHold | None = None
    busy: bool = False  # a write is in flight
    retry_mono: float = 0.0
    timer: Timer | None = None
    refused: Reason | None = None
    write_error: Reason | None = None  # the last setHold failed: shown as the refusal
    published: str | None = None


class EcobeeAgent:
    def __init__(self, ctx: ServiceContext):
        self.ctx, self.loop, self.client, self.clock = ctx, ctx.loop, ctx.client, ctx.clock
        self.cfg = ctx.cfg.ecobee
        if self.cfg is None or not self.cfg.thermostats:
            raise ConfigError("ecobee: no thermostats configured (section ecobee.thermostats)")
        if ctx.secrets.ecobee is None:
            raise ConfigError(f"{ctx.cfg.secrets_file}: ecobee.app_key is missing (the key stays out of the YAML)")
        self.api = EcobeeApi(self.cfg, ctx.secrets.ecobee.app_key, TokenStore(ctx.state_path(TOKENS_FILE)))
        self.holds = HoldStore(ctx.state_path(HOLDS_FILE))
        self.slots = {n: Slot(n, t) for n, t in self.cfg.thermostats.items()}
        for name, hold in self.holds.load().items():
            if name in self.slots:
                self.slots[name].ours = hold  # left by a previous run: resumed once we can read it
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ecobee-http")
        self.polling = False
        self.auth_alerted = False
        self.retry_s = min(60.0, max(1.0, 15 * self.cfg.backoff_s))

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        base = self.ctx.base
        self.client.subscribe(topics.ECOBEE_SHED.filter(base), self._on_shed)
        self.client.subscribe(topics.STATUS.topic(base, service="scheduler"), self._on_scheduler_status)
        self.client.on_connect_hooks.append(lambda: [self._publish(s, force=True) for s in self.slots.values()])
        self.loop.post(self._poll)

    def shutdown(self) -> None:
        """Clean stop: undo our holds now rather than letting them run out, within
        SHUTDOWN_S (docker stop kills after 10 s; a hold left behind ends by itself anyway)."""
        now, deadline = self.clock.now(), time.monotonic() + SHUTDOWN_S
        pending = {s.name: self.pool.submit(self.api.resume, s.cfg.identifier) for s in self.slots.values()
                   if hold_status(now, s.reading, s.ours) == "in_place"}
        for name, fut in pending.items():
            try:
                fut.result(timeout=max(0.1, deadline - time.monotonic()))
                self.slots[name].ours = None
                log.info("%s: resumed program on shutdown", name)
            except (EcobeeError, FutureTimeout) as exc:
                log.warning("%s: could not resume on shutdown (the hold ends by itself): %s", name, exc)
        self._save_holds()
        self.pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------ MQTT in
    def _on_shed(self, topic: str, payload: bytes, retained: bool) -> None:
        if not payload.strip():
            return  # an empty message only clears a retained one
        name = (topics.ECOBEE_SHED.match(self.ctx.base, topic) or {}).get("thermostat")
        slot = self.slots.get(name or "")
        if slot is None:
            self.client.report_error(topic, payload, f"thermostat: unknown {name!r} (configured: {', '.join(self.slots)})")
            return
        if retained:
            self.client.report_error(topic, payload, "retained shed request refused (a shed must come live, with a lease)")
            return
        try:
            req = ShedRequest.model_validate_json(payload)
        except ValidationError as exc:
            self.client.report_error(topic, payload, "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}" for e in exc.errors()))
            return
        now = self.clock.now()
        if req.shed:
            standing = slot.request is not None and now < slot.request.until
            since = slot.request.since if standing else now
            slot.request = Request(req.id, req.reason or "shed requested", now + timedelta(seconds=req.lease_s), since)
        else:
            slot.request, slot.ended_why = None, f"shed ended by the scheduler ({req.reason or 'shed=false'})"
        self._reconcile(slot)

    def _on_scheduler_status(self, topic: str, payload: bytes, retained: bool) -> None:
        if payload.strip() == topics.OFFLINE.encode():
            for s in self.slots.values():
                if s.request is not None:
                    s.request, s.ended_why = None, "the scheduler went offline"
                    self._reconcile(s)

    # ------------------------------------------------------------ decisions
    def _reconcile(self, slot: Slot) -> None:
        if slot.timer is not None:
            slot.timer.cancel()
            slot.timer = None
        now = self.clock.now()
        if slot.request is not None and now >= slot.request.until:
            slot.request, slot.ended_why = None, "lease lapsed: no renewal from the scheduler"
        action = decide_hold(now, slot.request, slot.reading, slot.ours, slot.cfg, slot.ended_why)
        if slot.request is None:
            slot.write_error = None
        refused = action.refused or slot.write_error
        if refused != slot.refused:
            if action.refused is not None:
                self._activity(slot, f"shed refused: {action.refused.text}")
            slot.refused = refused
        due = [action.next_check] if action.next_check is not None else []
        if slot.busy:
            pass  # a write is in flight (its hold is not confirmed yet): decide again when it ends
        elif action.kind == "forget":
            slot.ours = None
            self._save_holds()
        elif action.kind != "none":
            wait = slot.retry_mono - self.clock.monotonic()
            if wait > 0:  # the last write failed: try again after retry_s
                due.append(now + timedelta(seconds=wait))
            else:
                self._write(slot, action)
        self._publish(slot)
        if due:
            slot.timer = self.loop.call_later(max(0.05, (min(due) - now).total_seconds()), self._reconcile, slot)

    def _write(self, slot: Slot, action: Action) -> None:
        slot.busy = True
        ident = slot.cfg.identifier
        if action.kind in ("set", "renew"):
            slot.ours = action.hold  # intent first: a crash right after the POST can still be undone
            self._save_holds()
            self._submit(lambda: self.api.set_hold(ident, action.params), lambda r, e: self._written(slot, action, e))
        else:
            self._submit(lambda: self.api.resume(ident), lambda r, e: self._written(slot, action, e))

    def _written(self, slot: Slot, action: Action, exc: BaseException | None) -> None:
        slot.busy = False
        verb = {"set": "set a hold", "renew": "renew the hold", "resume": "resume the program"}[action.kind]
        if exc is not None:
            slot.retry_mono = self.clock.monotonic() + self.retry_s
            log.warning("%s: could not %s: %s", slot.name, verb, exc)
            self._activity(slot, f"could not {verb}: {exc}")
            if action.kind != "resume":
                code = "refused:invalid_hold" if getattr(exc, "code", None) == 7 else "refused:ecobee_error"
                slot.write_error = Reason(code=code, text=f"ecobee did not take the hold: {exc}")
        else:
            slot.retry_mono = 0.0
            slot.write_error = None
            if action.kind == "resume":
                slot.ours = None
                self._activity(slot, f"program resumed: {action.why}")
            else:
                if slot.ours is not None and slot.ours.end == action.hold.end:
                    slot.ours = confirm(slot.ours)
                p = action.params
                self._activity(slot, f"hold {'set' if action.kind == 'set' else 'renewed'} until "
                                     f"{p['endTime'][:5]} ({f(p['heatHoldTemp'])}/{f(p['coolHoldTemp'])} °F): {action.why}")
            self._save_holds()
        self._reconcile(slot)

    # ------------------------------------------------------------ polling
    def _poll(self) -> None:
        if self.polling:
            return
        self.polling = True
        known = {s.cfg.identifier: s.revision for s in self.slots.values()}
        fallback = self.clock.now().astimezone(self.ctx.cfg.site.tz).utcoffset()

        def job():
            summary = parse_summary(self.api.summary(list(known)))
            changed = [i for i, rev in known.items() if rev is None or (i in summary and summary[i].revision != rev)]
            readings = {}
            if changed:  # ecobee: poll the summary, fetch /thermostat only when a revision moved
                data = self.api.thermostats(changed)
                at = self.clock.now()
                for t in data.get("thermostatList") or []:
                    r = parse_thermostat(t, at, fallback)
                    readings[r.identifier] = r
            return summary, readings
        self._submit(job, self._polled)

    def _polled(self, result, exc: BaseException | None) -> None:
        self.polling = False
        self.loop.call_later(self.cfg.poll_s, self._poll)
        if exc is not None:
            log.warning("ecobee poll failed: %s", exc)
            return
        summary, readings = result
        for s in self.slots.values():
            entry, reading = summary.get(s.cfg.identifier), readings.get(s.cfg.identifier)
            if reading is not None:
                s.reading = reading
                s.revision = entry.revision if entry else reading.revision
            if entry is not None:
                s.equipment, s.connected = entry.equipment, entry.connected
            self._reconcile(s)

    # ------------------------------------------------------------ plumbing
    def _submit(self, fn, done) -> None:
        fut = self.pool.submit(fn)
        fut.add_done_callback(lambda fu: self.loop.post(self._finish, fu, done))

    def _finish(self, fut: Future, done) -> None:
        exc = fut.exception()
        if isinstance(exc, ReauthorizeNeeded):
            self._alert_reauthorize(str(exc))
        elif exc is None and self.auth_alerted:
            self.auth_alerted = False
            self._alert("ecobee is authorized again", "ecobee accepts circuitq's tokens again.", resolved=True)
        elif exc is not None and not isinstance(exc, EcobeeError):
            log.error("ecobee call failed unexpectedly", exc_info=exc)
        done(None if exc else fut.result(), exc)

    def _alert_reauthorize(self, why: str) -> None:
        if self.auth_alerted:
            return
        self.auth_alerted = True
        self._alert("ecobee needs authorizing again",
                    f"{why}. Heat pump sheds are paused until you run: "
                    f"python -m services.ecobee_agent authorize --config {self.ctx.args.config or 'CONFIG'}")

    def _alert(self, title: str, message: str, resolved: bool = False) -> None:
        log.warning("alert: %s: %s", title, message)
        self.client.publish_entry(topics.ALERT, Alert(key=ALERT_KEY, title=title, message=message, priority=1,
                                                      source=self.ctx.name, resolved=resolved, ts=self.clock.now()))

    def _activity(self, slot: Slot, message: str) -> None:
        log.info("%s: %s", slot.name, message)
        self.client.publish_entry(topics.ACTIVITY, Activity(service=self.ctx.name, subject=slot.name,
                                                            message=message, ts=self.clock.now()))

    def _save_holds(self) -> None:
        self.holds.save({s.name: s.ours for s in self.slots.values() if s.ours is not None})

    def _publish(self, slot: Slot, force: bool = False) -> None:
        state = self.state(slot, self.clock.now())
        key = state.model_dump_json(exclude={"ts"})
        if force or key != slot.published:
            slot.published = key
            self.client.publish_entry(topics.ECOBEE_STATE, state, thermostat=slot.name)

    def state(self, slot: Slot, now: datetime) -> ThermostatState:
        r, ours = slot.reading, slot.ours
        status = hold_status(now, r, ours)
        hold = None
        if status == "in_place":
            hold = {"by": "circuitq", "end": ours.end.isoformat(), "end_local": ours.end_local,
                    "heat_f": f(ours.heat), "cool_f": f(ours.cool)}
        elif r is not None and r.hold is not None and not is_ours(r.hold, ours):
            hold = {"by": "other", "end": local_to_utc(r.hold.end_local, r.utc_offset).isoformat(),
                    "end_local": r.hold.end_local, "heat_f": f(r.hold.heat), "cool_f": f(r.hold.cool)}
        equipment = slot.equipment if slot.equipment is not None else (r.equipment if r else [])
        connected = slot.connected if slot.connected is not None else bool(r and r.connected)
        return ThermostatState(
            name=slot.name, connected=connected, hvac_mode=r.hvac_mode if r else None,
            indoor_f=f(r.indoor) if r else None, heat_setpoint_f=f(r.desired_heat) if r else None,
            cool_setpoint_f=f(r.desired_cool) if r else None, equipment=equipment,
            running=running(equipment), hold=hold, shed=status == "in_place", shed_refused=slot.refused, ts=now)
