"""Curb's live stream: Socket.IO v2 (Engine.IO 3) over WebSocket, namespace /api/circuit-data.

connect -> join the namespace -> `authenticate {token}` -> `authorized` (or `unauthorized`)
-> `subscribe <locationId>` -> `data` events at about 1 Hz. The client pings every
pingInterval (EIO 3: the client pings, the server answers `3`). Runs on its own daemon
thread, reconnects with backoff, and hands events to the loop through callbacks.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from .auth import CurbAuth
from .ws import WebSocket

log = logging.getLogger(__name__)

NAMESPACE = "/api/circuit-data"
SOCKET_PATH = "/socket.io/?EIO=3&transport=websocket"


class LiveError(Exception):
    pass


@dataclass
class Packet:
    eio: str  # 0 open, 1 close, 2 ping, 3 pong, 4 message
    sio: str | None = None  # 0 connect, 1 disconnect, 2 event, 4 error
    nsp: str = "/"
    data: Any = None


def parse(text: str) -> Packet:
    """Parse one Engine.IO 3 / Socket.IO 2 text packet (pure)."""
    if not text:
        raise LiveError("empty packet")
    p = Packet(text[0])
    rest = text[1:]
    if p.eio == "0":
        p.data = json.loads(rest)
    elif p.eio == "4" and rest:
        p.sio, rest = rest[0], rest[1:]
        if rest.startswith("/"):
            p.nsp, _, rest = rest.partition(",")
        while rest[:1].isdigit():  # ack id: not used by Curb's events
            rest = rest[1:]
        p.data = json.loads(rest) if rest else None
    return p


def event(name: str, *args) -> str:
    return f"42{NAMESPACE}," + json.dumps([name, *args], separators=(",", ":"))


def ws_url(api_base: str) -> str:
    return api_base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + SOCKET_PATH


class LiveStream:
    def __init__(self, api_base: str, auth: CurbAuth, location_id: str,
                 on_data: Callable[[dict], None], on_state: Callable[[bool, str], None],
                 timeout_s: float = 10, min_backoff_s: float = 1, max_backoff_s: float = 60):
        self.url, self.auth, self.location_id = ws_url(api_base), auth, location_id
        self.on_data, self.on_state = on_data, on_state
        self.timeout_s, self.min_backoff_s, self.max_backoff_s = timeout_s, min_backoff_s, max_backoff_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="curb-live", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        backoff = self.min_backoff_s
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._session()
            except Exception as exc:  # network, protocol, auth: all end in a reconnect
                log.warning("Curb live stream down: %s: %s", type(exc).__name__, exc)
                self.on_state(False, f"live stream down: {exc}")
            if time.monotonic() - started > 60:
                backoff = self.min_backoff_s  # it ran a while: a fresh outage, start the backoff again
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)

    def _session(self) -> None:
        ws = WebSocket(self.url, self.timeout_s)
        try:
            first = parse(ws.recv(self.timeout_s) or "")
            if first.eio != "0":
                raise LiveError(f"expected an Engine.IO open packet, got {first.eio!r}")
            ping_s = first.data.get("pingInterval", 25000) / 1000
            dead_s = ping_s + first.data.get("pingTimeout", 60000) / 1000
            ws.send("40" + NAMESPACE)
            last_ping = last_rx = time.monotonic()
            while not self._stop.is_set():
                text = ws.recv(min(0.25, ping_s))
                now = time.monotonic()
                if text is not None:
                    last_rx = now
                    self._handle(ws, parse(text))
                if now - last_ping >= ping_s:
                    ws.send("2")
                    last_ping = now
                if now - last_rx > dead_s:
                    raise LiveError(f"nothing from Curb for {dead_s:g} s")
        finally:
            ws.close()

    def _handle(self, ws: WebSocket, p: Packet) -> None:
        if p.eio == "1":
            raise LiveError("server closed the session")
        if p.eio != "4" or p.nsp != NAMESPACE:
            return
        if p.sio == "0":  # joined the namespace
            ws.send(event("authenticate", {"token": self.auth.access_token()}))
        elif p.sio == "4":
            raise LiveError(f"namespace error: {p.data}")
        elif p.sio == "1":
            raise LiveError("namespace disconnected")
        elif p.sio == "2" and isinstance(p.data, list) and p.data:
            name = p.data[0]
            if name == "authorized":
                ws.send(event("subscribe", self.location_id))
                log.info("Curb live stream: subscribed to %s", self.location_id)
                self.on_state(True, "")
            elif name == "unauthorized":
                self.auth.invalidate()
                raise LiveError("token refused (unauthorized); refreshing it")
            elif name == "data" and len(p.data) > 1 and isinstance(p.data[1], dict):
                self.on_data(p.data[1])
