"""The recorder's I/O shell: a persistent MQTT session in, SQLite out, roll-ups on a timer.

The session: a fixed client id, clean start off and a session expiry (recorder.session_expiry_h),
subscribed at QoS 1 to `<base>/#`. While the recorder is away (restart, kill -9, upgrade) the
broker queues every QoS 1 message for it, up to its `max_queued_messages` and for as long as
each message's own expiry allows, and delivers them when it is back. With Mosquitto's
persistence the queue also survives a broker restart (a clean one; a killed broker loses what
arrived since its last autosave).

Each message is written in paho's network thread before paho acknowledges it (store.py), so
the recorder never acknowledges what it did not keep. Roll-ups and retention run on the loop.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import date, datetime, timedelta

from circuitq.mqtt import FleetClient
from circuitq.service import ServiceContext
from circuitq.state import MONITOR, StateDirError, check_state_dir

from .classify import Reading, classify, user_property
from .query import History
from .rollup import day_bounds
from .store import Store

log = logging.getLogger("recorder")
PURGE_EVERY_S = 86400.0
WHAT = "the history (every reading, state, override and alert since)"


class Recorder:
    def __init__(self, ctx: ServiceContext):
        self.ctx, self.cfg, self.loop, self.clock = ctx, ctx.cfg, ctx.loop, ctx.clock
        self.rc = ctx.cfg.recorder
        self.tz = ctx.cfg.site.tz
        self.base = ctx.base
        self.path = self.rc.path(ctx.cfg.state_dir)
        check_state_dir(self.path.parent, "the recorder's history")
        try:
            self.store = Store(self.path)
        except sqlite3.Error as exc:
            raise StateDirError(f"{self.path}: cannot open the recorder database ({exc}); move the file "
                                f"aside or set recorder.file to another path") from None
        self.history = History(self.store.con, self.store.lock)
        self.dirty: set[date] = set()  # finished days that got a late reading
        self.dirty_lock = threading.Lock()
        self.today: date | None = None
        self.last_purge_mono: float | None = None
        self.failing = False

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        flt = f"{self.base}/#"
        # FleetClient (re)subscribes the filter at every connect and says `online` after its
        # SUBACK; the messages themselves go to _on_message through paho's per-filter callback,
        # which hands over the whole message (DUP flag, MQTT 5 user properties), in paho's thread.
        self.ctx.client.subscribe(flt, lambda *_: None, qos=1)
        self.ctx.client.paho.message_callback_add(flt, self._on_message)
        self.loop.post(self._tick)

    def shutdown(self) -> None:
        # The file stays open: the client delivers (and acknowledges) until it disconnects, right
        # after this, and each message must still be written before its PUBACK. Every row is
        # already committed; the process exit closes the file.
        log.info("%d rows written since start", self.store.written)

    # ------------------------------------------------------------ messages (paho's thread)
    def _on_message(self, client, userdata, msg) -> None:
        try:
            row = classify(self.base, msg.topic, bytes(msg.payload), bool(msg.retain),
                           user_property(msg, "by"))
            if row is None:
                return
            self.store.add(row, self.clock.now().timestamp(), bool(msg.dup))
            if isinstance(row, Reading):
                day = datetime.fromtimestamp(row.ts, self.tz).date()
                if self.today is not None and day < self.today:
                    with self.dirty_lock:
                        self.dirty.add(day)
            if self.failing:
                self.failing = False
                MONITOR.record(self.path, WHAT, None)
        except sqlite3.Error as exc:
            # Never raise into paho (it would stop the network thread). The message is lost;
            # the alert (FleetClient, via MONITOR) tells a person history is not being kept.
            log.error("cannot record %s: %s", msg.topic, exc)
            self.failing = True
            MONITOR.record(self.path, WHAT, str(exc))
        except Exception:
            log.exception("cannot record %s", msg.topic)

    # ------------------------------------------------------------ roll-ups and retention (loop)
    def _tick(self) -> None:
        try:
            self.roll_up(self.clock.now())
            mono = self.clock.monotonic()
            if self.last_purge_mono is None or mono - self.last_purge_mono >= PURGE_EVERY_S:
                self.last_purge_mono = mono
                self.purge(self.clock.now())
        finally:
            self.loop.call_later(self.rc.rollup_every_min * 60, self._tick)

    def roll_up(self, now: datetime) -> None:
        """Today's totals so far; every finished day without a final roll-up (after downtime,
        or given a late reading) is rolled up for good."""
        today = now.astimezone(self.tz).date()
        first, _ = self.history.reading_span()
        todo: set[date] = set()
        if first is not None:
            finals = self.store.final_days()
            oldest = max(datetime.fromtimestamp(first, self.tz).date(),
                         today - timedelta(days=int(self.rc.keep_readings_days)))
            d = oldest
            while d < today:  # only days that have readings get a roll-up
                if d.isoformat() not in finals and self.history.has_readings(*day_bounds(d, self.tz)):
                    todo.add(d)
                d += timedelta(days=1)
        with self.dirty_lock:
            todo |= {d for d in self.dirty if d < today}
            self.dirty.clear()
        self.today = today
        for d in sorted(todo) + [today]:
            final = d < today and now.timestamp() >= day_bounds(d, self.tz)[1] + self.rc.max_span_s
            summary = self.history.summarize_day(self.cfg, d, self.rc.max_span_s, self.rc.production,
                                                 self.rc.solar_fresh_s)
            self.store.save_day(d.isoformat(), now.timestamp(), final, summary)
            if d < today and not final:
                with self.dirty_lock:  # late readings may still come: roll it up again next tick
                    self.dirty.add(d)

    def purge(self, now: datetime) -> int:
        n = self.store.purge(now.timestamp() - self.rc.keep_days * 86400,
                             now.timestamp() - self.rc.keep_readings_days * 86400)
        if n:
            log.info("retention: %d rows older than %g / %g days deleted", n, self.rc.keep_days,
                     self.rc.keep_readings_days)
        return n


def persistent_client(ctx: ServiceContext, password: str | None) -> FleetClient:
    """The recorder's client: same user and loop as make_context's, plus a persistent session."""
    return FleetClient(ctx.name, ctx.cfg.mqtt, password, dispatch=ctx.loop.post, clock=ctx.clock,
                       client_id=f"circuitq-{ctx.name}-{ctx.cfg.mqtt.base_topic.replace('/', '-')}",
                       session_expiry_s=int(ctx.cfg.recorder.session_expiry_h * 3600))
