"""A local ecobee API (api.ecobee.com) for tests and `make demo`: PIN flow, tokens, thermostats.

Wire formats follow ../shared/reference/external-apis.md section 4: `/authorize`, `/token`
(OAuth errors as 400 JSON), `GET /1/thermostat?body=|json=`, `/1/thermostatSummary`, and
`POST /1/thermostat` functions setHold / resumeProgram. API errors come back as HTTP 500 with
`{"status": {"code": N, "message": ...}}` (14 = access token expired, 16 = deauthorized).

    fake = FakeEcobee(pin_interval_s=1).start()   # fake.host -> "127.0.0.1:PORT"
    fake.approve_pin()                             # the user typed the PIN at ecobee.com
    fake.set_thermostat(TSTAT_ID, actualTemperature=640, demand="heatPump,fan")
"""
from __future__ import annotations

import argparse
import json
import math
import secrets
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from sim.secrets import FAKE_CLOUD

from .ecobee_thermostat import TSTAT_ID, ApiError, Thermostat, flag

__all__ = ["FakeEcobee", "Thermostat", "TSTAT_ID", "main"]


class OAuthError(Exception):
    def __init__(self, error: str, description: str, http: int = 400):
        super().__init__(error)
        self.error, self.description, self.http = error, description, http


class FakeEcobee:
    def __init__(self, app_key: str = FAKE_CLOUD["ecobee"]["app_key"], *, pin_interval_s: int = 30,
                 pin_ttl_s: float = 540, access_ttl_s: float = 3599, rotate_refresh: bool = True,
                 old_refresh_valid: bool = True, now: Callable[[], datetime] | None = None,
                 auto_approve_s: float | None = None):
        self.app_key = app_key
        self.pin_interval_s, self.pin_ttl_s, self.access_ttl_s = pin_interval_s, pin_ttl_s, access_ttl_s
        self.enforce_interval_s: float | None = None  # slow_down threshold (default: the interval)
        self.rotate_refresh, self.old_refresh_valid = rotate_refresh, old_refresh_valid
        self.auto_approve_s = auto_approve_s  # demo: a PIN counts as entered this long after issue
        self.deauthorized = False  # every API call -> code 16
        self.auth_failed = False  # every API call -> code 1
        self.fail_next: list[int] = []  # HTTP statuses to answer the next API calls with (e.g. 503)
        self.write_latency_s = 0.0  # a slow POST /1/thermostat (the cloud relaying to the thermostat)
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.lock = threading.RLock()
        self.thermostats: dict[str, Thermostat] = {TSTAT_ID: Thermostat()}
        self.pins: dict[str, dict] = {}  # auth code -> pin state
        self.access: dict[str, float] = {}  # token -> expiry (time.monotonic)
        self.refresh: set[str] = set()
        self.log: list[dict] = []
        self.on_api: list[Callable[[dict], None]] = []  # called with each API request entry
        self.server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self, port: int = 0) -> "FakeEcobee":
        fake = self

        class Handler(_Handler):
            pass
        Handler.fake = fake
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True, name="fake-ecobee").start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    # ------------------------------------------------------------ test hooks
    def approve_pin(self, pin: str | None = None) -> None:
        with self.lock:
            for st in self.pins.values():
                if pin is None or st["pin"] == pin:
                    st["approved"] = True

    def issue_tokens(self) -> dict:
        with self.lock:
            return self._issue(new_refresh=None)

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access = {t: 0.0 for t in self.access}

    def set_thermostat(self, identifier: str = TSTAT_ID, **fields) -> None:
        """actualTemperature, demand, connected, hvacMode, heatRangeLow... (°F x 10)."""
        with self.lock:
            t = self.thermostats[identifier]
            for k, v in fields.items():
                if k in t.settings:
                    t.settings[k] = v
                elif k in t.program:
                    t.program[k] = v
                elif hasattr(t, k) and k not in ("events", "revs", "settings", "program"):
                    setattr(t, k, v)
                else:
                    raise KeyError(k)

    def user_hold(self, heat: int = 680, cool: int = 780, hours: int = 2, identifier: str = TSTAT_ID) -> None:
        """A person sets a hold in the ecobee app (°F x 10)."""
        with self.lock:
            self.thermostats[identifier].set_hold({"holdType": "holdHours", "holdHours": hours,
                                                   "heatHoldTemp": heat, "coolHoldTemp": cool}, self.now())

    def hold_of(self, identifier: str = TSTAT_ID) -> dict | None:
        with self.lock:
            t = self.thermostats[identifier]
            t.refresh(self.now())
            h = t.hold()
            return dict(h) if h else None

    def calls(self, method: str | None = None, path: str | None = None, function: str | None = None) -> list[dict]:
        with self.lock:
            out = [e for e in self.log if (method is None or e["method"] == method)
                   and (path is None or e["path"] == path)]
        if function:
            out = [e for e in out if any(f.get("type") == function for f in (e["body"] or {}).get("functions", []))]
        return out

    # ------------------------------------------------------------ endpoints
    def _issue(self, new_refresh: str | None) -> dict:
        access = "at-" + secrets.token_urlsafe(24)
        self.access[access] = time.monotonic() + self.access_ttl_s
        refresh = new_refresh or "rt-" + secrets.token_urlsafe(16)
        self.refresh.add(refresh)
        return {"access_token": access, "token_type": "Bearer", "expires_in": int(self.access_ttl_s),
                "refresh_token": refresh, "scope": "smartWrite"}

    def authorize(self, q: dict) -> dict:
        if q.get("client_id") != self.app_key:
            raise OAuthError("invalid_client", "Unknown client_id.", 401)
        if q.get("response_type") != "ecobeePin":
            raise OAuthError("invalid_request", "response_type must be ecobeePin.")
        pin = "-".join(secrets.token_hex(2).upper() for _ in range(2))
        code = secrets.token_urlsafe(12)
        self.pins[code] = {"pin": pin, "approved": False, "last_poll": None, "issued": time.monotonic(),
                           "expires": time.monotonic() + self.pin_ttl_s}
        return {"ecobeePin": pin, "code": code, "scope": q.get("scope", "smartWrite"),
                "expires_in": math.ceil(self.pin_ttl_s / 60), "interval": self.pin_interval_s}

    def token(self, q: dict) -> dict:
        if q.get("client_id") != self.app_key:
            raise OAuthError("invalid_client", "Unknown client_id.", 401)
        grant = q.get("grant_type")
        if grant == "ecobeePin":
            st = self.pins.get(q.get("code", ""))
            if st is None:
                raise OAuthError("invalid_grant", "Unknown authorization code.")
            mono = time.monotonic()
            if mono > st["expires"]:
                raise OAuthError("authorization_expired", "The authorization has expired.")
            last, st["last_poll"] = st["last_poll"], mono
            floor = self.enforce_interval_s if self.enforce_interval_s is not None else self.pin_interval_s
            if last is not None and mono - last < floor * 0.9:
                raise OAuthError("slow_down", "Polling too fast; wait interval seconds between polls.")
            if self.auto_approve_s is not None and mono - st["issued"] >= self.auto_approve_s:
                st["approved"] = True
            if not st["approved"]:
                raise OAuthError("authorization_pending", "Waiting for the user to authorize the PIN.")
            del self.pins[q["code"]]
            return self._issue(None)
        if grant == "refresh_token":
            rt = q.get("refresh_token") or q.get("code") or ""
            if rt not in self.refresh:
                raise OAuthError("invalid_grant", "The refresh token is invalid.")
            for t in self.access:  # refreshing expires the old access tokens
                self.access[t] = 0.0
            if self.rotate_refresh and not self.old_refresh_valid:
                self.refresh.discard(rt)
            return self._issue(None if self.rotate_refresh else rt)
        raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported.")

    def check_token(self, header: str) -> None:
        if self.deauthorized:
            raise ApiError(16)
        if self.auth_failed:
            raise ApiError(1)
        token = header[7:] if header.startswith("Bearer ") else ""
        if token not in self.access:
            raise ApiError(1)
        if time.monotonic() >= self.access[token]:
            raise ApiError(14)

    def select(self, sel: dict) -> list[Thermostat]:
        kind = sel.get("selectionType")
        if kind == "registered":
            return list(self.thermostats.values())
        if kind == "thermostats":
            ids = [i for i in str(sel.get("selectionMatch", "")).split(",") if i]
            if not ids or any(i not in self.thermostats for i in ids):
                raise ApiError(2, "Not authorized (unknown thermostat).")
            return [self.thermostats[i] for i in ids]
        raise ApiError(9, f"Invalid selectionType {kind!r}.")

    def get_thermostats(self, sel: dict) -> dict:
        now = self.now()
        ts = self.select(sel)
        for t in ts:
            t.refresh(now)
        return {"page": {"page": 1, "totalPages": 1, "pageSize": len(ts), "total": len(ts)},
                "thermostatList": [t.body(now, sel) for t in ts], "status": {"code": 0, "message": ""}}

    def summary(self, sel: dict) -> dict:
        now = self.now()
        ts = self.select(sel)
        for t in ts:
            t.refresh(now)
        out = {"thermostatCount": len(ts),
               "revisionList": [f"{t.identifier}:{t.name}:{str(t.connected).lower()}:{t.revs['thermostat']}:"
                                f"260101000000:{t.revs['runtime']}:260101000000" for t in ts],
               "status": {"code": 0, "message": ""}}
        if flag(sel, "includeEquipmentStatus"):
            out["statusList"] = [f"{t.identifier}:{t.equipment()}" for t in ts]
        return out

    def functions(self, body: dict) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("functions"), list):
            raise ApiError(5, "functions must be a list.")
        now = self.now()
        ts = self.select(body.get("selection") or {})
        for t in ts:
            t.refresh(now)
        for fn in body["functions"]:
            params = fn.get("params") or {}
            for t in ts:
                if fn.get("type") == "setHold":
                    t.set_hold(params, now)
                elif fn.get("type") == "resumeProgram":
                    t.resume(params)
                elif fn.get("type") != "sendMessage":
                    raise ApiError(8, f"Invalid function {fn.get('type')!r}.")
        for t in ts:
            t.refresh(now)
        return {"status": {"code": 0, "message": ""}}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeEcobee
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # keep test output quiet
        pass

    def _send(self, status: int, data: dict) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _handle(self, method: str) -> None:
        fake = self.fake
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = None
        if method == "POST" and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                q.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})  # form-encoded /token
        sel_raw = q.get("body") or q.get("json")
        entry = {"method": method, "path": url.path, "query": q, "body": body,
                 "token": (self.headers.get("Authorization") or "")[7:], "t": time.monotonic()}
        with fake.lock:
            fake.log.append(entry)
        try:
            with fake.lock:
                if url.path == "/authorize" and method == "GET":
                    return self._send(200, fake.authorize(q))
                if url.path == "/token" and method == "POST":
                    return self._send(200, fake.token(q))
                if url.path not in ("/1/thermostat", "/1/thermostatSummary"):
                    return self._send(404, {"status": {"code": 3, "message": "Not found."}})
                if fake.fail_next:
                    status = fake.fail_next.pop(0)
                    return self._send(status, {"status": {"code": 3, "message": "Processing error."}})
                fake.check_token(self.headers.get("Authorization") or "")
            for hook in list(fake.on_api):
                hook(entry)
            with fake.lock:
                if method == "POST" and url.path == "/1/thermostat":
                    time.sleep(fake.write_latency_s)
                    return self._send(200, fake.functions(body))
                try:
                    sel = json.loads(sel_raw or "")["selection"]
                except (ValueError, KeyError, TypeError):
                    raise ApiError(4, "body/json must be JSON with a selection.") from None
                if url.path == "/1/thermostatSummary":
                    return self._send(200, fake.summary(sel))
                return self._send(200, fake.get_thermostats(sel))
        except OAuthError as e:
            self._send(e.http, {"error": e.error, "error_description": e.description,
                                "error_uri": "https://tools.ietf.org/html/rfc6749#section-5.2"})
        except ApiError as e:
            self._send(500, {"status": {"code": e.code, "message": e.message}})

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")


def main(argv: list[str] | None = None) -> int:
    """`python -m sim.fakes.ecobee --port 8089`: the fake for `make demo`; PINs approve themselves."""
    ap = argparse.ArgumentParser(prog="python -m sim.fakes.ecobee")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--pin-interval", type=int, default=2, help="seconds between token polls ecobee asks for")
    ap.add_argument("--approve-after", type=float, default=5, help="a PIN is 'entered' this long after issue")
    args = ap.parse_args(argv)
    fake = FakeEcobee(pin_interval_s=args.pin_interval, auto_approve_s=args.approve_after).start(args.port)
    print(f"fake ecobee on http://{fake.host} (set ecobee.api_host: {fake.host})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
