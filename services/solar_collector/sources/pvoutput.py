"""pvoutput.org: GET /service/r2/getstatus.jsp -> one CSV line, power in field 4.

Keys go in headers (X-Pvoutput-Apikey / X-Pvoutput-SystemId), never in the URL, and
`X-Rate-Limit: 1` asks for the rate headers: when X-Rate-Limit-Remaining reaches 0 the
source pauses until X-Rate-Limit-Reset (the top of the hour). A 403 "Exceeded number
requests per hour" pauses the same way. Date and time are the system's local time
(site.timezone).
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from circuitq.config import ConfigError

from ..core import (AuthError, BadData, NoData, RateLimited, Sample, SourceError, epoch_to_dt, next_hour,
                    parse_watts)
from ..http import make_session, request, server_trouble

PATH = "/service/r2/getstatus.jsp"


def parse_status(text: str, tz: ZoneInfo) -> Sample:
    """`20211222,18:00,3636,0,NaN,NaN,NaN,21.2,220.1` -> Sample(0 W, 18:00 local)."""
    line = text.strip()
    fields = line.split(",")
    if "\n" in line or len(fields) < 4:
        raise BadData("getstatus answer is not one CSV line of at least 4 fields", raw=line[:200])
    try:
        local = datetime.strptime(f"{fields[0]} {fields[1]}", "%Y%m%d %H:%M")
    except ValueError:
        raise BadData(f"bad date/time {fields[0]!r} {fields[1]!r}", raw=line[:200]) from None
    # fold=0: in the repeated autumn hour pick the first; a 1 h error only makes it look staler.
    ts = local.replace(tzinfo=tz)
    try:
        return Sample(parse_watts(fields[3], "power (field 4)"), ts, line[:200])
    except BadData as exc:
        exc.raw = line[:200]  # the whole status line, for the error report
        raise


def parse_rate(headers, now: datetime) -> tuple[int | None, datetime | None]:
    """(X-Rate-Limit-Remaining, X-Rate-Limit-Reset); None for a missing or garbled header."""
    remaining = reset = None
    try:
        remaining = int(float(headers["X-Rate-Limit-Remaining"]))
    except (KeyError, ValueError):
        pass
    try:
        reset = epoch_to_dt(headers["X-Rate-Limit-Reset"], "X-Rate-Limit-Reset")
    except (KeyError, BadData):
        pass
    return remaining, reset


class PVOutput:
    def __init__(self, src, ctx):
        sec = ctx.secrets.pvoutput
        if sec is None:
            raise ConfigError(f"solar source {src.label!r}: the secrets file has no `pvoutput:` "
                              "section (api_key, system_id)")
        self.src, self.tz = src, ctx.cfg.site.tz
        self.url = src.host + PATH
        self.describe = self.url
        self.pause_until: datetime | None = None
        self.session = make_session(src.retries)
        self.session.headers.update({"X-Pvoutput-Apikey": sec.api_key, "X-Pvoutput-SystemId": sec.system_id,
                                     "X-Rate-Limit": "1"})

    def first_delay(self, now: datetime) -> float:
        return 0.0

    def read(self, now: datetime) -> Sample:
        r = request(self.session, "GET", self.url, self.src.timeout_s)
        remaining, reset = parse_rate(r.headers, now)
        self.pause_until = None
        if remaining is not None and remaining <= 0:
            # The last call of this hour: the next one would be a 403.
            self.pause_until = reset if reset and reset > now else next_hour(now)
        text = r.text.strip()
        if r.status_code == 403 and "exceeded" in text.lower():
            until = reset if reset and reset > now else next_hour(now)
            raise RateLimited(f"PVOutput: {text[:80]}; pausing until {until:%H:%M:%S}Z", raw=text[:200],
                              not_before=until)
        if r.status_code in (401, 403):
            raise AuthError(f"PVOutput: {text[:120]}", raw=text[:200])
        if r.status_code == 400:
            raise NoData(f"PVOutput has no status: {text[:120]}", raw=text[:200])
        if r.status_code >= 500:
            raise server_trouble(r, self.url)
        if r.status_code != 200:
            raise SourceError(f"PVOutput: HTTP {r.status_code}: {text[:120]}", raw=text[:200])
        return parse_status(text, self.tz)
