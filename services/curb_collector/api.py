"""Curb REST calls (`/api/v3/locations`, `/api/v3/latest/:id`) with the bearer token.

A 401 means the token expired or was revoked: refresh and try again; a second 401 drops the
refresh token and logs in with the password; a third is an error.
"""
from __future__ import annotations

import logging
from urllib.parse import quote

import requests

from .auth import CurbAuth
from .transport import ApiError, RateLimited, error_text, retry_after

log = logging.getLogger(__name__)

LOCATIONS_PATH = "/api/v3/locations"
LATEST_PATH = "/api/v3/latest/{location}"


class CurbApi:
    def __init__(self, session: requests.Session, api_base: str, auth: CurbAuth, timeout_s: float):
        self.session, self.api_base, self.auth, self.timeout_s = session, api_base, auth, timeout_s

    def get(self, path: str):
        url = self.api_base + path
        for attempt in range(3):
            headers = {"Authorization": f"Bearer {self.auth.access_token()}",
                       "Accept": "application/json"}
            try:
                resp = self.session.get(url, headers=headers, timeout=self.timeout_s)
            except requests.RequestException as exc:
                raise ApiError(f"cannot reach the Curb API ({self.api_base}): {type(exc).__name__}") from None
            if resp.status_code != 401:
                break
            log.info("Curb API answered 401 on %s: %s", path, "refreshing the token" if attempt == 0
                     else "logging in again")
            self.auth.invalidate(drop_refresh=attempt >= 1)
        else:
            raise ApiError("the Curb API refuses fresh tokens (HTTP 401 after a new login)")
        if resp.status_code == 429:
            raise RateLimited("the Curb API rate-limited us (429)", retry_after(resp))
        if resp.status_code == 404 and path.startswith("/api/v3/latest/"):
            raise ApiError(f"Curb has no location {path.rsplit('/', 1)[-1]!r} for this account: "
                           f"check curb.location_id")
        if resp.status_code != 200:
            raise ApiError(f"the Curb API answered HTTP {resp.status_code} on {path}: {error_text(resp)[:120]}")
        try:
            return resp.json()
        except ValueError:
            raise ApiError(f"the Curb API answered {path} with a body that is not JSON: "
                           f"{resp.text[:60]!r}") from None

    def locations(self) -> list[dict]:
        data = self.get(LOCATIONS_PATH)
        if not isinstance(data, list) or not all(isinstance(x, dict) and x.get("id") for x in data):
            raise ApiError(f"{LOCATIONS_PATH}: expected a list of locations with ids")
        return data

    def latest(self, location_id: str):
        return self.get(LATEST_PATH.format(location=quote(location_id, safe="")))
