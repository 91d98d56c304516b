"""Fake pvoutput.org: GET /service/r2/getstatus.jsp, plain-text CSV.

    pv = FakePVOutput(tz="America/New_York").start()
    pv.production_w = 2300       # the `set production watts` hook (make demo)
    pv.nan_power = True          # power field is the literal NaN
    pv.status_at = datetime(...) # a stale status (d/t in the system's local time)
    pv.no_data = True            # 400 "no status"
    pv.limit, pv.window_s = 3, 2 # a tiny hourly budget that resets every 2 s (tests)
    pv.exhaust_next = True       # another uploader already spent this hour's budget

Per-key counter resetting at the top of each window (an hour by default); the three
X-Rate-Limit-* headers only when `X-Rate-Limit: 1` was sent; 403 once over the limit.
Wire formats: ../shared/reference/external-apis.md section 3.
"""
from __future__ import annotations

import math
import time
from collections import Counter
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sim.fakes.enphase import FakeServer
from sim.secrets import FAKE_CLOUD


class FakePVOutput(FakeServer):
    def __init__(self, tz: str = "America/New_York", limit: int = 60, window_s: float = 3600, **kw):
        super().__init__(**kw)
        self.api_key, self.system_id = FAKE_CLOUD["pvoutput"]["api_key"], FAKE_CLOUD["pvoutput"]["system_id"]
        self.tz = ZoneInfo(tz)
        self.limit, self.window_s = limit, window_s
        self.used: Counter = Counter()  # (key, window number) -> calls
        self.production_w: float = 1500.0
        self.nan_power = False
        self.status_at: datetime | None = None  # None: now (rounded down to 5 min like real statuses)
        self.no_data = False
        self.fail_5xx = False
        self.exhaust_next = False  # the first request's window is already used up
        self.times: list[float] = []  # epoch of each getstatus request
        self.forbidden_at: list[float] = []

    def set_production(self, w: float) -> None:
        with self.lock:
            self.production_w, self.nan_power = w, False

    def _window(self, now: float) -> tuple[int, float]:
        n = math.floor(now / self.window_s)
        return n, (n + 1) * self.window_s  # window number, reset epoch

    def exhaust(self, key: str | None = None) -> None:
        """Use up this window's budget (as another uploader on the same key would)."""
        with self.lock:
            self.used[(key or self.api_key, self._window(time.time())[0])] = self.limit

    def handle(self, req):
        if req.route != "/service/r2/getstatus.jsp":
            self.counts["other"] += 1
            return 404, "Not Found", {}
        self.counts["getstatus"] += 1
        key = req.headers.get("X-Pvoutput-Apikey") or req.query.get("key")
        sid = req.headers.get("X-Pvoutput-SystemId") or req.query.get("sid")
        if key != self.api_key:
            return 401, "Unauthorized 401: Invalid API Key", {}
        if sid != self.system_id:
            return 401, "Unauthorized 401: Invalid System ID", {}
        now = time.time()
        self.times.append(now)
        window, reset = self._window(now)
        if self.exhaust_next:
            self.exhaust_next, self.used[(key, window)] = False, self.limit
        self.used[(key, window)] += 1
        remaining = self.limit - self.used[(key, window)]
        rate = {"X-Rate-Limit-Remaining": remaining, "X-Rate-Limit-Limit": self.limit,
                "X-Rate-Limit-Reset": int(math.ceil(reset))}
        headers = rate if req.headers.get("X-Rate-Limit") == "1" else {}
        if remaining < 0:
            self.counts["forbidden"] += 1
            self.forbidden_at.append(now)
            return 403, "Forbidden 403: Exceeded number requests per hour", headers
        if self.fail_5xx:
            return 503, "Service Unavailable", headers
        if self.no_data:
            return 400, "Bad request 400: No status found", headers
        at = self.status_at or datetime.fromtimestamp(now - now % 300, timezone.utc)
        local = at.astimezone(self.tz)
        power = "NaN" if self.nan_power else f"{self.production_w:.0f}"
        line = f"{local:%Y%m%d},{local:%H:%M},3636,{power},NaN,NaN,NaN,21.2,220.1"
        return 200, line, headers
