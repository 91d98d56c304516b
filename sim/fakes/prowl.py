"""A local Prowl API (`POST /publicapi/add`, `GET /publicapi/verify`) for tests and `make demo`.

Wire format from ../shared/reference/external-apis.md section 5 (prowlapp.com/api.php):
form-encoded or multipart body; `apikey` (40-hex keys, comma-separated, fails only if all are
invalid), `application` (required, <= 256 bytes), `event` (<= 1024) and/or `description`
(<= 10000), `priority` -2..2, `url` <= 512, `providerkey` <= 40. Answers are XML:

    <prowl><success code="200" remaining="999" resetdate="1767225600" /></prowl>
    <prowl><error code="401">Invalid API key</error></prowl>     (400, 401, 406, 500)

Calls are counted per client IP; the window starts at the first call and lasts `window_s`
(an hour on the real service); over `limit` calls -> 406 until it resets.

    fake = FakeProwl(limit=2, window_s=2).start()     # fake.host -> "127.0.0.1:PORT"
    cfg: notifier: {prowl: {host: fake.host}}
    fake.fail_next(3, 500)      # the next 3 calls answer 500
    fake.revoke(key)            # that key now gets 401
    fake.notifications          # accepted notifications (dicts of the form fields)
    python -m sim.fakes.prowl   # run alone and print what arrives (the demo)
"""
from __future__ import annotations

import math
import re
import threading
import time
from email import message_from_bytes
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from sim.secrets import FAKE_CLOUD

KEY_RX = re.compile(r"^[0-9a-fA-F]{40}$")
LIMITS = {"application": 256, "event": 1024, "description": 10000, "url": 512, "providerkey": 40}
MESSAGES = {400: "Bad request: {}", 401: "Invalid API key", 406: "Not accepted: your IP address "
            "has exceeded the API limit", 500: "Internal server error"}


def parse_body(content_type: str, body: bytes) -> dict[str, str]:
    """Form fields from an application/x-www-form-urlencoded or multipart/form-data body."""
    if content_type.startswith("multipart/form-data"):
        msg = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body,
                                 policy=HTTP)
        out = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                out[name] = part.get_payload(decode=True).decode("utf-8", "replace")
        return out
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


class FakeProwl:
    def __init__(self, *, limit: int = 1000, window_s: float = 3600, keys: set[str] | None = None,
                 time_fn: Callable[[], float] = time.time, echo: bool = False):
        self.limit, self.window_s, self.time, self.echo = limit, window_s, time_fn, echo
        # Keys this account knows; None = any well-formed key. Default: the dev secrets' key.
        self.keys = {k.lower() for k in keys} if keys is not None else {FAKE_CLOUD["prowl"]["api_key"]}
        self.lock = threading.Lock()
        self.windows: dict[str, tuple[float, int]] = {}  # ip -> (window start, calls)
        self.notifications: list[dict] = []
        self.calls: list[tuple[float, int, dict]] = []   # (time, status answered, fields)
        self._fail: list[int] = []
        self.server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ toggles
    def fail_next(self, n: int, status: int = 500) -> None:
        with self.lock:
            self._fail = [status] * n

    def fail_always(self, status: int | None = 500) -> None:
        with self.lock:
            self._fail = [status] * 10**6 if status else []

    def revoke(self, key: str) -> None:
        with self.lock:
            self.keys.discard(key.lower())

    def statuses(self) -> list[int]:
        with self.lock:
            return [s for _, s, _ in self.calls]

    def wait_for(self, pred: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for n in self.notifications:
                    if pred(n):
                        return n
            time.sleep(0.02)
        raise TimeoutError(f"no matching Prowl notification in {timeout}s; got {self.notifications}")

    # ------------------------------------------------------------ the API
    def _count(self, ip: str) -> tuple[bool, int, int]:
        """(allowed, remaining, resetdate) for one more call from ip."""
        now = self.time()
        start, used = self.windows.get(ip, (now, 0))
        if now >= start + self.window_s:
            start, used = now, 0
        reset = math.ceil(start + self.window_s)
        if used >= self.limit:
            self.windows[ip] = (start, used)
            return False, 0, reset
        self.windows[ip] = (start, used + 1)
        return True, self.limit - used - 1, reset

    def _valid_key(self, apikey: str) -> bool:
        keys = [k.strip().lower() for k in apikey.split(",") if k.strip()]
        good = [k for k in keys if KEY_RX.match(k) and (self.keys is None or k in self.keys)]
        return bool(good)  # only fails if all keys are invalid

    def handle(self, ip: str, path: str, fields: dict[str, str]) -> tuple[int, str]:
        with self.lock:
            if self._fail:
                status = self._fail.pop(0)
                self.calls.append((self.time(), status, fields))
                return status, error_xml(status, MESSAGES.get(status, "error"))
            allowed, remaining, reset = self._count(ip)
            status, body = self._check(path, fields, allowed, remaining, reset)
            self.calls.append((self.time(), status, fields))
            if status == 200 and path.endswith("/add"):
                self.notifications.append(dict(fields))
                if self.echo:
                    print(f"[prowl] p{fields.get('priority', '0')} {fields.get('application')}: "
                          f"{fields.get('event', '')} | {fields.get('description', '')}", flush=True)
            return status, body

    def _check(self, path, fields, allowed, remaining, reset) -> tuple[int, str]:
        if not allowed:
            return 406, error_xml(406, MESSAGES[406])
        if not fields.get("apikey"):
            return 400, error_xml(400, MESSAGES[400].format("apikey is required"))
        if not self._valid_key(fields["apikey"]):
            return 401, error_xml(401, MESSAGES[401])
        if path.endswith("/add"):
            problem = validate_add(fields)
            if problem:
                return 400, error_xml(400, MESSAGES[400].format(problem))
        return 200, success_xml(remaining, reset)

    # ------------------------------------------------------------ server
    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def start(self, port: int = 0) -> "FakeProwl":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _answer(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                path = urlsplit(self.path).path
                if path != "/publicapi/add":
                    return self._answer(404, error_xml(404, "Not found"))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fields = parse_body(self.headers.get("Content-Type", ""), body)
                self._answer(*fake.handle(self.client_address[0], path, fields))

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path != "/publicapi/verify":
                    return self._answer(404 if parts.path != "/publicapi/add" else 405,
                                        error_xml(405, "Method not allowed"))
                fields = {k: v[0] for k, v in parse_qs(parts.query).items()}
                self._answer(*fake.handle(self.client_address[0], parts.path, fields))

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True,
                         name="fake-prowl").start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def validate_add(f: dict[str, str]) -> str | None:
    if not f.get("application"):
        return "application is required"
    if not f.get("event") and not f.get("description"):
        return "event or description is required"
    for name, limit in LIMITS.items():
        if len(f.get(name, "").encode("utf-8")) > limit:
            return f"{name} is longer than {limit} bytes"
    try:
        if int(f.get("priority", "0")) not in range(-2, 3):
            return "priority must be -2..2"
    except ValueError:
        return "priority must be an integer"
    return None


def success_xml(remaining: int, reset: int) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<prowl>\n'
            f'<success code="200" remaining="{remaining}" resetdate="{reset}" />\n</prowl>\n')


def error_xml(code: int, message: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<prowl>\n<error code="{code}">{escape(message)}</error>\n</prowl>\n'


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="fake Prowl API that prints what it receives")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--limit", type=int, default=1000)
    args = ap.parse_args()
    f = FakeProwl(limit=args.limit, echo=True).start(args.port)
    print(f"fake Prowl on {f.url} (notifier.prowl.host: {f.host})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        f.stop()
