"""The forecast's I/O shell: schedule calls, run each on a worker thread, publish the retained
circuitq/solar/forecast, keep the last good forecast (and the call budget) in a state file.

All state changes happen on the event loop thread. A failed call never withdraws the forecast
in hand: the health (`circuitq/solar/source/forecast/health`) says what is wrong, and turns
`stale` once the forecast is older than max_age_s; alerts `solar:auth|config|down:forecast`
ask a person to act and are resolved by the next good forecast.
"""
from __future__ import annotations

import logging
import random
import threading
from datetime import datetime

from circuitq import payloads as p
from circuitq import topics
from circuitq.state import read_json, write_json_atomic

from ..core import AuthError, BadData, SourceError
from .client import ForecastClient
from .model import FetchState, Point, Refused, after_call, health, next_fetch, upcoming

log = logging.getLogger(__name__)
NAME = "forecast"  # its name on circuitq/solar/source/<name>/health and in alert keys
REPORT_AGAIN_S = 600  # repeat an identical error report at most this often


def _dt(text):
    return datetime.fromisoformat(text) if text else None


class ForecastRunner:
    def __init__(self, ctx, solar, client: ForecastClient):
        self.ctx, self.solar, self.fc, self.client = ctx, solar, solar.forecast, client
        self.clock, self.mqtt = ctx.clock, ctx.client
        self.path = solar.state_file(ctx.cfg.state_dir, NAME)
        self.points: list[Point] = []
        self.made: datetime | None = None
        self.error: SourceError | None = None
        self.failures_today, self.day = 0, None
        self.shown: tuple | None = None  # (state,) of the last published health
        self.since = self.clock.now()
        self.alerts: dict[str, str] = {}
        self.reported: tuple | None = None
        self.timer = None
        self.worker: threading.Thread | None = None
        self.stopped = threading.Event()
        self.st = self._load()

    # ------------------------------------------------------------ state file
    def _load(self) -> FetchState:
        data = read_json(self.path, {})
        st = FetchState(offset_s=random.uniform(0, 900))  # chosen once, then kept in the file
        try:
            st.offset_s = float(data.get("offset_s", st.offset_s))
            st.last_call, st.retry_at = _dt(data.get("last_call")), _dt(data.get("retry_at"))
            st.calls = tuple(_dt(c) for c in data.get("calls", []))
            if data.get("plane") == self.client.plane() and data.get("made"):
                self.made, st.last_ok = _dt(data["made"]), _dt(data["made"])
                self.points = [Point(_dt(a), _dt(b), w) for a, b, w in data.get("points", [])]
        except (TypeError, ValueError) as exc:
            log.warning("%s: unusable content (%s); starting without a cached forecast", self.path, exc)
            self.points, self.made = [], None
            st = FetchState(offset_s=random.uniform(0, 900), last_call=self.clock.now())  # budget: assume a call
        return st

    def _save(self) -> None:
        st = self.st
        data = {"plane": self.client.plane(), "offset_s": st.offset_s,
                "last_call": st.last_call and st.last_call.isoformat(),
                "retry_at": st.retry_at and st.retry_at.isoformat(),
                "calls": [c.isoformat() for c in st.calls],
                "made": self.made and self.made.isoformat(),
                "points": [[q.start.isoformat(), q.end.isoformat(), q.w] for q in self.points]}
        try:
            write_json_atomic(self.path, data, what="the last solar forecast and its call budget")
        except OSError as exc:
            log.warning("cannot save %s: %s", self.path, exc)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.mqtt.on_connect_hooks.append(self._republish)
        log.info("solar forecast: %s (%s), every %g s", self.client.describe, self.fc.kind, self.fc.poll_s)
        self._schedule()
        self.ctx.loop.call_later(self.solar.tick_s, self._tick)

    def shutdown(self) -> None:
        self.stopped.set()
        if self.timer is not None:
            self.timer.cancel()
        if self.worker is not None:
            self.worker.join(timeout=1.0)

    def _schedule(self) -> None:
        now = self.clock.now()
        due = next_fetch(self.st, now, self.fc.poll_s, self.fc.retry_s, self.fc.calls_per_hour)
        delay = max(0.0, (due - now).total_seconds())
        if delay > 60:
            log.info("solar forecast: next call at %s", due.isoformat(timespec="seconds"))
        self.timer = self.ctx.loop.call_later(delay, self._call)

    def _call(self) -> None:
        if self.stopped.is_set():
            return
        self.worker = threading.Thread(target=self._work, name="solar-forecast", daemon=True)
        self.worker.start()

    def _work(self) -> None:
        try:
            outcome = self.client.fetch(self.clock.now())
        except SourceError as exc:
            outcome = exc
        except Exception as exc:  # a bug must not stop the schedule
            log.exception("solar forecast: unexpected error")
            outcome = SourceError(f"unexpected {type(exc).__name__}: {exc}")
        if not self.stopped.is_set():
            self.ctx.loop.post(self._on_result, outcome, self.clock.now())

    # ------------------------------------------------------------ outcomes
    def _on_result(self, outcome, now: datetime) -> None:
        day = now.astimezone(self.ctx.cfg.site.tz).date()
        if day != self.day:
            self.day, self.failures_today = day, 0
        if isinstance(outcome, list):
            after_call(self.st, now, ok=True)
            self.points, self.made, self.error = outcome, now, None
            log.info("solar forecast: %d points, %.1f kWh ahead", len(outcome),
                     sum(q.w * (q.end - q.start).total_seconds() for q in upcoming(outcome, now)) / 3.6e6)
            self._publish_forecast(now)
            for kind in ("auth", "config", "down"):
                self._resolve(kind)
        else:
            after_call(self.st, now, ok=False, retry_at=outcome.not_before)
            self.error = outcome
            self.failures_today += 1
            log.warning("solar forecast: %s: %s", type(outcome).__name__, outcome)
            if isinstance(outcome, BadData):
                self._report(outcome)
            if isinstance(outcome, AuthError):
                self._alert("auth", "Solar forecast needs you", str(outcome), priority=1)
            elif isinstance(outcome, Refused):
                self._alert("config", "Solar forecast refused", f"{outcome} (check solar.array, site "
                            "latitude/longitude and solar.forecast)", priority=1)
        self._save()
        self._publish_health(now, force=True)
        self._schedule()

    def _tick(self) -> None:
        try:
            now = self.clock.now()
            self._publish_health(now)
            if self.shown and self.shown[0] == "stale":
                self._alert("down", "Solar forecast stale", self._state(now)[1])
        finally:
            self.ctx.loop.call_later(self.solar.tick_s, self._tick)

    # ------------------------------------------------------------ bus
    def _state(self, now: datetime) -> tuple[str, str]:
        return health(self.made, self.error, now, self.fc.max_age_s)

    def _publish_forecast(self, now: datetime) -> None:
        if self.made is None:
            return
        self.mqtt.publish_entry(topics.SOLAR_FORECAST, p.SolarForecast(
            source=self.fc.kind, made=self.made,
            points=[p.SolarForecastPoint(start=q.start, end=q.end, w=q.w) for q in upcoming(self.points, now)]))

    def _publish_health(self, now: datetime, force: bool = False) -> None:
        state, message = self._state(now)
        if not force and self.shown == (state,):
            return
        if self.shown != (state,):
            self.since = now
        self.shown = (state,)
        self.mqtt.publish_entry(topics.SOLAR_SOURCE_HEALTH, p.Health(
            state=state, message=message, source=NAME, last_success=self.made,
            consecutive_failures=self.st.failures, failures_today=self.failures_today, since=self.since),
            source=NAME)

    def _republish(self) -> None:
        """After a (re)connect: the broker may have lost retained messages (no persistence)."""
        now = self.clock.now()
        self._publish_forecast(now)
        self._publish_health(now, force=True)

    def _report(self, exc: SourceError) -> None:
        text = f"solar forecast {self.fc.kind}: {exc}"
        mono = self.clock.monotonic()
        if self.reported and self.reported[0] == text and mono - self.reported[1] < REPORT_AGAIN_S:
            return
        self.reported = (text, mono)
        self.mqtt.report_error(self.client.describe, exc.raw, text)

    def _alert(self, kind: str, title: str, message: str, priority: int = 0) -> None:
        if self.alerts.get(kind) is not None:
            return
        self.alerts[kind] = message
        self.mqtt.publish_entry(topics.ALERT, p.Alert(
            key=f"solar:{kind}:{NAME}", title=title, message=message, priority=priority,
            source=self.ctx.name, ts=self.clock.now()))

    def _resolve(self, kind: str) -> None:
        if self.alerts.pop(kind, None) is None:
            return
        self.mqtt.publish_entry(topics.ALERT, p.Alert(
            key=f"solar:{kind}:{NAME}", title="Solar forecast back", message="the solar forecast is working again",
            source=self.ctx.name, resolved=True, ts=self.clock.now()))
