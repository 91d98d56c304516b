"""The curb_collector service shell: schedule polls, decide (pure modules), publish.

Runs on the event loop thread; HTTP runs on the worker (source.py). Publishes retained
`curb/reading` (mapped circuits only), `curb/circuit/<name>` (mapped and unmapped, for
dashboards), retained `curb/health`, and alerts `curb:failures`, `curb:auth`, `curb:config`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from circuitq import topics
from circuitq.config.curb import CurbConfig
from circuitq.payloads import Alert, CircuitPower, CurbReading, Health
from circuitq.service import ServiceContext

from .api import CurbApi
from .energy import EnergyMeter
from .auth import CurbAuth, TokenStore
from .failures import FailureTracker
from .freshness import after_stale, classify, live_due
from .live import LiveStream
from .mapping import Mapped, map_circuits
from .snapshot import BadBody, Snapshot, parse_latest, parse_live
from .source import CurbSource, Fetched, Worker
from .transport import (API_PREFIX, AUTH_PREFIX, ApiError, AuthRejected, CurbError, RateLimited,
                        base_url, make_session)

ENERGY_FILE = "curb_energy.json"
ALERT_TEXT = {  # key -> (title, priority)
    "curb:failures": ("Curb data unavailable", 1),
    "curb:auth": ("Curb login refused", 1),
    "curb:config": ("Curb circuit mapping error", 0),
}


class CurbCollector:
    def __init__(self, ctx: ServiceContext, cfg: CurbConfig, source: CurbSource, worker: Worker,
                 make_live: Callable[..., LiveStream] | None = None):
        self.ctx, self.cfg, self.source, self.worker = ctx, cfg, source, worker
        self.make_live = make_live
        self.live: LiveStream | None = None
        self.live_rx: float | None = None  # monotonic s of the last live event
        self.live_pub: float | None = None
        self.live_note = ""  # why the live stream is down, for the health message
        self.log = ctx.log
        self.tracker = FailureTracker(cfg.alert_failures_per_day, ctx.cfg.site.tz)
        self.last_ts: datetime | None = None
        self.reading: CurbReading | None = None
        self.unmapped: dict[str, float] = {}
        self.repolls = 0
        self.stale_declared = False
        self.health: Health | None = None
        self.open_alerts: set[str] = set()
        self._busy = False
        self._timer = None
        self._listed = False
        self.energy = EnergyMeter(ctx.state_path(ENERGY_FILE))  # kWh counters (curb/energy)

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self.worker.start()
        self.ctx.client.on_connect_hooks.append(self._republish)
        self._schedule(0)

    def shutdown(self) -> None:
        if self._timer:
            self._timer.cancel()
        self.worker.stop()
        if self.live:
            self.live.stop()
        self.energy.save(self.ctx.clock.now())

    def _schedule(self, delay_s: float) -> None:
        if self._timer:
            self._timer.cancel()
        self._timer = self.ctx.loop.call_later(delay_s, self._poll)

    def _poll(self) -> None:
        if not self._busy:
            self._busy = True
            self.worker.submit(self.source.fetch, self._on_fetched)

    # ---------------------------------------------------------------- decisions
    def _on_fetched(self, res: Fetched | BaseException) -> None:
        self._busy = False
        self._timer = None
        try:
            self._handle(res, self.ctx.clock.now())
        finally:  # whatever went wrong above, polling must go on
            if self._timer is None:
                self._schedule(self.cfg.poll_s)

    def _handle(self, res: Fetched | BaseException, now: datetime) -> None:
        if isinstance(res, BaseException):
            res = Fetched(error=ApiError(f"{type(res).__name__}: {res}"))
        if res.error is not None:
            return self._on_error(res.error, now)
        self._alert("curb:auth", now, resolved=True)
        if self.cfg.live and self.make_live and self.live is None and res.location_id:
            self.live = self.make_live(res.location_id, self._post_live, self._post_live_state)
            self.live.start()
        try:
            snap = parse_latest(res.body)
        except BadBody as exc:
            return self._on_error(ApiError(f"unexpected /latest body from Curb: {exc}"), now)
        if snap is None:
            self._failed(now, "offline", "Curb reports the hub offline (empty /latest: no data "
                                         "for over 5 minutes); check the hub's Wi-Fi and power")
            return self._schedule(self.cfg.poll_s)
        self._on_snapshot(snap, now)

    def _on_snapshot(self, snap: Snapshot, now: datetime) -> None:
        if not self._listed:
            self._listed = True
            self.log.info("Curb circuits: %s", "; ".join(
                f"id={c.id} label={c.label!r} w={c.w:g}" for c in snap.circuits))
        fresh = classify(snap.ts, now, self.last_ts, self.cfg.max_lag_s)
        if fresh.verdict == "unchanged":  # same minute as last time: nothing new to say
            return self._schedule(self.cfg.poll_s)
        if fresh.verdict == "stale":
            d = after_stale(self.repolls, self.cfg.repoll_max, self.stale_declared)
            if d.repoll:
                self.repolls += 1
                self.log.info("Curb reading is %.0f s old; re-poll %d/%d in %g s", fresh.age_s,
                              self.repolls, self.cfg.repoll_max, self.cfg.repoll_s)
                return self._schedule(self.cfg.repoll_s)
            self.stale_declared = True
        else:
            self.repolls, self.stale_declared = 0, False
        mapped = map_circuits(self.cfg.circuits, snap.circuits)
        if mapped.problems:
            return self._mapping_error(mapped, now)
        self._alert("curb:config", now, resolved=True)
        stale = fresh.verdict == "stale"
        self.last_ts = snap.ts
        if not self._live_fresh():  # else the live stream's readings are newer than this average
            self.reading = CurbReading(
                ts=snap.ts, received=now, stale=stale, age_s=round(fresh.age_s, 1),
                consumption_w=snap.consumption_w, production_w=snap.production_w,
                net_w=snap.net_w, circuits=mapped.circuits)
            self.unmapped = mapped.unmapped if self.cfg.publish_unmapped else {}
            self._publish_reading()
        if stale:
            self._failed(now, "stale", f"Curb's latest reading is {fresh.age_s:.0f} s old after "
                                       f"{self.cfg.repoll_max} re-polls (hub or cloud lagging)",
                         mark_stale=False)
        else:
            if self.tracker.success(now) == "resolve":
                self._alert("curb:failures", now, resolved=True)
            self._set_health("ok", "" if self._live_fresh() else self.live_note, now)
        self._schedule(self.cfg.poll_s)

    def _on_error(self, err: CurbError, now: datetime) -> None:
        delay = self.cfg.poll_s
        auth = isinstance(err, AuthRejected)
        if auth:  # a person must fix the secrets: retry slowly, never hammer Auth0
            delay = self.cfg.auth_retry_s
            self._alert("curb:auth", now, message=str(err))
        elif isinstance(err, RateLimited):
            delay = max(self.cfg.poll_s, err.retry_after_s or 0)
        self.log.warning("Curb poll failed: %s (next try in %g s)", err, delay)
        self._failed(now, "error", str(err), alert=not auth)
        self._schedule(delay)

    def _mapping_error(self, mapped: Mapped, now: datetime) -> None:
        text = "; ".join(mapped.problems)
        if "curb:config" not in self.open_alerts:
            self.log.error("circuit mapping: %s", text)
        self._alert("curb:config", now, message=text)
        self._set_health("error", text, now)
        self._schedule(self.cfg.poll_s)

    def _failed(self, now: datetime, state: str, message: str, alert: bool = True,
                mark_stale: bool = True) -> None:
        if self._live_fresh():  # data still flows from the live stream: say so, no alarm
            return self._set_health("ok", f"live stream ok; REST: {message}", now)
        if self.tracker.failure(now, alert=alert) == "raise":
            self._alert("curb:failures", now, message=f"{self.tracker.failures_today} failed Curb "
                                                      f"polls today; latest: {message}")
        if mark_stale and self.reading is not None:
            # the last real reading again, honestly aged: never a made-up one
            self.reading = self.reading.model_copy(update={
                "stale": True, "age_s": round((now - self.reading.ts).total_seconds(), 1)})
            self._publish_reading()
        self._set_health(state, message, now)

    # ---------------------------------------------------------------- live stream
    def _post_live(self, body: dict) -> None:  # live thread
        self.ctx.loop.post(self._on_live, body)

    def _post_live_state(self, up: bool, message: str) -> None:  # live thread (it logs)
        self.ctx.loop.post(setattr, self, "live_note", "" if up else message)

    def _live_fresh(self) -> bool:
        return (self.live_rx is not None
                and self.ctx.clock.monotonic() - self.live_rx < self.cfg.live_stale_s)

    def _on_live(self, body: dict) -> None:
        now, mono = self.ctx.clock.now(), self.ctx.clock.monotonic()
        try:
            snap = parse_live(body, now)
        except BadBody as exc:
            return self.ctx.client.report_error("curb live stream", str(body)[:200], str(exc))
        mapped = map_circuits(self.cfg.circuits, snap.circuits)
        if mapped.problems:  # the REST path reports it (health, curb:config)
            return
        self.live_rx = mono
        last = self.reading.circuits if self.reading and self.reading.source == "live" else {}
        if not live_due(mono, self.live_pub, last, mapped.circuits, self.cfg.live_publish_s,
                        self.cfg.live_delta_w):
            return
        self.live_pub = mono
        self.reading = CurbReading(ts=now, received=now, stale=False, age_s=0.0,
                                   consumption_w=snap.consumption_w, production_w=snap.production_w,
                                   net_w=snap.net_w, circuits=mapped.circuits, source="live")
        self.unmapped = mapped.unmapped if self.cfg.publish_unmapped else {}
        self._publish_reading()

    # ---------------------------------------------------------------- publishing
    def _set_health(self, state: str, message: str, now: datetime) -> None:
        since = self.health.since if self.health and self.health.state == state else now
        self.health = Health(state=state, message=message,
                             source="live" if self._live_fresh() else "rest",
                             last_success=self.tracker.last_success,
                             consecutive_failures=self.tracker.consecutive,
                             failures_today=self.tracker.failures_today, since=since)
        self.ctx.client.publish_entry(topics.CURB_HEALTH, self.health)

    def _publish_reading(self) -> None:
        r = self.reading
        self.ctx.client.publish_entry(topics.CURB_READING, r)
        for name, w in {**self.unmapped, **r.circuits}.items():
            self.ctx.client.publish_entry(topics.CURB_CIRCUIT,
                                          CircuitPower(w=w, ts=r.ts, stale=r.stale), circuit=name)
        if self.energy.add(r, self.ctx.clock.now()):
            self.ctx.client.publish_entry(topics.CURB_ENERGY, self.energy.totals())

    def _republish(self) -> None:
        """On (re)connect: the retained state again, in case the broker lost it."""
        if self.health is not None:
            self.ctx.client.publish_entry(topics.CURB_HEALTH, self.health)
        if self.reading is not None:
            self._publish_reading()
        if self.energy.totals() is not None:
            self.ctx.client.publish_entry(topics.CURB_ENERGY, self.energy.totals())

    def _alert(self, key: str, now: datetime, message: str = "", resolved: bool = False) -> None:
        if resolved != (key in self.open_alerts):
            return  # raise only once; resolve only what was raised
        title, priority = ALERT_TEXT[key]
        if resolved:
            self.open_alerts.discard(key)
            message = message or f"{title}: resolved, Curb data is flowing again"
        else:
            self.open_alerts.add(key)
        self.ctx.client.publish_entry(topics.ALERT, Alert(
            key=key, title=title, message=message, priority=-1 if resolved else priority,
            source=self.ctx.name, resolved=resolved, ts=now))


def build(ctx: ServiceContext) -> CurbCollector:
    cfg = ctx.cfg.curb or CurbConfig()
    if not cfg.circuits:
        ctx.log.warning("curb.circuits is empty: readings will carry totals only")
    session = make_session(cfg.http_retries, cfg.http_backoff_s)
    auth = CurbAuth(session, base_url(AUTH_PREFIX, cfg.auth_host), ctx.secrets.curb,
                    TokenStore(ctx.state_path(cfg.token_file)), ctx.clock, timeout_s=cfg.timeout_s,
                    margin_s=cfg.refresh_margin_s, secrets_file=str(ctx.cfg.secrets_file),
                    rejection_hold_s=cfg.auth_retry_s)
    api_base = base_url(API_PREFIX, cfg.api_host)
    api = CurbApi(session, api_base, auth, cfg.timeout_s)

    def make_live(location_id, on_data, on_state) -> LiveStream:
        return LiveStream(api_base, auth, location_id, on_data, on_state, timeout_s=cfg.timeout_s)
    return CurbCollector(ctx, cfg, CurbSource(api, cfg.location_id), Worker(ctx.loop), make_live)
