"""The live picture of the fleet, from MQTT, and its fan-out to browsers (server-sent events).

MQTT messages arrive in paho's network thread; browsers wait on the web server's asyncio
loop. The Hub keeps the newest payload of every state topic under a lock and hands each
change to every browser's queue with `call_soon_threadsafe`, so neither side waits on the other.
"""
from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from typing import Any, Callable

from circuitq import topics as t

from ..recorder.classify import user_property

# kind -> kept as the newest per name (states) or as a short list of recent events
STATE_KINDS = {t.STATUS.key, t.HEARTBEAT.key, t.LOAD_STATE.key, t.DRM_STATE.key, t.RELAY_STATE.key,
               t.DRED_STATE.key, t.CURB_READING.key, t.CURB_HEALTH.key, t.SOLAR_PRODUCTION.key,
               t.SOLAR_HEALTH.key, t.SOLAR_SOURCE_HEALTH.key, t.PLAN.key, t.SOLAR_FORECAST.key,
               t.TARIFF_PRICE.key, t.ECOBEE_STATE.key}
EVENT_KINDS = {t.ALERT.key: 100, t.ACTIVITY.key: 100, t.ERROR.key: 30}
SET_KINDS = {t.LOAD_SET.key: t.LOAD_STATE.key, t.DRM_SET.key: t.DRM_STATE.key}
QUEUE_MAX = 500  # events a slow browser may fall behind by before it is told to reload


def decode(payload: bytes) -> Any:
    text = payload.decode("utf-8", "replace")
    if text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


class Hub:
    def __init__(self, base: str):
        self.base = base
        self.lock = threading.Lock()
        self.state: dict[str, dict[str, Any]] = {k: {} for k in STATE_KINDS}
        self.events: dict[str, deque] = {k: deque(maxlen=n) for k, n in EVENT_KINDS.items()}
        self.override_by: dict[str, dict[str, dict]] = {k: {} for k in SET_KINDS.values()}
        self.listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = []
        self.waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future, Callable[[dict], bool]]] = []
        self.broker_connected = False

    # ------------------------------------------------------------ in: paho's thread
    def on_message(self, client, userdata, msg) -> None:
        found = t.find(self.base, msg.topic)
        if found is None:
            return
        entry, names = found
        name = next(iter(names.values()), "")
        payload = bytes(msg.payload)
        event = None
        with self.lock:
            if entry.key in STATE_KINDS:
                if payload:
                    data = decode(payload)
                    if self.state[entry.key].get(name) == data:
                        return  # a heartbeat's re-send of the same state
                    self.state[entry.key][name] = data
                else:
                    self.state[entry.key].pop(name, None)  # a cleared retained topic
                    data = None
                event = {"kind": entry.key, "name": name, "data": data}
            elif entry.key in EVENT_KINDS and payload:
                event = {"kind": entry.key, "name": name, "data": decode(payload)}
                self.events[entry.key].append(event["data"])
            elif entry.key in SET_KINDS and payload:
                rec = {"by": user_property(msg, "by") or "MQTT", "payload": decode(payload)}
                self.override_by[SET_KINDS[entry.key]][name] = rec
                event = {"kind": entry.key, "name": name, "data": rec}
            if event is None:
                return
            listeners, waiters = list(self.listeners), list(self.waiters)
        for loop, q in listeners:
            loop.call_soon_threadsafe(self._put, q, event)
        for loop, fut, pred in waiters:
            try:
                hit = pred(event)
            except (KeyError, TypeError, AttributeError):
                hit = False
            if hit:
                loop.call_soon_threadsafe(self._resolve, fut, event)

    @staticmethod
    def _put(q: asyncio.Queue, event: dict) -> None:
        if q.qsize() >= QUEUE_MAX:
            q.put_nowait({"kind": "reload"})
        else:
            q.put_nowait(event)

    @staticmethod
    def _resolve(fut: asyncio.Future, event: dict) -> None:
        if not fut.done():
            fut.set_result(event)

    def set_broker(self, connected: bool) -> None:
        """The page's own link to the broker: without it, what the page shows may be old."""
        with self.lock:
            self.broker_connected = connected
            listeners = list(self.listeners)
        event = {"kind": "broker", "name": "", "data": {"connected": connected}}
        for loop, q in listeners:
            loop.call_soon_threadsafe(self._put, q, event)

    # ------------------------------------------------------------ out: the web server's loop
    def snapshot(self) -> dict:
        with self.lock:
            return {"broker_connected": self.broker_connected,
                    "state": {k: dict(v) for k, v in self.state.items()},
                    "events": {k: list(v) for k, v in self.events.items()},
                    "override_by": {k: dict(v) for k, v in self.override_by.items()}}

    def get(self, kind: str, name: str = "") -> Any:
        with self.lock:
            return self.state.get(kind, {}).get(name)

    def listen(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue()
        with self.lock:
            self.listeners.append((asyncio.get_running_loop(), q))
        return q

    def unlisten(self, q: asyncio.Queue) -> None:
        with self.lock:
            self.listeners = [(lp, x) for lp, x in self.listeners if x is not q]

    async def wait_for(self, pred: Callable[[dict], bool], timeout_s: float, start: Callable[[], None]) -> dict | None:
        """Call `start` (e.g. publish), then the first event satisfying pred, or None after timeout."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        entry = (loop, fut, pred)
        with self.lock:
            self.waiters.append(entry)
        try:
            start()
            return await asyncio.wait_for(fut, timeout_s)
        except asyncio.TimeoutError:
            return None
        finally:
            with self.lock:
                self.waiters.remove(entry)
