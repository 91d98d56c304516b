"""A local Curb cloud (Auth0 token endpoint + REST v3) for tests and `make demo`.

Wire formats follow ../shared/reference/external-apis.md section 1: `POST /oauth/token`
(JSON or form body; password and refresh_token grants; wrong password -> 403
`invalid_grant`, bad client -> 401), `GET /api/v3/locations`, `GET /api/v3/latest/:id`
(401 without a valid bearer token). One server serves both hosts:

    fake = FakeCurb().start()              # fake.url -> "http://127.0.0.1:PORT"
    cfg: curb: {auth_host: fake.url, api_host: fake.url}
    fake.set_scenario("stale")             # fresh | stale | offline | error | garbage |
                                           # wrong_shape | ratelimit
    fake.set_watts({"curb-dryer-1": 2400, "curb-dryer-2": 2400})   # house mode, by circuit id
    fake.counts["token:password"]          # requests per endpoint, for assertions

The default house is the example config's: labels the config maps by label, a dryer on two
CTs with one label (sum: true), two circuits labelled "Bedroom" (mapped by id), unlabelled
mains and a spare, and `__OTHER__`.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, unquote, urlsplit

from sim.fakes import curb_live
from sim.secrets import FAKE_CLOUD

AUDIENCE = "app.energycurb.com/api"
LOCATION_ID = "6f1c2a9e-4b7d-4e0a-9c51-curbhouse001"
SCENARIOS = ("fresh", "stale", "offline", "error", "garbage", "wrong_shape", "ratelimit")

# (id, label, watts, flags): the example house.
HOUSE = [
    ("curb-main-1", "", 0, {"main": True}),
    ("curb-main-2", "", 0, {"main": True}),
    ("curb-kitchen", "Kitchen", 350, {}),
    ("curb-hp-north", "Heat Pump North", 0, {}),
    ("curb-hp-south", "Heat Pump South", 0, {}),
    ("curb-dryer-1", "Dryer", 0, {}),
    ("curb-dryer-2", "Dryer", 0, {}),
    ("curb-wh-north", "Water Heater North", 0, {}),
    ("curb-wh-south", "Water Heater South", 0, {}),
    ("curb-pool", "Pool Pump", 1100, {}),
    ("curb-garage", "Garage", 60, {}),
    ("curb-bedroom-1", "Bedroom", 80, {}),
    ("curb-bedroom-2", "Bedroom", 40, {}),
    ("curb-spare", "", 0, {}),
    ("__OTHER__", "Other", 150, {"other": True}),
]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client hanging up is not news
        import sys
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FakeCurb:
    def __init__(self, creds: dict | None = None, *, token_lifetime_s: float = 86400,
                 time_fn: Callable[[], float] = time.time):
        c = creds or FAKE_CLOUD["curb"]
        self.username, self.password = c["username"], c["password"]
        self.client_id, self.client_secret = c["client_id"], c["client_secret"]
        self.token_lifetime_s = token_lifetime_s  # server-side; expires_in still says 86400
        self.expires_in = 86400
        self.time = time_fn
        self.lock = threading.Lock()
        self.access: dict[str, float] = {}  # token -> expiry (epoch s)
        self.refresh: set[str] = set()
        self.counts: Counter = Counter()
        self.circuits = [{"id": i, "label": lab, "main": False, "production": False, **flags}
                         for i, lab, _, flags in HOUSE]
        self.watts: dict[str, float] = {i: w for i, _, w, _ in HOUSE}
        self.production_w = 0.0
        self.locations = [{"id": LOCATION_ID, "name": "CircuitQueueing house", "address": "",
                           "country": "US", "postcode": "29401", "hasProduction": False,
                           "extra_data": {"timezone": {"timeZoneId": "America/New_York"}}}]
        self.scenario = "fresh"
        self.stale_ts = 0
        self.retry_after_s = 1
        # live stream (sim/fakes/curb_live.py)
        self.live_enabled = True
        self.live_interval_s = 1.0
        self.live_ping_interval_ms, self.live_ping_timeout_ms = 25000, 60000
        self.live_generation = 0  # bumping it ends every open live session
        self.server: ThreadingHTTPServer | None = None

    # ---------------------------------------------------------------- control
    def start(self, port: int = 0) -> "FakeCurb":
        fake = self

        class Handler(_Handler):
            pass
        Handler.fake = fake
        self.server = _Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), name="fake-curb",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            server, self.server = self.server, None  # live sessions see None and end
            server.shutdown()
            server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def set_scenario(self, name: str, stale_age_s: float = 300) -> None:
        if name not in SCENARIOS:
            raise ValueError(f"scenario {name!r}: one of {SCENARIOS}")
        with self.lock:
            self.scenario = name
            self.stale_ts = int(self.time() - stale_age_s)  # and it stays put

    def set_watts(self, watts: dict[str, float], production_w: float | None = None) -> None:
        with self.lock:
            unknown = set(watts) - set(self.watts)
            if unknown:
                raise KeyError(f"no such Curb circuit id: {sorted(unknown)}")
            self.watts.update(watts)
            if production_w is not None:
                self.production_w = production_w

    def count(self, key: str) -> None:
        with self.lock:
            self.counts[key] += 1

    def drop_live(self) -> None:
        """End every live session (the client should reconnect)."""
        self.live_generation += 1

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access.clear()

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh.clear()

    # ---------------------------------------------------------------- Auth0
    def token(self, body: dict) -> tuple[int, dict]:
        grant = body.get("grant_type")
        if body.get("client_id") != self.client_id or body.get("client_secret") != self.client_secret:
            self.count("token:bad_client")
            return 401, {"error": "access_denied", "error_description": "Unauthorized"}
        self.count(f"token:{grant}")
        if grant == "password":
            if body.get("audience") != AUDIENCE:
                return 403, {"error": "access_denied", "error_description": "Service not found: "
                             f"{body.get('audience')}"}
            if body.get("username") != self.username or body.get("password") != self.password:
                return 403, {"error": "invalid_grant", "error_description": "Wrong email or password."}
            offline = "offline_access" in str(body.get("scope", "")).split()
            return 200, self._issue(with_refresh=offline)
        if grant == "refresh_token":
            if body.get("refresh_token") not in self.refresh:
                return 403, {"error": "invalid_grant",
                             "error_description": "Unknown or invalid refresh token."}
            return 200, self._issue(with_refresh=False)  # refresh tokens do not rotate
        return 403, {"error": "unsupported_grant_type", "error_description": f"{grant}"}

    def _issue(self, with_refresh: bool) -> dict:
        tok = "fake-curb-at-" + secrets.token_urlsafe(12)
        out = {"access_token": tok, "scope": "offline_access" if with_refresh else "",
               "expires_in": self.expires_in, "token_type": "Bearer"}
        with self.lock:
            self.access[tok] = self.time() + self.token_lifetime_s
            if with_refresh:
                out["refresh_token"] = "fake-curb-rt-" + secrets.token_urlsafe(12)
                self.refresh.add(out["refresh_token"])
        return out

    # ---------------------------------------------------------------- REST
    def authorized(self, header: str | None) -> bool:
        tok = (header or "").removeprefix("Bearer ").strip()
        with self.lock:
            return self.access.get(tok, 0) > self.time()

    def latest(self, location_id: str) -> dict:
        with self.lock:
            if self.scenario == "offline":
                return {}
            ts = self.stale_ts if self.scenario == "stale" else int(self.time())
            circuits, consumption = [], 0.0
            for c in self.circuits:
                if not c["main"]:
                    consumption += self.watts[c["id"]]
            for c in self.circuits:
                w = consumption / 2 if c["main"] else self.watts[c["id"]]
                circuits.append({**c, "w": round(w, 1)})
            return {"timestamp": ts, "locationId": location_id, "consumption": round(consumption, 1),
                    "production": self.production_w,
                    "net": round(consumption - self.production_w, 1), "circuits": circuits}


    def live_data(self, location_id: str) -> dict:
        """A live `data` event: circuits only (no timestamp, no totals); production negative."""
        snap = self.latest(location_id)
        circuits = [{"id": c["id"], "label": c["label"], "w": c["w"], "grid": False,
                     "main": c["main"], "battery": False, "production": c["production"],
                     "circuit_type": "main" if c["main"] else "consumption"}
                    for c in snap.get("circuits", [])]
        return {"locationId": location_id, "circuits": circuits}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeCurb
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # keep test output quiet
        pass

    def _send(self, status: int, data, content_type: str = "application/json", headers=None) -> None:
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        f = self.fake
        path = urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if path != "/oauth/token":
            return self._send(404, {"error": "not_found"})
        if "json" in (self.headers.get("Content-Type") or ""):
            try:
                body = json.loads(raw or "{}")
            except ValueError:
                return self._send(400, {"error": "invalid_request", "error_description": "bad JSON"})
        else:
            body = {k: v[0] for k, v in parse_qs(raw).items()}
        self._send(*f.token(body if isinstance(body, dict) else {}))

    def do_GET(self):
        f = self.fake
        path = urlsplit(self.path).path
        if path == "/socket.io/" and "websocket" in (self.headers.get("Upgrade") or "").lower():
            if not f.live_enabled:
                return self._send(503, {"error": "live stream unavailable"})
            return curb_live.serve(self, f)
        key = ("latest" if path.startswith("/api/v3/latest/") else
               "locations" if path.startswith("/api/v3/locations") else path)
        f.count(key)
        if not f.authorized(self.headers.get("Authorization")):
            f.count("unauthorized")
            return self._send(401, {"error": "Unauthorized", "message": "invalid or expired token"})
        scenario = f.scenario
        if scenario == "error":
            return self._send(500, {"error": "Internal Server Error"})
        if scenario == "garbage":
            return self._send(200, b"<html><body>upstream hiccup</body></html>", "text/html")
        if scenario == "ratelimit":
            return self._send(429, {"error": "Too Many Requests"},
                              headers={"Retry-After": str(f.retry_after_s)})
        if path == "/api/v3/locations":
            return self._send(200, f.locations)
        if path.startswith("/api/v3/latest/"):
            loc = unquote(path.removeprefix("/api/v3/latest/"))
            if loc not in {x["id"] for x in f.locations}:
                return self._send(404, {"error": "location not found"})
            if scenario == "wrong_shape":
                return self._send(200, {"timestamp": "soon", "circuits": "none"})
            return self._send(200, f.latest(loc))
        self._send(404, {"error": "not found"})


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="fake Curb cloud (Auth0 token, REST v3, live stream)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--scenario", choices=SCENARIOS, default="fresh")
    args = ap.parse_args()
    f = FakeCurb().start(args.port)
    f.set_scenario(args.scenario)
    print(f"fake Curb on {f.url} (curb.auth_host and curb.api_host: {f.url})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        f.stop()
