"""A test-side MQTT client: connects as any broker user and records what it sees.

It is deliberately plain paho (not FleetClient) so that tests see the bus as an outside
client (a phone app, MQTT Explorer) would.
"""
from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


@dataclass
class Msg:
    topic: str
    payload: bytes
    retain: bool
    t: float

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.payload)


class Probe:
    def __init__(self, port: int, username: str, password: str | None, client_id: str | None = None,
                 will: tuple[str, str] | None = None):
        self.messages: list[Msg] = []
        self.cond = threading.Condition()
        self.c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"probe-{uuid.uuid4().hex[:8]}")
        self.c.username_pw_set(username, password)
        if will:
            self.c.will_set(will[0], will[1], qos=1, retain=True)
        self.connect_rc = None
        self._connected = threading.Event()
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_socket_open = lambda c, u, s: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.c.connect("127.0.0.1", port, keepalive=10)
        self.c.loop_start()
        if not self._connected.wait(5):
            raise TimeoutError("probe did not connect")
        if self.connect_rc.is_failure:
            raise ConnectionError(f"broker refused {username}: {self.connect_rc}")

    def _on_connect(self, c, u, flags, rc, props):
        self.connect_rc = rc
        self._connected.set()

    def _on_message(self, c, u, msg):
        with self.cond:
            self.messages.append(Msg(msg.topic, bytes(msg.payload), bool(msg.retain), time.monotonic()))
            self.cond.notify_all()

    def subscribe(self, topic_filter: str, qos: int = 1) -> None:
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.subscribe(topic_filter, qos)
        done.wait(5)

    def publish(self, topic: str, payload, qos: int = 1, retain: bool = False) -> None:
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
        self.c.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)

    def wait_for(self, pred, timeout: float = 30.0, since: int = 0) -> Msg:
        """First message (index >= since) satisfying pred(msg); raises after timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.messages[since:]:
                    try:
                        if pred(m):
                            return m
                    except (ValueError, KeyError, TypeError):
                        pass
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = "\n".join(f"  {m.topic} {m.text[:160]}" for m in self.messages[-15:])
                    raise TimeoutError(f"no matching message in {timeout}s; last seen:\n{seen}")
                self.cond.wait(left)

    def on_topic(self, topic: str, pred=lambda m: True, timeout: float = 30.0, since: int = 0) -> Msg:
        return self.wait_for(lambda m: m.topic == topic and pred(m), timeout, since)

    def last(self, topic: str) -> Msg | None:
        with self.cond:
            for m in reversed(self.messages):
                if m.topic == topic:
                    return m
        return None

    def mark(self) -> int:
        with self.cond:
            return len(self.messages)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()
