"""The requests session every cloud client uses: a user agent, bounded retries with backoff.

Each caller says which methods are safe to retry (a rotating refresh token must not be
POSTed twice) and which statuses mean "try again"; 429 is never retried here, because each
API says differently how long to wait and the caller must wait off the event loop.
"""
from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


def make_session(service: str, retries: int, backoff_s: float, *,
                 methods: tuple[str, ...] = ("GET",), statuses: tuple[int, ...] = (502, 503, 504),
                 honour_retry_after: bool = True, verify: bool = True,
                 trust_env: bool = True) -> requests.Session:
    retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                  backoff_factor=backoff_s, status_forcelist=statuses,
                  allowed_methods=frozenset(methods), raise_on_status=False,
                  respect_retry_after_header=honour_retry_after)
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    s.headers["User-Agent"] = f"circuitq-{service}"
    s.verify = verify
    s.trust_env = trust_env
    return s
