"""Curb access tokens: Auth0 password grant, refresh grant, token file in state_dir.

The token file (mode 600, written atomically) survives restarts, so a restart costs no
password grant. A token is refreshed `refresh_margin_s` before it expires (24 h lifetime)
and whenever the API answers 401; a refused refresh token falls back to the password grant.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from circuitq.clock import Clock
from circuitq.config.secrets import CurbSecrets
from circuitq.state import read_json, write_json_atomic

from .transport import AUDIENCE, TOKEN_PATH, ApiError, AuthRejected, RateLimited, error_text, retry_after

log = logging.getLogger(__name__)


@dataclass
class Token:
    access_token: str
    expires_at: float  # epoch seconds (wall time: the file outlives the process)
    refresh_token: str | None
    auth_base: str  # a token from the fake must never be sent to the real host, and back
    username: str
    obtained_at: float = 0.0

    def usable(self, now_epoch: float, margin_s: float) -> bool:
        # never refresh earlier than half-way through a token's life, however short it is
        margin = min(margin_s, max(0.0, (self.expires_at - self.obtained_at) / 2))
        return now_epoch < self.expires_at - margin


class TokenStore:
    def __init__(self, path: Path):
        self.path = path

    def load(self) -> Token | None:
        try:
            data = read_json(self.path)  # missing: None; not JSON: set aside, None
            return Token(**data) if data is not None else None
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring unreadable token file %s: %s", self.path, exc)
            return None

    def save(self, token: Token) -> None:
        write_json_atomic(self.path, asdict(token), what="the Curb login token (a restart costs a new login)")


class _RefreshRefused(Exception):
    pass


class CurbAuth:
    def __init__(self, session: requests.Session, auth_base: str, creds: CurbSecrets | None,
                 store: TokenStore, clock: Clock, *, timeout_s: float, margin_s: float,
                 secrets_file: str, rejection_hold_s: float = 0):
        self.session, self.auth_base, self.creds = session, auth_base, creds
        self.store, self.clock = store, clock
        self.timeout_s, self.margin_s, self.secrets_file = timeout_s, margin_s, secrets_file
        self._token: Token | None = None
        self._loaded = False
        self.grants = {"password": 0, "refresh_token": 0}
        self._lock = threading.RLock()  # the REST worker and the live stream share the token
        # After Auth0 refused the login, say so again without asking it for this long (the
        # live stream reconnects every minute; Auth0 should hear from us every auth_retry_s).
        self.rejection_hold_s = rejection_hold_s
        self._rejected: tuple[float, AuthRejected] | None = None

    # ---------------------------------------------------------------- API
    def access_token(self) -> str:
        with self._lock:
            if self._rejected and self.clock.monotonic() - self._rejected[0] < self.rejection_hold_s:
                raise self._rejected[1]
            try:
                token = self._access_token()
            except AuthRejected as exc:
                self._rejected = (self.clock.monotonic(), exc)
                raise
            self._rejected = None
            return token

    def _access_token(self) -> str:
        if self.creds is None:
            raise AuthRejected(f"no Curb credentials: add curb: username, password, client_id, "
                               f"client_secret to the secrets file {self.secrets_file}")
        tok = self._current()
        now = self.clock.now().timestamp()
        if tok is not None and tok.usable(now, self.margin_s):
            return tok.access_token
        if tok is not None and tok.refresh_token:
            try:
                return self._store(self._grant("refresh_token", refresh_token=tok.refresh_token),
                                   keep_refresh=tok.refresh_token).access_token
            except _RefreshRefused as exc:
                log.warning("Curb refresh token refused (%s); using the password grant", exc)
            except (ApiError, RateLimited):
                if tok.usable(now, 0):  # refreshing early: the current one still works
                    log.warning("Curb token refresh failed; the current token is valid until %s",
                                tok.expires_at, exc_info=True)
                    return tok.access_token
                raise
        return self._store(self._grant("password", username=self.creds.username,
                                       password=self.creds.password, audience=AUDIENCE,
                                       scope="offline_access")).access_token

    def invalidate(self, drop_refresh: bool = False) -> None:
        """The API answered 401: force a refresh (or, with drop_refresh, a password grant)."""
        with self._lock:
            tok = self._current()
            if tok is not None:
                tok.expires_at = 0
                if drop_refresh:
                    tok.refresh_token = None

    # ---------------------------------------------------------------- internals
    def _current(self) -> Token | None:
        if not self._loaded:
            self._loaded = True
            tok = self.store.load()
            if tok and tok.auth_base == self.auth_base and self.creds and tok.username == self.creds.username:
                self._token = tok
        return self._token

    def _store(self, tok: Token, keep_refresh: str | None = None) -> Token:
        tok.refresh_token = tok.refresh_token or keep_refresh  # Auth0 may not rotate it
        self._token = tok
        try:
            self.store.save(tok)
        except OSError as exc:  # still usable in memory; the next restart costs a grant
            log.error("cannot write token file %s: %s", self.store.path, exc)
        return tok

    def _grant(self, grant_type: str, **fields) -> Token:
        assert self.creds is not None
        body = {"grant_type": grant_type, "client_id": self.creds.client_id,
                "client_secret": self.creds.client_secret, **fields}
        url = self.auth_base + TOKEN_PATH
        self.grants[grant_type] += 1
        try:
            resp = self.session.post(url, json=body, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise ApiError(f"cannot reach Curb's Auth0 ({self.auth_base}): {type(exc).__name__}") from None
        if resp.status_code in (400, 401, 403):
            why = error_text(resp)
            if grant_type == "refresh_token":
                raise _RefreshRefused(f"HTTP {resp.status_code}: {why}")
            what = ("client_id and client_secret" if resp.status_code == 401
                    else "username and password")
            raise AuthRejected(f"Curb login refused (HTTP {resp.status_code}: {why}); check "
                               f"curb {what} in the secrets file {self.secrets_file}")
        if resp.status_code == 429:
            raise RateLimited("Curb's Auth0 rate-limited the login (429)", retry_after(resp))
        if resp.status_code != 200:
            raise ApiError(f"Curb's Auth0 answered HTTP {resp.status_code}: {error_text(resp)}")
        try:
            data = resp.json()
            access, expires_in = str(data["access_token"]), float(data.get("expires_in", 86400))
        except (ValueError, KeyError, TypeError):
            raise ApiError("Curb's Auth0 answered 200 without an access_token") from None
        log.info("Curb %s grant: new access token, expires in %.0f s", grant_type, expires_in)
        now = self.clock.now().timestamp()
        return Token(access, now + expires_in, data.get("refresh_token"), self.auth_base,
                     self.creds.username, obtained_at=now)
