"""The fake Curb's live stream: Socket.IO v2 / Engine.IO 3 over WebSocket (server side).

`GET /socket.io/?EIO=3&transport=websocket` with an Upgrade header ->
`0{sid, pingInterval, pingTimeout}`, `40`; the client joins `/api/circuit-data`,
emits `authenticate {token}` -> `authorized` | `unauthorized`, emits `subscribe <location>`
-> `data` events every `fake.live_interval_s`. The client pings (`2`), we answer `3`.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import select
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
NS = "/api/circuit-data"


class _Closed(Exception):
    pass


class ServerSocket:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise _Closed()
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout_s: float) -> str | None:
        if not self.buf and not select.select([self.sock], [], [], timeout_s)[0]:
            return None
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        mask = self._read(4) if b1 & 0x80 else b"\0\0\0\0"
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(n)))
        op = b0 & 0x0F
        if op == 0x8:
            raise _Closed()
        if op == 0x9:
            self._send(0xA, data)
            return None
        return data.decode() if op == 0x1 else None

    def _send(self, op: int, payload: bytes) -> None:
        n = len(payload)
        head = bytes([0x80 | op]) + (bytes([n]) if n < 126 else bytes([126]) + struct.pack(">H", n)
                                     if n < 65536 else bytes([127]) + struct.pack(">Q", n))
        self.sock.sendall(head + payload)

    def send(self, text: str) -> None:
        self._send(0x1, text.encode())


def event(name: str, *args) -> str:
    return f"42{NS}," + json.dumps([name, *args])


def serve(handler, fake) -> None:
    """Run one live session on the handler's connection until the client or the fake ends it."""
    key = handler.headers.get("Sec-WebSocket-Key", "")
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept)
    handler.end_headers()
    handler.wfile.flush()
    handler.close_connection = True
    ws = ServerSocket(handler.connection)
    generation = fake.live_generation
    fake.count("live:connect")
    ws.send("0" + json.dumps({"sid": secrets.token_hex(8), "upgrades": [],
                              "pingInterval": fake.live_ping_interval_ms,
                              "pingTimeout": fake.live_ping_timeout_ms}))
    ws.send("40")
    authed, location, next_push = False, None, 0.0
    try:
        while fake.live_generation == generation and fake.server is not None:
            text = ws.recv(0.02)
            if text == "2":
                ws.send("3")
            elif text and text.startswith("40" + NS):
                ws.send("40" + NS)
            elif text and text.startswith(f"42{NS},"):
                name, *args = json.loads(text[len(f"42{NS},"):])
                fake.count(f"live:{name}")
                if name == "authenticate":
                    authed = fake.authorized("Bearer " + str((args[0] or {}).get("token", "")))
                    ws.send(event("authorized" if authed else "unauthorized"))
                elif name == "subscribe" and authed:
                    location = args[0]
            now = time.monotonic()
            if location and now >= next_push:
                ws.send(event("data", fake.live_data(location)))
                fake.count("live:data")
                next_push = now + fake.live_interval_s
    except (_Closed, OSError, ValueError):
        pass
