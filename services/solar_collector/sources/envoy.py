"""The local Enphase IQ Gateway (Envoy), firmware >= 7: GET /production.json with a bearer token.

The gateway's certificate is self-signed, so TLS verification is off for THIS source only
(its own requests session). The metered `eim` production `wNow` is used when the gateway
has an active production CT, else the microinverters' total; `readingTime` is the content
time.
"""
from __future__ import annotations

import warnings
from datetime import datetime

from urllib3.exceptions import InsecureRequestWarning

from circuitq.config import ConfigError

from ..core import AuthError, BadData, Sample, SourceError, epoch_to_dt, parse_watts
from ..http import make_session, request, server_trouble

PATH = "/production.json?details=1"


def parse_production(data) -> Sample:
    """production.json -> Sample. Non-metered gateways list an eim entry with activeCount 0."""
    prod = data.get("production") if isinstance(data, dict) else None
    if not isinstance(prod, list):
        raise BadData("production.json has no production list", raw=str(data)[:200])
    eim = [p for p in prod if isinstance(p, dict) and p.get("type") == "eim"
           and p.get("measurementType", "production") == "production" and p.get("activeCount", 1)]
    inv = [p for p in prod if isinstance(p, dict) and p.get("type") == "inverters"]
    entry = (eim or inv or [None])[0]
    if entry is None:
        raise BadData("production.json has neither an eim production nor an inverters entry",
                      raw=str(prod)[:200])
    raw = str({k: entry.get(k) for k in ("type", "wNow", "readingTime")})
    try:
        w = parse_watts(entry.get("wNow"), f"{entry['type']} wNow")
    except BadData as exc:
        exc.raw = raw
        raise
    # A metered CT reads a few negative watts at night (inverter standby): that is 0 W.
    if entry["type"] == "eim" and -50 < w < 0:
        w = 0.0
    return Sample(w, epoch_to_dt(entry.get("readingTime"), f"{entry['type']} readingTime"), raw)


class Envoy:
    def __init__(self, src, ctx):
        if ctx.secrets.envoy is None:
            raise ConfigError(f"solar source {src.label!r}: the secrets file has no `envoy: {{token: ...}}`")
        self.src, self.token = src, ctx.secrets.envoy.token
        self.url = src.host + PATH
        self.describe = src.host + "/production.json"
        self.pause_until = None
        self.session = make_session(src.retries, verify=False)
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.session.headers["Accept"] = "application/json"

    def first_delay(self, now: datetime) -> float:
        return 0.0

    def read(self, now: datetime) -> Sample:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureRequestWarning)  # expected: self-signed
            r = request(self.session, "GET", self.url, self.src.timeout_s)
        if r.status_code in (401, 403):
            raise AuthError(f"the IQ Gateway refused the token (HTTP {r.status_code}); owner tokens "
                            "last a year: get a new one from entrez.enphaseenergy.com", raw=r.text[:200])
        if r.status_code >= 500:
            raise server_trouble(r, self.describe)
        if r.status_code != 200:
            raise SourceError(f"{self.describe}: HTTP {r.status_code}", raw=r.text[:200])
        try:
            data = r.json()
        except ValueError:
            raise BadData("production.json is not JSON", raw=r.text[:200]) from None
        return parse_production(data)
