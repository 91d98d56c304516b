"""solar_collector: poll the configured sources, publish the first healthy one's production.

All decisions run on the event loop thread; pollers only deliver outcomes. Losing every
source never stops the service: its status stays `online`, health says what is wrong, and
polling goes on (with backoff) until a source comes back.
"""
from __future__ import annotations

import logging
from functools import partial

from circuitq import payloads as p
from circuitq import topics
from circuitq.config import ConfigError

from .core import (AuthError, BadData, Sample, SourceError, SourceState, age_s, check_sample, health_state,
                   is_stale, record, refresh_health, select)
from .forecast import make_forecast
from .poller import Poller
from .sources import make_driver

REPORT_AGAIN_S = 600  # repeat an identical error report at most this often


class SolarCollector:
    def __init__(self, ctx):
        if ctx.cfg.solar is None:
            raise ConfigError(f"{ctx.args.config or 'config'}: no `solar:` section (system_size_w, sources)")
        self.ctx, self.cfg, self.log = ctx, ctx.cfg.solar, ctx.log
        # urllib3 logs full URLs at DEBUG, and Enlighten's carries the API key (?key=).
        logging.getLogger("urllib3").setLevel(max(logging.INFO, logging.getLogger().level))
        self.client, self.clock = ctx.client, ctx.clock
        self.srcs = {s.label: s for s in self.cfg.sources}
        self.drivers = {name: make_driver(s, ctx) for name, s in self.srcs.items()}
        self.states = [SourceState(name, since=self.clock.now()) for name in self.srcs]
        self.by_name = {st.name: st for st in self.states}
        self.pollers: list[Poller] = []
        self.published: tuple | None = None
        self.overall: tuple | None = None
        self.overall_since = self.clock.now()
        self.in_use: str | None = None
        self.forecast = make_forecast(ctx)  # solar.forecast, or None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        for name, src in self.srcs.items():
            drv = self.drivers[name]
            if src.kind == "mqtt":
                self.client.subscribe(drv.topic, partial(self._on_mqtt, name))
            else:
                poller = Poller(name, drv, src, self.cfg, self.clock, self._deliver)
                self.pollers.append(poller)
                poller.start()
            self.log.info("solar source %s (%s): %s, every %s", name, src.kind, drv.describe,
                          f"{src.interval_s:g} s" if src.interval_s else "message")
        # Any name under solar/input that no source reads is answered on circuitq/error.
        self.mqtt_topics = {self.drivers[n].topic for n, s in self.srcs.items() if s.kind == "mqtt"}
        self.client.subscribe(topics.SOLAR_INPUT.filter(self.ctx.base), self._on_unknown_input)
        self.client.on_connect_hooks.append(self._republish)
        self.ctx.loop.call_later(self.cfg.tick_s, self._tick)
        if self.forecast is not None:
            self.forecast.start()

    def shutdown(self) -> None:
        if self.forecast is not None:
            self.forecast.shutdown()
        for poller in self.pollers:
            poller.stop()
        for poller in self.pollers:
            poller.join(timeout=1.0)

    # ------------------------------------------------------------ inputs
    def _deliver(self, name: str, outcome, when) -> None:
        self.ctx.loop.post(self._on_result, name, outcome, when)

    def _on_unknown_input(self, topic: str, payload: bytes, retained: bool) -> None:
        if topic in self.mqtt_topics or (retained and not payload):
            return
        name = (topics.SOLAR_INPUT.match(self.ctx.base, topic) or {}).get("source", "?")
        known = sorted(n for n, s in self.srcs.items() if s.kind == "mqtt") or ["none"]
        self.client.report_error(topic, payload, f"no mqtt solar source named {name!r} reads this "
                                                 f"topic (mqtt sources: {', '.join(known)}); ignored")

    def _on_mqtt(self, name: str, topic: str, payload: bytes, retained: bool) -> None:
        now = self.clock.now()
        try:
            sample = self.drivers[name].accept(payload, retained, now)
            outcome = check_sample(sample, self.cfg.system_size_w, self.cfg.max_ratio, now)
        except SourceError as exc:
            outcome = exc
            if not isinstance(exc, BadData):  # BadData is reported by _on_result
                self._report(self.by_name[name], exc, topic, payload)
        self._on_result(name, outcome, now, topic=topic, payload=payload)

    def _on_result(self, name: str, outcome, now, topic: str | None = None, payload: bytes | None = None):
        st = self.by_name[name]
        record(st, outcome, now, now.astimezone(self.ctx.cfg.site.tz).date())
        if isinstance(outcome, Sample):
            self.log.debug("solar source %s: %g W at %s", name, outcome.w, outcome.ts.isoformat())
            self._resolve(st, "auth")
        else:
            self.log.warning("solar source %s: %s: %s", name, type(outcome).__name__, outcome)
            if isinstance(outcome, BadData):
                self._report(st, outcome, topic, payload)
            if isinstance(outcome, AuthError):
                self._alert(st, "auth", "Solar source needs you", f"{name}: {outcome}", priority=1)
        self._evaluate(now, dirty=name)

    def _tick(self) -> None:
        try:
            self._evaluate(self.clock.now())
        finally:
            self.ctx.loop.call_later(self.cfg.tick_s, self._tick)

    # ------------------------------------------------------------ decisions -> bus
    def _evaluate(self, now, dirty: str | None = None) -> None:
        fresh = self.cfg.freshness_s
        for st in self.states:
            if refresh_health(st, now, fresh, self.srcs[st.name].interval_s) or st.name == dirty:
                self._publish_source_health(st, now)
            if st.bad_since and not st.extra.get("down") and \
                    (now - st.bad_since).total_seconds() >= self.cfg.down_alert_s:
                msg = health_state(st, now, fresh)[1]
                self._alert(st, "down", "Solar source down",
                            f"{st.name} has had no fresh reading for {age_s(st.bad_since, now) / 60:.0f} min: {msg}")
            elif st.bad_since is None:
                self._resolve(st, "down")
        chosen = select(self.states, now, fresh)
        if (chosen.name if chosen else None) != self.in_use:
            self.log.info("solar: now using %s", chosen.name if chosen else "no source")
            self.in_use = chosen.name if chosen else None
        if chosen is not None:
            s = chosen.sample
            stale = is_stale(s.ts, now, fresh)
            key = (chosen.name, s.ts, s.w, stale, chosen.received)
            if key != self.published:
                self.published = key
                self.client.publish_entry(topics.SOLAR_PRODUCTION, p.SolarReading(
                    w=s.w, ts=s.ts, received=chosen.received, source=chosen.name, stale=stale,
                    age_s=round(age_s(s.ts, now), 1)))
        self._publish_overall(chosen, now)

    def _publish_source_health(self, st: SourceState, now) -> None:
        state, message = health_state(st, now, self.cfg.freshness_s)
        self.client.publish_entry(topics.SOLAR_SOURCE_HEALTH, self._health(st, state, message), source=st.name)

    def _health(self, st: SourceState, state: str, message: str, since=None) -> p.Health:
        return p.Health(state=state, message=message, source=st.name, last_success=st.last_success,
                        consecutive_failures=st.failures, failures_today=st.failures_today,
                        since=since or st.since)

    def _publish_overall(self, chosen: SourceState | None, now, force: bool = False) -> None:
        if chosen is None:
            state = "offline"
            message = "no source has a reading: " + "; ".join(
                f"{st.name}: {health_state(st, now, self.cfg.freshness_s)[1]}" for st in self.states)
            key = (state, None, tuple(st.health for st in self.states))
        else:
            state, message = health_state(chosen, now, self.cfg.freshness_s)
            if chosen.error is not None:  # no healthy source: the freshest reading, stale or failing
                state = "stale" if is_stale(chosen.sample.ts, now, self.cfg.freshness_s) else "error"
            message = f"using {chosen.name}: {message}"
            key = (state, chosen.name, chosen.failures)
        if key == self.overall and not force:
            return
        if self.overall is None or key[:2] != self.overall[:2]:
            self.overall_since = now
        self.overall = key
        if chosen is None:
            health = p.Health(state=state, message=message, since=self.overall_since,
                              failures_today=sum(st.failures_today for st in self.states))
        else:
            health = self._health(chosen, state, message, since=self.overall_since)
        self.client.publish_entry(topics.SOLAR_HEALTH, health)

    def _republish(self) -> None:
        """After a (re)connect: the broker may have lost retained state (no persistence)."""
        now = self.clock.now()
        for st in self.states:
            self._publish_source_health(st, now)
        self.published = None
        self._evaluate(now)
        self._publish_overall(select(self.states, now, self.cfg.freshness_s), now, force=True)

    # ------------------------------------------------------------ errors and alerts
    def _report(self, st: SourceState, exc: SourceError, topic: str | None, payload: bytes | None) -> None:
        text = f"solar source {st.name!r}: {exc}"
        last = st.extra.get("reported")
        now = self.clock.monotonic()
        # A polled source failing the same way is said once per REPORT_AGAIN_S; a message
        # someone published (topic given) is answered every time.
        if topic is None and last and last[0] == text and now - last[1] < REPORT_AGAIN_S:
            return
        st.extra["reported"] = (text, now)
        self.client.report_error(topic or self.drivers[st.name].describe,
                                 payload if payload is not None else exc.raw, text)

    def _alert(self, st: SourceState, kind: str, title: str, message: str, priority: int = 0) -> None:
        if st.extra.get(kind) == message:
            return
        st.extra[kind] = message
        self.client.publish_entry(topics.ALERT, p.Alert(
            key=f"solar:{kind}:{st.name}", title=title, message=message, priority=priority,
            source=self.ctx.name, ts=self.clock.now()))

    def _resolve(self, st: SourceState, kind: str) -> None:
        if st.extra.pop(kind, None) is None:
            return
        self.client.publish_entry(topics.ALERT, p.Alert(
            key=f"solar:{kind}:{st.name}", title="Solar source back", message=f"{st.name} is working again",
            source=self.ctx.name, resolved=True, ts=self.clock.now()))
