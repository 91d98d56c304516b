"""Enphase Enlighten API v4 (cloud): GET /api/v4/systems/{id}/summary -> current_power.

- Every call carries both `?key=<api key>` and `Authorization: Bearer <access token>`.
- The refresh token ROTATES: each refresh returns a new one and the old one dies, so the new
  one is written to state_dir (atomic, mode 600) before the access token is used.
- Budget: the plan's calls per month (Watt: 1000 -> one call per 45 min). The time of the
  last call and any 429 back-off are persisted so a restart loop cannot burn the budget.
- 429 has no Retry-After header: back off until `period_end`, else the next minute/month.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from circuitq.config import ConfigError
from circuitq.state import read_json, write_json_atomic

from ..core import (AuthError, BadData, RateLimited, Sample, SourceError, TokenRejected,
                    epoch_to_dt, next_minute, next_month, parse_watts)
from ..http import make_session, request, server_trouble

TOKEN_PATH = "/oauth/token"
SUMMARY_PATH = "/api/v4/systems/{system_id}/summary"
EARLY_REFRESH_S = 600  # refresh an access token this long before it expires


def parse_summary(data) -> Sample:
    """v4 summary JSON -> Sample(current_power, last_report_at)."""
    if not isinstance(data, dict):
        raise BadData("summary is not a JSON object", raw=str(data)[:200])
    raw = str({k: data.get(k) for k in ("current_power", "last_report_at", "status")})
    if "current_power" not in data or data.get("last_report_at") in (None, ""):
        raise BadData("summary has no current_power/last_report_at", raw=raw)
    w = parse_watts(data["current_power"], "current_power")
    return Sample(w, epoch_to_dt(data["last_report_at"], "last_report_at"), raw)


def rate_limit_until(body, now: datetime) -> datetime:
    """When a 429 ends: `period_end` if given and future, else the next minute or month."""
    body = body if isinstance(body, dict) else {}
    end = body.get("period_end")
    if end not in (None, ""):
        try:
            when = epoch_to_dt(end, "period_end")
            if when > now:
                return when
        except BadData:
            pass
    return next_month(now) if body.get("period") == "month" else next_minute(now)


def _sha(text: str | None) -> str | None:
    return hashlib.sha256(text.encode()).hexdigest()[:16] if text else None


class Enlighten:
    def __init__(self, src, ctx):
        sec = ctx.secrets.enphase
        if sec is None:
            raise ConfigError(f"solar source {src.label!r}: the secrets file has no `enphase:` "
                              "section (api_key, client_id, client_secret, refresh_token)")
        self.src, self.sec, self.log = src, sec, ctx.log
        self.interval_s = src.interval_s
        self.token_url = src.host + TOKEN_PATH
        self.summary_url = src.host + SUMMARY_PATH.format(system_id=src.system_id)
        self.describe = self.summary_url
        self.path = ctx.state_path(f"solar_{src.label}.json")
        self.session = make_session(src.retries)
        self.pause_until: datetime | None = None
        try:
            self.state = read_json(self.path, {})
        except OSError as exc:  # unreadable: start from the secrets rather than crash
            self.log.warning("cannot read %s (%s); starting from the secrets file", self.path, exc)
            self.state = {}
        self._adopt_secrets()

    # ------------------------------------------------------------ token state
    def _adopt_secrets(self) -> None:
        """A new auth_code or refresh_token in the secrets file (the user re-authorised)
        replaces the persisted chain; otherwise the persisted, rotated token is used."""
        st = self.state
        if self.sec.auth_code and _sha(self.sec.auth_code) != st.get("code_sha"):
            self.state = {"auth_code": self.sec.auth_code, "code_sha": _sha(self.sec.auth_code),
                          "seed_sha": _sha(self.sec.refresh_token), "last_call": st.get("last_call")}
        elif self.sec.refresh_token and _sha(self.sec.refresh_token) != st.get("seed_sha"):
            self.state = {"refresh_token": self.sec.refresh_token, "seed_sha": _sha(self.sec.refresh_token),
                          "code_sha": st.get("code_sha"), "last_call": st.get("last_call")}
        if self.state != st:
            write_json_atomic(self.path, self.state)

    def _save(self, **changes) -> None:
        self.state.update(changes)
        write_json_atomic(self.path, self.state)

    def first_delay(self, now: datetime) -> float:
        waits = [0.0]
        if self.state.get("last_call"):
            waits.append(self.state["last_call"] + self.interval_s - now.timestamp())
        if self.state.get("not_before"):
            waits.append(self.state["not_before"] - now.timestamp())
        return max(waits)

    def _token(self, now: datetime) -> str:
        tok, exp = self.state.get("access_token"), self.state.get("expires_at", 0)
        if tok and exp - EARLY_REFRESH_S > now.timestamp():
            return tok
        return self._refresh(now)

    def _refresh(self, now: datetime) -> str:
        if self.state.get("auth_code"):
            params = {"grant_type": "authorization_code", "code": self.state["auth_code"],
                      "redirect_uri": self.src.host + "/oauth/redirect_uri"}
        elif self.state.get("refresh_token"):
            params = {"grant_type": "refresh_token", "refresh_token": self.state["refresh_token"]}
        else:
            raise TokenRejected("no Enlighten refresh token or auth code: authorise circuitq in "
                                "the Enphase developer portal and put the code in the secrets file")
        # Not retried: a lost answer to a successful refresh has already rotated the token.
        r = request(self.session, "POST", self.token_url, self.src.timeout_s, params=params,
                    auth=(self.sec.client_id, self.sec.client_secret))
        if r.status_code == 429:
            raise RateLimited("token endpoint: HTTP 429", not_before=rate_limit_until(_json(r), now))
        if r.status_code >= 500:
            raise server_trouble(r, self.token_url)
        if r.status_code != 200:
            # Expired, revoked or already used, or a wrong client secret: only the user can fix
            # it. The token is kept (a fixed client secret makes it work again); retries are
            # slow (max_backoff_s) and token calls do not count against the plan.
            self._save(access_token=None)
            raise TokenRejected(f"Enlighten refused the {params['grant_type']} (HTTP {r.status_code}): "
                                "authorise circuitq again and put the new code or refresh token in "
                                "the secrets file (or check client_id/client_secret)", raw=r.text[:200])
        data = _json(r)
        if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
            raise BadData("token answer without access_token/refresh_token", raw=r.text[:80])
        # Persist the rotated refresh token BEFORE using the access token.
        self._save(refresh_token=data["refresh_token"], access_token=data["access_token"], auth_code=None,
                   expires_at=now.timestamp() + float(data.get("expires_in", 86400)))
        self.log.info("enlighten %s: access token refreshed (refresh token rotated and saved)", self.src.label)
        return data["access_token"]

    # ------------------------------------------------------------ read
    def read(self, now: datetime) -> Sample:
        self.pause_until = None
        resp = self._summary(now, self._token(now))
        if resp.status_code == 401 and "mismatch" not in resp.text.lower():
            self.log.info("enlighten %s: 401 on summary; refreshing the access token", self.src.label)
            resp = self._summary(now, self._refresh(now))
        if resp.status_code == 401:
            raise AuthError(f"Enlighten refused the call (401): {_details(resp)}; check api_key and "
                            "client_id belong to the same application", raw=resp.text[:200])
        if resp.status_code == 429:
            until = rate_limit_until(_json(resp), now)
            self._save(not_before=until.timestamp())
            raise RateLimited(f"Enlighten usage limit: {_details(resp)}; pausing until {until:%Y-%m-%d %H:%M:%S}Z",
                              raw=resp.text[:200], not_before=until)
        if resp.status_code >= 500:
            raise server_trouble(resp, self.summary_url)
        if resp.status_code != 200:
            raise SourceError(f"Enlighten summary: HTTP {resp.status_code}: {_details(resp)}", raw=resp.text[:200])
        return parse_summary(_json(resp))

    def _summary(self, now: datetime, token: str):
        self._save(last_call=now.timestamp(), not_before=None)  # counts against the budget
        return request(self.session, "GET", self.summary_url, self.src.timeout_s,
                       params={"key": self.sec.api_key}, headers={"Authorization": f"Bearer {token}"})


def _json(resp):
    try:
        return resp.json()
    except ValueError:
        return None


def _details(resp) -> str:
    body = _json(resp)
    if isinstance(body, dict):
        return str(body.get("details") or body.get("message") or body)[:160]
    return resp.text[:160]

