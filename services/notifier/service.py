"""The notifier's I/O shell: MQTT in, rules and policy (pure), outbox persisted, HTTP out.

Everything but the HTTP calls runs on the event loop thread; each delivery runs on a worker
thread (one per channel at most) and posts its result back to the loop.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from pydantic import ValidationError

from circuitq import topics
from circuitq.config.notifier import NotifierConfig
from circuitq.payloads import Alert
from circuitq.service import ServiceContext
from circuitq.state import check_state_dir

from . import channels as channels_mod
from . import metrics, policy, rules, store
from .outbox import backoff
from .prowl import Result

log = logging.getLogger("notifier")
TICK_S = 30.0  # quiet-hours release and expiry checks; minutes matter here, not seconds


def why(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in exc.errors()[:3])


class Notifier:
    def __init__(self, ctx: ServiceContext):
        self.ctx, self.client, self.loop, self.clock = ctx, ctx.client, ctx.loop, ctx.clock
        self.cfg = ctx.cfg.notifier or NotifierConfig()
        self.tz = ctx.cfg.site.tz
        self.rules = {n: r for n, r in self.cfg.rules.items() if r.enabled}
        self.policy = policy.Policy(
            self.tz, self.cfg.min_interval_min * 60, self.cfg.quiet_hours,
            {rules.rule_key(n): r.min_interval_min * 60 for n, r in self.rules.items()
             if r.min_interval_min is not None})
        self.channels, self.problems = channels_mod.build(
            self.cfg.prowl, ctx.secrets.prowl, ctx.secrets.apprise_urls, self.tz)
        check_state_dir(ctx.cfg.state_dir, store.WHAT)  # exit 2 naming the path, not a traceback
        self.path = ctx.state_path("notifier.json")
        self.state = store.load(self.path)
        self.busy: set[str] = set()
        self.dead: dict[str, str] = {}  # channel id -> why it can never work (until restart)
        self.pool = ThreadPoolExecutor(max(1, len(self.channels)), thread_name_prefix="deliver")
        self.wake = None
        self.circuits_checked = False

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        for ch in {c for i in self.state.outbox.items for c in i.pending} - set(self.channels):
            n = self.state.outbox.drop_channel(ch)
            log.warning("channel %s is no longer configured: dropped %d pending deliveries", ch, n)
        pending = len(self.state.outbox.items)
        log.info("channels: %s; %d rules; %d alerts pending from before",
                 ", ".join(c.label for c in self.channels.values()) or "NONE (alerts only logged)",
                 len(self.rules), pending)
        for problem in self.problems:
            log.error(problem)
        self.client.on_connect_hooks.append(self._report_problems)
        base = self.ctx.base
        self.client.subscribe(topics.ALERT.filter(base), self._on_alert, qos=topics.ALERT.qos)
        for src in metrics.needed({r.metric for r in self.rules.values()}):
            self.client.subscribe(src.entry.filter(base), self._reading_handler(src), qos=src.entry.qos)
        self.loop.post(self._pump)
        self.loop.call_later(TICK_S, self._tick)

    def shutdown(self) -> None:
        # In-flight deliveries stay pending in the file: sent again after a restart (at least once).
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._save()

    def _report_problems(self) -> None:
        problems, self.problems = self.problems, []
        for problem in problems:
            # same label as the shell's own errors: not about a message, about this service
            self.client.report_own_error("", problem)

    # ------------------------------------------------------------ inputs
    def _on_alert(self, topic: str, payload: bytes, retained: bool) -> None:
        try:
            alert = Alert.model_validate_json(payload)
        except ValidationError as exc:
            self.client.report_error(topic, payload, f"not an Alert: {why(exc)}")
            return
        self._decide([alert])

    def _reading_handler(self, src: metrics.Source):
        def handle(topic: str, payload: bytes, retained: bool) -> None:
            names = src.entry.match(self.ctx.base, topic) or {}
            try:
                reading = src.model.model_validate_json(payload)
            except ValidationError as exc:
                self.client.report_error(topic, payload, f"not a {src.model.__name__}: {why(exc)}")
                return
            values = src.extract(reading, names)
            if values:
                self._evaluate(values, src)
        return handle

    def _evaluate(self, values: dict[str, float], src: metrics.Source) -> None:
        if src.entry is topics.CURB_READING and not self.circuits_checked:
            self.circuits_checked = True
            for name, r in self.rules.items():
                if r.metric.startswith("circuit.") and r.metric not in values:
                    log.warning("rule %s: the Curb reading has no %s (circuits: %s)", name, r.metric,
                                ", ".join(sorted(k[8:] for k in values if k.startswith("circuit."))))
        new, alerts = rules.evaluate(self.clock.now(), self.rules, self.tz, self.state.rules, values,
                                     timedelta(minutes=self.cfg.max_gap_min))
        old, self.state.rules = self.state.rules, new
        if {k: v.timers() for k, v in new.items()} != {k: v.timers() for k, v in old.items()}:
            self._save()  # not for every reading: only when a timer starts, fires or clears
        self._decide(alerts)

    # ------------------------------------------------------------ policy -> outbox
    def _decide(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        now = self.clock.now()
        live = [c for c in self.channels if c not in self.dead]
        for alert in alerts:
            self.state.policy, send = policy.decide(now, self.policy, self.state.policy, alert)
            what = "resolved" if alert.resolved else f"alert p{alert.priority}"
            if not send:
                ks = self.state.policy.get(alert.key)
                reason = ("held for quiet hours" if ks and ks.held == alert
                          else "not sent (its alert was not sent)" if alert.resolved
                          else "suppressed (sent less than min_interval_min ago)")
                log.info("%s %s %s: %s", what, alert.key, reason, alert.title)
            for a in send:
                self._enqueue(a, live, now)
        self._save()
        self._pump()

    def _enqueue(self, alert: Alert, live: list[str], now: datetime) -> None:
        item = self.state.outbox.add(alert, live, now)
        level = logging.INFO if item else logging.WARNING
        log.log(level, "%s %s [%s] %s: %s -> %s", "resolved" if alert.resolved else "alert", alert.key,
                alert.source, alert.title, alert.message, ", ".join(live) or "no channel")

    # ------------------------------------------------------------ delivery
    def _pump(self) -> None:
        now = self.clock.now()
        for ch, item in self.state.outbox.due(now, self.busy):
            if ch not in self.channels or ch in self.dead:
                self.state.outbox.drop_channel(ch)
                continue
            self.busy.add(ch)
            self.pool.submit(self._deliver, ch, item.id, item.alert)
        if self.wake is not None:
            self.wake.cancel()
        when = self.state.outbox.next_wakeup(self.busy)
        self.wake = (self.loop.call_later(max(0.0, (when - now).total_seconds()), self._pump)
                     if when else None)

    def _deliver(self, ch: str, item_id: str, alert: Alert) -> None:  # worker thread
        try:
            result = self.channels[ch].send(alert)
        except Exception as exc:
            result = Result("retry", f"{type(exc).__name__}: {exc}")
        self.loop.post(self._delivered, ch, item_id, alert, result)

    def _delivered(self, ch: str, item_id: str, alert: Alert, result: Result) -> None:
        self.busy.discard(ch)
        now, box, label = self.clock.now(), self.state.outbox, self.channels[ch].label
        HANDLERS[result.kind](self, now, box, ch, label, item_id, alert, result)
        self._save()
        self._pump()

    def _ok(self, now, box, ch, label, item_id, alert, result):
        box.done(ch, item_id)
        state = box.channels[ch]
        if result.reset_at:
            state.reset_at = result.reset_at
        if result.remaining == 0 and result.reset_at and result.reset_at > now:
            state.next_at = result.reset_at  # allowance spent: do not burn calls on 406s
        left = f" ({result.remaining} calls left this hour)" if result.remaining is not None else ""
        log.info("delivered %s via %s%s", alert.key, label, left)

    def _retry(self, now, box, ch, label, item_id, alert, result):
        failures = box.channels[ch].failures + 1 if ch in box.channels else 1
        reset = box.channels[ch].reset_at if ch in box.channels else None
        if result.kind == "limit" and reset and reset > now:
            at = reset + timedelta(seconds=1)  # Prowl's resetdate is whole seconds
        else:
            at = now + backoff(failures, self.cfg.retry.min_s, self.cfg.retry.max_s)
        box.failed(ch, result.detail, at)
        log.warning("delivery of %s via %s failed (%s); retry %d in %.1f s (%s)", alert.key, label,
                    result.detail, failures, (at - now).total_seconds(),
                    at.astimezone(self.tz).strftime("%H:%M:%S %Z"))

    def _rejected(self, now, box, ch, label, item_id, alert, result):
        box.done(ch, item_id)
        log.error("%s refused %s for good: %s", label, alert.key, result.detail)
        self.client.report_error(topics.ALERT.topic(self.ctx.base), alert.title, result.detail)

    def _dead(self, now, box, ch, label, item_id, alert, result):
        self.dead[ch] = result.detail
        n = box.drop_channel(ch)
        msg = (f"{label}: {result.detail}. Check the key in the secrets file; this channel is off "
               f"until the notifier restarts ({n} pending deliveries dropped)")
        log.error(msg)
        self.client.report_error(topics.ALERT.topic(self.ctx.base), alert.title, msg)

    # ------------------------------------------------------------ housekeeping
    def _tick(self) -> None:
        self.loop.call_later(TICK_S, self._tick)
        now = self.clock.now()
        before = self.state.policy
        self.state.policy, send = policy.release(now, self.policy, before)
        live = [c for c in self.channels if c not in self.dead]
        for a in send:
            self._enqueue(a, live, now)
        expired = [(ch, i) for ch, i in self.state.outbox.expired(now, timedelta(hours=self.cfg.retry.give_up_h))
                   if ch not in self.busy]
        for ch, item in expired:
            last = self.state.outbox.channels.get(ch)
            log.error("giving up on %s via %s after %g h; last error: %s", item.alert.key, ch,
                      self.cfg.retry.give_up_h, last.last_error if last else "?")
            self.state.outbox.done(ch, item.id)
        if send or expired or self.state.policy != before:
            self._save()
            self._pump()

    def _save(self) -> None:
        try:
            store.save(self.path, self.state)
        except OSError:  # logged and alerted by circuitq.state; delivery goes on from memory
            pass


HANDLERS = {"ok": Notifier._ok, "retry": Notifier._retry, "limit": Notifier._retry,
            "rejected": Notifier._rejected, "dead": Notifier._dead}


def build(ctx: ServiceContext) -> Notifier:
    return Notifier(ctx)
