"""FleetClient: the one MQTT client every service uses (paho-mqtt 2.x).

- retained QoS 1 `<base>/<service>/status`: `online` on connect, last will `offline`,
  and `offline` published on clean shutdown;
- subscriptions restored on every (re)connect, reconnect with backoff (paho's own);
- TCP_NODELAY on the socket: with Nagle on, a QoS 1 request/response costs ~88 ms on
  loopback instead of ~0.2 ms (../shared/reference/measured.md);
- a handler that raises is reported on `<base>/error` and never stops the service;
- MQTT 5 with "retain as published" subscriptions: with 3.1.1 the broker clears the retain
  flag on live delivery, so a retained command published while a service is connected
  could not be told apart from a fresh one (and would replay as a ghost after reconnects).
"""
from __future__ import annotations

import json
import logging
import socket
import threading
import uuid
from typing import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions
from pydantic import BaseModel

from . import topics
from .clock import Clock, SystemClock
from .config.mqtt import MqttConfig
from .payloads import ErrorReport

log = logging.getLogger(__name__)

Handler = Callable[[str, bytes, bool], None]  # (topic, payload, retained)


def _options(qos: int) -> SubscribeOptions:
    return SubscribeOptions(qos=qos, retainAsPublished=True)


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
    ):
        self.service = service
        self.cfg = cfg
        self.base = cfg.base_topic
        self.clock = clock or SystemClock()
        # dispatch(fn, *args) runs a handler; services pass EventLoop.post so that all
        # decisions happen on one thread. Default: run in paho's network thread.
        self._dispatch = dispatch or (lambda fn, *a: fn(*a))
        self._handlers: list[tuple[str, int, Handler]] = []
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.last_connected_mono: float | None = None
        self.last_disconnected_mono: float | None = self.clock.monotonic()
        self.on_connect_hooks: list[Callable[[], None]] = []
        self.on_disconnect_hooks: list[Callable[[], None]] = []
        self.status_topic = topics.STATUS.topic(self.base, service=service)
        self._stopping = False

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
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self.paho = c

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting with backoff."""
        # clean start: every (re)connect subscribes afresh, so no stale session queues commands.
        self.paho.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s,
                                clean_start=True)
        self.paho.loop_start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Publish `offline` (the will is not sent on a clean disconnect) and disconnect."""
        self._stopping = True
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

    # ------------------------------------------------------------ paho callbacks
    def _on_socket_open(self, client, userdata, sock) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):  # TLS-wrapped or a unix socket
            pass

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused connection as %r: %s", self.cfg.username or self.service, reason_code)
            return
        log.info("connected to %s:%s", self.cfg.host, self.cfg.port)
        client.publish(self.status_topic, topics.ONLINE, qos=1, retain=True)
        with self._lock:
            filters = {f: q for f, q, _ in self._handlers}
        for f, q in filters.items():
            client.subscribe(f, options=_options(q))
        self.last_connected_mono = self.clock.monotonic()
        self.connected.set()
        for hook in self.on_connect_hooks:
            self._dispatch(hook)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        self.last_disconnected_mono = self.clock.monotonic()
        if was:
            if self._stopping:
                log.info("disconnected from broker")
            else:
                log.warning("disconnected from broker: %s", reason_code)
            for hook in self.on_disconnect_hooks:
                self._dispatch(hook)

    def _on_message(self, client, userdata, msg) -> None:
        with self._lock:
            matches = [h for f, _, h in self._handlers if paho.topic_matches_sub(f, msg.topic)]
        for handler in matches:
            self._dispatch(self._call, handler, msg.topic, bytes(msg.payload), bool(msg.retain))

    def _call(self, handler: Handler, topic: str, payload: bytes, retained: bool) -> None:
        try:
            handler(topic, payload, retained)
        except Exception as exc:
            log.exception("handler failed for %s", topic)
            self.report_error(topic, payload, f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------ API
    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1) -> None:
        with self._lock:
            self._handlers.append((topic_filter, qos, handler))
        if self.connected.is_set():
            self.paho.subscribe(topic_filter, options=_options(qos))

    def publish(self, topic: str, payload: str | bytes, *, qos: int = 1, retain: bool = False):
        return self.paho.publish(topic, payload, qos=qos, retain=retain)

    def publish_entry(self, entry: topics.Topic, payload: BaseModel | str | dict, **names: str):
        """Publish with the catalogue entry's own QoS and retain flag.

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
        return self.publish(entry.topic(self.base, **names), data, qos=entry.qos, retain=entry.retained)

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
