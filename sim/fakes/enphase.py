"""Fake Enphase servers: Enlighten API v4 (cloud) and a local IQ Gateway (Envoy).

    cloud = FakeEnlighten().start()      # cloud.url -> http://127.0.0.1:<port>
    cloud.production_w = 2300            # the `set production watts` hook (make demo)
    envoy = FakeEnvoy(tls=True).start()  # self-signed cert made with openssl at start

Wire formats follow ../shared/reference/external-apis.md section 2. Credentials are
sim.secrets.FAKE_CLOUD's. Every request is counted in `.counts[<endpoint>]`.
"""
from __future__ import annotations

import base64
import json
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sim.secrets import FAKE_CLOUD


class FakeServer:
    """A ThreadingHTTPServer on 127.0.0.1 (free port, kept across stop/start) calling
    `self.handle(req)` where req has method, path, query, headers, body; handle returns
    (status, body str|dict, headers dict)."""

    def __init__(self, port: int = 0, tls: bool = False):
        self.port, self.tls = port, tls
        self.counts: Counter = Counter()
        self.lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._certdir: str | None = None
        self._conns: set = set()  # open keep-alive sockets, closed by stop()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self):
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                outer._conns.add(self.connection)

            def finish(self):
                outer._conns.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def _any(self):
                parts = urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                self.query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                self.route, self.body = parts.path, self.rfile.read(n) if n else b""
                with outer.lock:
                    status, body, headers = outer.handle(self)
                data = json.dumps(body) if isinstance(body, (dict, list)) else str(body)
                ctype = "application/json" if isinstance(body, (dict, list)) else "text/plain;charset=UTF-8"
                raw = data.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, str(v))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _any

        ThreadingHTTPServer.allow_reuse_address = True
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self._self_signed())
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        threading.Thread(target=self._httpd.serve_forever, daemon=True, name=type(self).__name__).start()
        return self

    def _self_signed(self) -> tuple[str, str]:
        if self._certdir is None:
            if not shutil.which("openssl"):
                raise RuntimeError("tls=True needs the openssl command")
            self._certdir = tempfile.mkdtemp(prefix="fake-envoy-")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-days", "2", "-subj", "/CN=envoy.local", "-keyout",
                            f"{self._certdir}/key.pem", "-out", f"{self._certdir}/cert.pem"],
                           check=True, capture_output=True)
        return f"{self._certdir}/cert.pem", f"{self._certdir}/key.pem"

    def stop(self) -> None:
        """Close the port (clients see connection refused); start() again reuses it."""
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        for conn in list(self._conns):  # a real outage also breaks keep-alive connections
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle(self, req):  # pragma: no cover - overridden
        return 404, "not found", {}

    @staticmethod
    def bearer(req) -> str | None:
        auth = req.headers.get("Authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None


class FakeEnlighten(FakeServer):
    """Enlighten v4: /oauth/token (Basic auth, query params, rotating refresh token) and
    /api/v4/systems/{id}/summary (bearer + ?key=)."""

    def __init__(self, system_id: str = "4242", per_minute: int = 10, **kw):
        super().__init__(**kw)
        creds = FAKE_CLOUD["enphase"]
        self.api_key, self.client_id, self.client_secret = creds["api_key"], creds["client_id"], creds["client_secret"]
        self.system_id, self.per_minute, self.size_w = system_id, per_minute, 5250
        self.refresh_tokens = {creds["refresh_token"]}  # valid ones; a refresh invalidates the old
        self.auth_codes: set[str] = set()
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch)
        self.expires_in = 86393
        self.production_w: float = 1500.0
        self.last_report_at: float | None = None  # None: now
        self.status = "normal"  # "comm": the Envoy is not reporting
        self.minute: tuple[int, int] = (0, 0)  # (minute number, calls in it)
        self.force_429: str | None = None  # "minute" | "month"
        self.fail_5xx = False

    def set_production(self, w: float, last_report_at: float | None = None) -> None:
        with self.lock:
            self.production_w, self.last_report_at = w, last_report_at

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens = {t: 0 for t in self.access_tokens}

    def handle(self, req):
        if req.route == "/oauth/token" and req.command == "POST":
            self.counts["token"] += 1
            return self._token(req)
        if req.route == f"/api/v4/systems/{self.system_id}/summary":
            self.counts["summary"] += 1
            return self._summary(req)
        self.counts["other"] += 1
        return 404, {"message": "Not Found", "details": f"System not found for {{:id=>\"{req.route}\"}}",
                     "code": 404}, {}

    def _token(self, req):
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if req.headers.get("Authorization") != f"Basic {basic}":
            return 401, {"error": "unauthorized", "error_description": "Bad credentials"}, {}
        q = req.query
        if q.get("grant_type") == "refresh_token" and q.get("refresh_token") in self.refresh_tokens:
            self.refresh_tokens.discard(q["refresh_token"])
        elif q.get("grant_type") == "authorization_code" and q.get("code") in self.auth_codes:
            self.auth_codes.discard(q["code"])  # a code works once
        else:
            return 400 if q.get("grant_type") == "authorization_code" else 401, {
                "error": "invalid_grant", "error_description": "Invalid refresh token"}, {}
        access, refresh = "at-" + secrets.token_hex(8), "rt-" + secrets.token_hex(8)
        self.access_tokens[access] = time.time() + self.expires_in
        self.refresh_tokens.add(refresh)
        return 200, {"access_token": access, "token_type": "bearer", "refresh_token": refresh,
                     "expires_in": self.expires_in, "scope": "read write", "enl_uid": "1234",
                     "enl_cid": "5678", "is_internal_app": False, "app_type": "system",
                     "jti": secrets.token_hex(6)}, {}

    def _summary(self, req):
        token = self.bearer(req)
        if req.query.get("key") != self.api_key:
            return 401, {"message": "Not Authorized", "details": "API Key -Client mismatch", "code": 401}, {}
        if token not in self.access_tokens or self.access_tokens[token] < time.time():
            return 401, {"message": "Not Authorized", "details": "User is not authorized", "code": 401}, {}
        now = time.time()
        minute = int(now // 60)
        calls = self.minute[1] + 1 if self.minute[0] == minute else 1
        self.minute = (minute, calls)
        if self.force_429 or calls > self.per_minute:
            period = self.force_429 or "minute"
            start = minute * 60 if period == "minute" else int(now) - 86400
            end = start + 60 if period == "minute" else int(now) + 20 * 86400
            return 429, {"message": "Too Many Requests", "details": "Usage limit exceeded for plan Watt",
                         "code": 429, "period": period, "period_start": start, "period_end": end,
                         "limit": self.per_minute if period == "minute" else 1000}, {}
        if self.fail_5xx:
            return 503, {"errorCode": 7, "errorMessages": ["Data temporarily unavailable."]}, {}
        rep = int(self.last_report_at if self.last_report_at is not None else now)
        return 200, {"system_id": int(self.system_id), "current_power": self.production_w,
                     "energy_lifetime": 19050353, "energy_today": 25639, "last_interval_end_at": rep - 300,
                     "last_report_at": rep, "modules": 31, "operational_at": 1201362300,
                     "size_w": self.size_w, "source": "microinverters", "status": self.status,
                     "summary_date": time.strftime("%Y-%m-%d"), "nmi": None}, {}


class FakeEnvoy(FakeServer):
    """IQ Gateway firmware >= 7: /production.json needs `Authorization: Bearer <token>`."""

    def __init__(self, metered: bool = True, **kw):
        super().__init__(**kw)
        self.token = FAKE_CLOUD["envoy"]["token"]
        self.metered, self.production_w = metered, 1500.0
        self.reading_time: float | None = None  # None: now
        self.inverters_w: float | None = None  # None: production_w minus a little
        self.raw_w: object = None  # when set, served as wNow verbatim (e.g. "NaN", "abc")

    def set_production(self, w: float, reading_time: float | None = None) -> None:
        with self.lock:
            self.production_w, self.reading_time, self.raw_w = w, reading_time, None

    def handle(self, req):
        if req.route == "/info":
            self.counts["info"] += 1
            return 200, "<envoy_info><device><software>D8.3.5167</software></device>" \
                        "<web-tokens>true</web-tokens></envoy_info>", {"Content-Type": "text/xml"}
        if req.route != "/production.json":
            self.counts["other"] += 1
            return 404, "Not Found", {}
        self.counts["production"] += 1
        if self.bearer(req) != self.token:
            return 401, "", {}
        t = int(self.reading_time if self.reading_time is not None else time.time())
        w = self.raw_w if self.raw_w is not None else self.production_w
        inv = self.inverters_w if self.inverters_w is not None else max(0.0, self.production_w - 20)
        prod = [{"type": "inverters", "activeCount": 24, "readingTime": t, "wNow": inv, "whLifetime": 1000},
                {"type": "eim", "activeCount": 1 if self.metered else 0, "measurementType": "production",
                 "readingTime": t, "wNow": w if self.metered else 0.0, "whLifetime": 1000, "whToday": 500,
                 "whLastSevenDays": 9000, "rmsCurrent": 5.1, "rmsVoltage": 240.2}]
        return 200, {"production": prod, "consumption": [
            {"type": "eim", "activeCount": 1, "measurementType": "total-consumption", "readingTime": t,
             "wNow": 800.0}], "storage": [{"type": "acb", "activeCount": 0, "readingTime": 0, "wNow": 0,
                                           "whNow": 0, "state": "idle"}]}, {}


__all__ = ["FakeServer", "FakeEnlighten", "FakeEnvoy"]
