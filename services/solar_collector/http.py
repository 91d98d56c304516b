"""requests sessions for the HTTP sources: timeouts, bounded retries with backoff.

Only idempotent GETs are retried (on connection errors and 502/503/504). POSTs are not:
the Enlighten refresh token rotates, so a retried refresh could burn the new token.
429 and 403 are never retried here; the drivers turn them into RateLimited.
"""
from __future__ import annotations

import re

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .core import SourceError, Unreachable

USER_AGENT = "circuitq-solar-collector/0.1"


def make_session(retries: int, *, verify: bool = True) -> requests.Session:
    s = requests.Session()
    retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                  backoff_factor=0.5, status_forcelist=(502, 503, 504),
                  allowed_methods=frozenset({"GET"}), raise_on_status=False,
                  respect_retry_after_header=True)
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = USER_AGENT
    s.verify = verify
    s.trust_env = False  # no proxy from the environment in front of a LAN gateway or API key
    return s


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
