"""HTTP plumbing: hard-coded Curb URL prefixes, one requests session with retries, errors.

dreadpi's rule: online APIs use hard-coded URL prefixes. The config may swap only the host
(`curb.auth_host`, `curb.api_host`; plain http only for loopback), never the paths.
"""
from __future__ import annotations

import requests

from circuitq.config.endpoint import parse_endpoint
from circuitq.http import make_session as shared_session

AUTH_PREFIX = "https://energycurb.auth0.com"
API_PREFIX = "https://app.energycurb.com"
TOKEN_PATH = "/oauth/token"
AUDIENCE = "app.energycurb.com/api"


def base_url(default: str, override: str | None) -> str:
    return parse_endpoint(override, any_port=True) if override else default


class CurbError(Exception):
    """A poll failed; the message is a sentence for the health topic."""


class AuthRejected(CurbError):
    """Auth0 refused the credentials: retrying soon will not help, a person must act."""


class RateLimited(CurbError):
    def __init__(self, message: str, retry_after_s: float | None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ApiError(CurbError):
    """Server error, network error, or a body that is not what Curb documents."""


def make_session(retries: int, backoff_s: float) -> requests.Session:
    """Retries connection errors and 5xx with exponential backoff (urllib3: backoff_s * 2**n).

    429 is not retried here: the collector waits Retry-After itself, off the worker thread.
    """
    return shared_session("curb-collector", retries, backoff_s, methods=("GET", "POST"),
                          statuses=(500, 502, 503, 504), honour_retry_after=False)


def retry_after(resp: requests.Response) -> float | None:
    try:
        return float(resp.headers.get("Retry-After", ""))
    except ValueError:
        return None


def error_text(resp: requests.Response) -> str:
    """`error_description` of an Auth0/JSON error, else the start of the body."""
    try:
        data = resp.json()
        if isinstance(data, dict):
            return str(data.get("error_description") or data.get("error") or data)[:200]
    except ValueError:
        pass
    return resp.text[:200]
