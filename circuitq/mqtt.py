"""FleetClient: the one MQTT client every service uses (paho-mqtt 2.x).

- retained QoS 1 `<base>/<service>/status`: `online` once the broker has ACKNOWLEDGED every
  subscription (SUBACK), never before: a peer that reacts to `online` at once (the scheduler
  re-sends its commands when the relay agent comes back) must find it listening. Last will
  `offline`, and `offline` published on clean shutdown;
- `<base>/<service>/heartbeat` every HEARTBEAT_S with `ts` and `expires`; every retained topic
  the service owns (catalogue `expires=True`, and `status`) is published with an MQTT 5
  message expiry and sent again with each heartbeat, so nothing retained outlives its owner
  by more than EXPIRE_AFTER_S (circuitq/liveness.py);
- subscriptions restored on every (re)connect, reconnect with backoff (paho's own);
- the broker unreachable: a log line at once and every 30 s with host, port and the error,
  and `health()` (and the next heartbeat) says so;
- per-topic QoS from the catalogue: a `latest` topic (readings) is taken at QoS 0 and
  conflated, only its newest message is handled, so a burst of readings never crowds out a
  command in the broker's queue or in the service's own;
- topic -> handlers dispatch through a table built once per topic, not a match per handler;
  each filter has its own MQTT 5 subscription identifier, so a message matching two
  overlapping filters (the broker sends one copy per subscription) reaches each handler once;
- TCP_NODELAY on the socket: with Nagle on, a QoS 1 request/response costs ~88 ms on
  loopback instead of ~0.2 ms (../shared/reference/measured.md);
- a handler that raises is reported on `<base>/error` and never stops the service;
- a state file that cannot be written (circuitq.state.MONITOR) raises an alert;
- MQTT 5 with "retain as published" subscriptions: with 3.1.1 the broker clears the retain
  flag on live delivery, so a retained command published while a service is connected
  could not be told apart from a fresh one (and would replay as a ghost after reconnects).
"""
from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from pydantic import BaseModel

from . import liveness, topics
from .clock import Clock, SystemClock
from .config.mqtt import MqttConfig
from .payloads import ErrorReport
from .state import MONITOR

log = logging.getLogger(__name__)

Handler = Callable[[str, bytes, bool], None]  # (topic, payload, retained)
ROUTE_CACHE_MAX = 4096  # distinct topics remembered by the dispatch table


def _options(qos: int) -> SubscribeOptions:
    return SubscribeOptions(qos=qos, retainAsPublished=True)


def _sub_props(sub_id: int) -> Properties:
    props = Properties(PacketTypes.SUBSCRIBE)
    props.SubscriptionIdentifier = sub_id
    return props


def _expiry(seconds: float) -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    props.MessageExpiryInterval = max(1, int(seconds))
    return props


class _Sub:
    __slots__ = ("filter", "qos", "handler", "latest", "inline")

    def __init__(self, topic_filter: str, qos: int, handler: Handler, latest: bool, inline: bool = False):
        self.filter, self.qos, self.handler, self.latest = topic_filter, qos, handler, latest
        self.inline = inline


class FleetClient:
    def __init__(
        self,
        service: str,
        cfg: MqttConfig,
        password: str | None,
        *,
        dispatch: Callable[..., None] | None = None,
        clock: Clock | None = None,
        client_id: str | None = None,
        heartbeat: bool = True,
        session_expiry_s: int = 0,
    ):
        # session_expiry_s > 0: a persistent session (clean start off) that the broker keeps
        # this long while the client is away, queueing its QoS 1 messages (the recorder).
        if session_expiry_s and not client_id:
            raise ValueError("a persistent session needs a fixed client_id")
        self._session_expiry_s = int(session_expiry_s)
        self.service = service
        self.cfg = cfg
        self.base = cfg.base_topic
        self.clock = clock or SystemClock()
        # dispatch(fn, *args) runs a handler; services pass EventLoop.post so that all
        # decisions happen on one thread. Default: run in paho's network thread.
        self._dispatch = dispatch or (lambda fn, *a: fn(*a))
        self._subs: list[_Sub] = []
        self._routes: dict[str, tuple[_Sub, ...]] = {}
        self._latest: dict[tuple[str, int], tuple[bytes, bool]] = {}  # conflated, not yet handled
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.last_connected_mono: float | None = None
        self.last_disconnected_mono: float | None = self.clock.monotonic()
        self.on_connect_hooks: list[Callable[[], None]] = []
        self.on_disconnect_hooks: list[Callable[[], None]] = []
        self.status_topic = topics.STATUS.topic(self.base, service=service)
        self.heartbeat_topic = topics.HEARTBEAT.topic(self.base, service=service)
        self._stopping = False
        self._suback: dict[int, str] = {}  # SUBSCRIBE mid -> filter, until its SUBACK
        self._subscribed: set[str] = set()
        self._sub_ids: dict[str, int] = {}  # filter -> MQTT 5 subscription identifier
        self._by_id: dict[int, tuple[_Sub, ...]] = {}
        self._kept: dict[str, tuple[str, int]] = {}  # owned retained topic -> (payload, qos)
        self.broker = liveness.BrokerLink(cfg.host, cfg.port)
        self.started_wall = self.clock.now()
        self.connected_since: datetime | None = None
        self.by_filter = {e.filter(self.base): e for e in topics.CATALOGUE if e is not topics.HA_DISCOVERY}
        self._heartbeat = heartbeat
        self._ticker: threading.Thread | None = None
        self._tick_stop = threading.Event()
        MONITOR.add(self._on_persist)

        cid = client_id or f"circuitq-{service}-{uuid.uuid4().hex[:6]}"
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=paho.MQTTv5)
        c.username_pw_set(cfg.username or service, password)
        c.will_set(self.status_topic, topics.OFFLINE, qos=1, retain=True)
        c.reconnect_delay_set(cfg.reconnect_min_s, cfg.reconnect_max_s)
        if cfg.tls is not None:
            c.tls_set(ca_certs=str(cfg.tls.ca_file) if cfg.tls.ca_file else None)
            c.tls_insecure_set(cfg.tls.insecure)
        c.on_socket_open = self._on_socket_open
        c.on_connect = self._on_connect
        c.on_connect_fail = self._on_connect_fail
        c.on_disconnect = self._on_disconnect
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_message
        self.paho = c

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting with backoff."""
        # clean start: every (re)connect subscribes afresh, so no stale session queues commands;
        # unless the service asked the broker to keep its session (session_expiry_s).
        props = None
        if self._session_expiry_s:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self._session_expiry_s
        self.paho.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s,
                                clean_start=not self._session_expiry_s, properties=props)
        self.paho.loop_start()
        self._ticker = threading.Thread(target=self._tick_forever, name=f"{self.service}-ticker", daemon=True)
        self._ticker.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Publish `offline` (the will is not sent on a clean disconnect) and disconnect."""
        self._stopping = True
        self._tick_stop.set()
        MONITOR.remove(self._on_persist)
        try:
            if self.connected.is_set():
                info = self.paho.publish(self.status_topic, topics.OFFLINE, qos=1, retain=True)
                info.wait_for_publish(timeout_s)
        except Exception:
            log.warning("could not publish offline status", exc_info=True)
        self.paho.disconnect()
        self.paho.loop_stop()

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        return self.connected.wait(timeout_s)

    def health(self) -> dict:
        """The client's own health: broker reachability and state files not kept."""
        return liveness.heartbeat(self.service, self.clock.now(), self.started_wall, self.connected_since,
                                  self.broker, dict(MONITOR.failing))

    # ------------------------------------------------------------ paho callbacks
    def _on_socket_open(self, client, userdata, sock) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):  # TLS-wrapped or a unix socket
            pass

    def _on_connect_fail(self, client, userdata) -> None:
        exc = sys.exc_info()[1]  # paho calls this inside its `except OSError`
        why = f"{type(exc).__name__}: {exc}" if exc else "connection failed"
        self.broker.down(why, self.clock.monotonic(), self.clock.now())

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused connection as %r: %s", self.cfg.username or self.service, reason_code)
            self.broker.down(f"refused: {reason_code}", self.clock.monotonic(), self.clock.now())
            return
        self.broker.up(self.clock.monotonic())
        log.info("connected to %s:%s", self.cfg.host, self.cfg.port)
        with self._lock:
            filters = {s.filter: s.qos for s in self._subs}
            self._subscribed = set(filters)
            self._suback = {}
            # One SUBSCRIBE per filter (each its own identifier); `online` waits for every
            # SUBACK (_on_subscribe).
            for f, q in filters.items():
                _, mid = client.subscribe(f, options=_options(q), properties=_sub_props(self._sub_ids[f]))
                self._suback[mid] = f
        if not filters:
            self._announce()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        with self._lock:
            f = self._suback.pop(mid, None)
            done = f is not None and not self._suback
        if f is None:
            return
        for rc in reason_codes:
            if rc.is_failure:
                log.error("broker refused the subscription to %s: %s", f, rc)
                self.report_own_error(f"subscribe {f}", f"refused by the broker: {rc}")
        if done:
            self._announce()

    def _announce(self) -> None:
        """Subscribed: now say `online`, then let the service republish its states."""
        with self._lock:  # a subscribe() that came during the handshake
            missed = [s for s in self._subs if s.filter not in self._subscribed]
            self._subscribed |= {s.filter for s in missed}
        for s in missed:
            self.paho.subscribe(s.filter, options=_options(s.qos), properties=_sub_props(self._sub_ids[s.filter]))
        self.connected_since = self.clock.now()
        self.last_connected_mono = self.clock.monotonic()
        self._publish_status()
        self.connected.set()
        for hook in self.on_connect_hooks:
            self._dispatch(hook)
        if self._heartbeat:  # the states themselves: the service's own connect hooks
            self._dispatch(self.beat, False)
        for path, (what, error) in list(MONITOR.failing.items()):  # raised while offline
            self._on_persist(path, what, error)

    def _publish_status(self) -> None:
        self.paho.publish(self.status_topic, topics.ONLINE, qos=1, retain=True,
                          properties=_expiry(liveness.EXPIRE_AFTER_S))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        self.last_disconnected_mono = self.clock.monotonic()
        with self._lock:
            self._suback = {}
        if self._stopping:
            if was:
                log.info("disconnected from broker")
            return
        self.broker.down(f"disconnected: {reason_code}", self.clock.monotonic(), self.clock.now())
        if was:
            for hook in self.on_disconnect_hooks:
                self._dispatch(hook)

    def _on_message(self, client, userdata, msg) -> None:
        topic = msg.topic
        ids = getattr(msg.properties, "SubscriptionIdentifier", None) if msg.properties else None
        subs = None
        if ids:  # this copy was sent for these subscriptions only
            subs = tuple(s for i in ids for s in self._by_id.get(i, ()))
        if subs is None:
            subs = self._routes.get(topic)
        if subs is None:
            with self._lock:
                subs = tuple(s for s in self._subs if paho.topic_matches_sub(s.filter, topic))
                if len(self._routes) < ROUTE_CACHE_MAX:
                    self._routes[topic] = subs
        payload, retained = bytes(msg.payload), bool(msg.retain)
        for s in subs:
            if s.inline:  # the handler guards itself (a lock): no hand-off to the loop
                self._call(s.handler, topic, payload, retained)
            elif s.latest:
                key = (topic, id(s))
                with self._lock:
                    queued = key in self._latest
                    self._latest[key] = (payload, retained)
                if not queued:  # one pending run per topic: it takes the newest message
                    self._dispatch(self._call_latest, s.handler, topic, key)
            else:
                self._dispatch(self._call, s.handler, topic, payload, retained)

    def _call_latest(self, handler: Handler, topic: str, key) -> None:
        with self._lock:
            payload, retained = self._latest.pop(key)
        self._call(handler, topic, payload, retained)

    def _call(self, handler: Handler, topic: str, payload: bytes, retained: bool) -> None:
        try:
            handler(topic, payload, retained)
        except Exception as exc:
            log.exception("handler failed for %s", topic)
            self.report_error(topic, payload, f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------ heartbeat (ticker thread)
    def _tick_forever(self) -> None:
        next_beat = self.clock.monotonic() + liveness.HEARTBEAT_S
        while not self._tick_stop.wait(1.0):
            mono = self.clock.monotonic()
            self.broker.maybe_log(mono)
            if self._heartbeat and mono >= next_beat:
                next_beat = mono + liveness.HEARTBEAT_S
                if self.connected.is_set():
                    # On the service's loop: a hung loop stops the heartbeat, as it should.
                    self._dispatch(self.beat)

    def beat(self, states: bool = True) -> None:
        """Heartbeat, `online` and every owned retained state again, each with a fresh expiry."""
        if not self.connected.is_set():
            return
        expiry = _expiry(liveness.EXPIRE_AFTER_S)
        self._publish_status()
        self.paho.publish(self.heartbeat_topic, json.dumps(self.health()), qos=topics.HEARTBEAT.qos,
                          retain=True, properties=expiry)
        with self._lock:
            kept = list(self._kept.items()) if states else []
        for topic, (data, qos) in kept:
            self.paho.publish(topic, data, qos=qos, retain=True, properties=expiry)

    def _on_persist(self, path: Path, what: str, error: str | None) -> None:
        if topics.ALERT.publishers and self.service not in topics.ALERT.publishers:
            return
        try:
            self.publish_entry(topics.ALERT, liveness.persistence_alert(self.service, path, what, error,
                                                                        self.clock.now()))
        except Exception:
            log.exception("could not publish the persistence alert")

    # ------------------------------------------------------------ API
    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1, *, inline: bool = False) -> None:
        """Subscribe; a catalogue topic marked `latest` is taken at QoS 0 and conflated.

        inline=True runs the handler on paho's network thread, where it can publish its answer
        with no thread hand-off at all: only for a handler that takes its own lock and whose
        service watches it for hangs (the relay agent's commands)."""
        entry = self.by_filter.get(topic_filter)
        latest = bool(entry is not None and entry.latest)
        if latest:
            qos = 0
        with self._lock:
            sub = _Sub(topic_filter, qos, handler, latest, inline)
            self._subs.append(sub)
            sub_id = self._sub_ids.setdefault(topic_filter, len(self._sub_ids) + 1)
            self._by_id[sub_id] = self._by_id.get(sub_id, ()) + (sub,)
            self._routes.clear()
            live = self.connected.is_set()
            if live:
                self._subscribed.add(topic_filter)
        if live:
            self.paho.subscribe(topic_filter, options=_options(qos), properties=_sub_props(sub_id))

    def publish(self, topic: str, payload: str | bytes, *, qos: int = 1, retain: bool = False,
                expires: bool = False):
        if expires:
            with self._lock:
                if payload:
                    self._kept[topic] = (payload, qos)
                else:  # a cleared topic stays cleared
                    self._kept.pop(topic, None)
            return self.paho.publish(topic, payload, qos=qos, retain=retain,
                                     properties=_expiry(liveness.EXPIRE_AFTER_S) if payload else None)
        return self.paho.publish(topic, payload, qos=qos, retain=retain)

    def publish_entry(self, entry: topics.Topic, payload: BaseModel | str | dict, **names: str):
        """Publish with the catalogue entry's own QoS, retain flag and expiry.

        A leased command is dropped while disconnected (paho would queue it and send it on
        reconnect, minutes late, with a fresh lease); the caller re-sends when it matters.
        """
        if entry.leased and not self.connected.is_set():
            log.info("not connected: %s to %s dropped (it would arrive stale)", entry.key, names)
            return None
        if isinstance(payload, BaseModel):
            data: str = payload.model_dump_json()
        elif isinstance(payload, dict):
            data = json.dumps(payload)
        else:
            data = payload
        return self.publish(entry.topic(self.base, **names), data, qos=entry.qos, retain=entry.retained,
                            expires=entry.expires and entry.retained)

    def report_own_error(self, what: str, error: str) -> None:
        """An error of the service itself (no incoming message to blame): reported on
        `<base>/error` under the service's own status topic."""
        self.report_error(self.status_topic, what, error)

    def report_error(self, topic: str, payload: bytes | str, error: str) -> None:
        """Tell `<base>/error` (and the log) that a message was not usable."""
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
        log.warning("rejected message on %s: %s", topic, error)
        report = ErrorReport(service=self.service, topic=topic, payload=text[:200], error=error,
                             ts=self.clock.now())
        try:
            self.publish_entry(topics.ERROR, report)
        except Exception:
            log.exception("could not publish error report")
