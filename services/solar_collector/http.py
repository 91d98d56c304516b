"""requests sessions for the HTTP sources: timeouts, bounded retries with backoff.

Only idempotent GETs are retried (on connection errors and 502/503/504). POSTs are not:
the Enlighten refresh token rotates, so a retried refresh could burn the new token.
429 and 403 are never retried here; the drivers turn them into RateLimited.
"""
from __future__ import annotations

import re

import requests

from circuitq.http import make_session as shared_session

from .core import SourceError, Unreachable


def make_session(retries: int, *, verify: bool = True) -> requests.Session:
    # no proxy from the environment in front of a LAN gateway or an API key
    return shared_session("solar-collector", retries, 0.5, verify=verify, trust_env=False)


def request(session: requests.Session, method: str, url: str, timeout_s: float, **kw) -> requests.Response:
    """One call; network trouble becomes Unreachable (the URL is logged without its query,
    which carries the Enlighten API key)."""
    try:
        return session.request(method, url, timeout=timeout_s, **kw)
    except requests.exceptions.SSLError as exc:
        raise SourceError(f"TLS error from {url.split('?')[0]}: {_short(exc)}") from None
    except requests.exceptions.RequestException as exc:
        raise Unreachable(f"{url.split('?')[0]}: {type(exc).__name__}: {_short(exc)}") from None


def _short(exc: Exception) -> str:
    """The useful part of a requests error, never a query string (the Enlighten key is one)."""
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    text = re.sub(r"\?[^\s'\")]*", "?...", str(exc))
    errno = re.search(r"\[(?:Errno -?\d+|SSL: [A-Z_]+)\] ([^'\"()\]]+)", text)
    if errno:
        return errno.group(1).strip()
    return text if len(text) < 160 else text[:157] + "..."


def server_trouble(resp: requests.Response, url: str) -> Unreachable:
    return Unreachable(f"{url}: HTTP {resp.status_code}", raw=resp.text[:200])
