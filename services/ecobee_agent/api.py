"""HTTP client for api.ecobee.com: tokens, retries with backoff, the four calls we need.

- an expired access token comes back as `status.code == 14` (usually HTTP 500): refresh once
  and retry; whatever refresh token comes back is stored BEFORE the new access token is used;
- codes 1 and 16, or a refused refresh token, raise ReauthorizeNeeded (run `authorize`);
- network errors, 429 and 5xx without an ecobee status are retried with doubling backoff;
- a semaphore keeps at most 2 requests in flight (ecobee asks for no more than 2-3).
"""
from __future__ import annotations

import json
import logging
import threading
import time

import requests

from circuitq.config.ecobee import EcobeeConfig

from .store import Tokens, TokenStore, tokens_from_response

log = logging.getLogger(__name__)
REFRESH_MARGIN_S = 60  # refresh this long before the stated expiry (tokens expire early)
MAX_IN_FLIGHT = 2
REAUTH_CODES = {1: "authentication failed", 16: "the user deauthorized circuitq"}


class EcobeeError(Exception):
    def __init__(self, message: str, code: int | None = None, http: int | None = None):
        super().__init__(message)
        self.code, self.http = code, http


class ReauthorizeNeeded(EcobeeError):
    """Tokens are missing, refused or deauthorized: a person must run `authorize` again."""


class EcobeeApi:
    def __init__(self, cfg: EcobeeConfig, app_key: str, store: TokenStore, now_epoch=time.time):
        self.cfg, self.app_key, self.store = cfg, app_key, store
        self.base = cfg.base_url
        self.now_epoch = now_epoch
        self._refresh_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        self._local = threading.local()

    # ------------------------------------------------------------ transport
    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
        return s

    def _http(self, method: str, path: str, **kw) -> requests.Response:
        """One request with retries on network errors, 429 and bare 5xx (not ecobee statuses)."""
        delay = self.cfg.backoff_s
        for attempt in range(self.cfg.retries + 1):
            try:
                with self._slots:
                    r = self._session().request(method, self.base + path, timeout=self.cfg.timeout_s, **kw)
            except requests.RequestException as exc:
                err: Exception = exc
            else:
                if r.status_code < 500 and r.status_code != 429:
                    return r
                if r.status_code >= 500 and _status_code(r) not in (None, 3):
                    return r  # an ecobee status (14, 16, 7...) is an answer, not an outage
                err = EcobeeError(f"HTTP {r.status_code} from {path}", _status_code(r), r.status_code)
            if attempt < self.cfg.retries:
                log.info("ecobee %s %s failed (%s); retry in %.1f s", method, path, err, delay)
                time.sleep(delay)
                delay *= 2
        raise EcobeeError(f"ecobee {path} unreachable after {self.cfg.retries + 1} attempts: {err}")

    # ------------------------------------------------------------ tokens
    def tokens(self) -> Tokens:
        t = self.store.load()
        if t is None:
            raise ReauthorizeNeeded(f"no ecobee tokens in {self.store.path}")
        if t.expires_at - REFRESH_MARGIN_S < self.now_epoch():
            t = self.refresh(t.access_token)
        return t

    def refresh(self, stale_access: str | None = None) -> Tokens:
        with self._refresh_lock:
            cur = self.store.load()
            if cur is None:
                raise ReauthorizeNeeded(f"no ecobee tokens in {self.store.path}")
            if stale_access is not None and cur.access_token != stale_access:
                return cur  # another request (or `authorize`) already replaced it
            r = self._http("POST", "/token", params={"grant_type": "refresh_token",
                                                    "refresh_token": cur.refresh_token,
                                                    "client_id": self.app_key})
            d = _json(r)
            if r.status_code == 200 and d.get("access_token"):
                new = tokens_from_response({"refresh_token": cur.refresh_token, **d}, self.now_epoch())
                self.store.save(new)  # before any use: the old refresh token may be dead now
                log.info("ecobee tokens refreshed (refresh token %s)",
                         "rotated" if new.refresh_token != cur.refresh_token else "unchanged")
                return new
            error = d.get("error", f"HTTP {r.status_code}")
            if r.status_code in (400, 401):
                raise ReauthorizeNeeded(f"ecobee refused the refresh token: {error} {d.get('error_description', '')}".strip(),
                                        http=r.status_code)
            raise EcobeeError(f"token refresh failed: {error}", http=r.status_code)

    # ------------------------------------------------------------ API calls
    def call(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None) -> dict:
        tokens = self.tokens()
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {tokens.access_token}",
                       "Content-Type": "application/json;charset=UTF-8"}
            r = self._http(method, path, params=params, headers=headers,
                           data=json.dumps(body) if body is not None else None)
            d = _json(r)
            code = _status_code(r)
            if code == 0 and r.status_code == 200:
                return d
            message = (d.get("status") or {}).get("message", "") if isinstance(d, dict) else ""
            if code == 14 and attempt == 1:  # whatever the HTTP status (Pyecobee does the same)
                log.info("ecobee access token expired; refreshing")
                tokens = self.refresh(tokens.access_token)
                continue
            if code in REAUTH_CODES:
                raise ReauthorizeNeeded(f"ecobee code {code} ({REAUTH_CODES[code]}): {message}", code, r.status_code)
            raise EcobeeError(f"ecobee {path}: code {code} {message}".strip(), code, r.status_code)
        raise EcobeeError("ecobee access token still expired after a refresh", 14)

    @staticmethod
    def _selection(ids: list[str], **include) -> dict:
        return {"selectionType": "thermostats", "selectionMatch": ",".join(ids), **include}

    def summary(self, ids: list[str]) -> dict:
        sel = self._selection(ids, includeEquipmentStatus=True)
        return self.call("GET", "/1/thermostatSummary", params={"json": json.dumps({"selection": sel})})

    def thermostats(self, ids: list[str]) -> dict:
        sel = self._selection(ids, includeRuntime=True, includeSettings=True,
                              includeEquipmentStatus=True, includeEvents=True)
        return self.call("GET", "/1/thermostat", params={"format": "json", "body": json.dumps({"selection": sel})})

    def set_hold(self, identifier: str, params: dict) -> dict:
        return self.call("POST", "/1/thermostat", params={"format": "json"}, body={
            "selection": self._selection([identifier]),
            "functions": [{"type": "setHold", "params": params}]})

    def resume(self, identifier: str) -> dict:
        return self.call("POST", "/1/thermostat", params={"format": "json"}, body={
            "selection": self._selection([identifier]),
            "functions": [{"type": "resumeProgram", "params": {"resumeAll": False}}]})


def _json(r: requests.Response) -> dict:
    try:
        d = r.json()
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


def _status_code(r: requests.Response) -> int | None:
    st = _json(r).get("status")
    if isinstance(st, dict) and isinstance(st.get("code"), int):
        return st["code"]
    return None
