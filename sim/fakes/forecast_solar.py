"""Fake Forecast.Solar: GET /estimate/{lat}/{lon}/{dec}/{az}/{kwp} and /{key}/estimate/...

    fs = FakeForecastSolar(tz="America/New_York").start()   # fs.url -> http://127.0.0.1:<port>
    fs.clearness = 0.4          # a cloudy forecast (the demo's weather knob)
    fs.limit, fs.period_s = 1, 3  # a tiny rate-limit window: the 2nd call in 3 s gets 429
    fs.maintenance = True       # 503, as on the quarterly maintenance night
    fs.malformed = "truncated"  # or "no_result", "text_watts", "bad_time"
    fs.slow_s = 5               # answer after 5 s
    fs.requests                 # [{"t", "path", "query", "headers"}] of every call

Wire format as ../shared/reference/forecasts-and-planning.md section 1.1 (the HA library's
fixtures): today and tomorrow from sunrise to sunset in the LOCATION's time zone (`tz` here,
named in message.info.timezone), `watts` at instants, `watt_hours_period` for the period
ending at each key, `watt_hours` cumulative from sunrise, `watt_hours_day`. `?time=` selects
the key format: plain local `YYYY-MM-DD HH:MM:SS` (default), `iso8601`, `utc`, `seconds`.
The rate limit is counted per fixed window of `period_s` from its first call (per IP: the
fake has one caller); over it: 429 with the library fixture's body, `X-Ratelimit-Retry-At`
and no `X-Ratelimit-Remaining`. Calls made while limited are counted in counts["while_limited"]
(the real API extends the ban for them).
"""
from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sim.fakes.enphase import FakeServer


def _error(code: int, text: str, **extra) -> dict:
    return {"result": text, "message": {"code": code, "type": "error", "text": text, **extra}}


class FakeForecastSolar(FakeServer):
    def __init__(self, tz: str = "America/New_York", limit: int = 12, period_s: float = 3600,
                 api_key: str | None = None, sunrise: str = "06:20:17", sunset: str = "19:59:23", **kw):
        super().__init__(**kw)
        self.tz, self.limit, self.period_s, self.api_key = ZoneInfo(tz), limit, period_s, api_key
        self.sunrise, self.sunset = sunrise, sunset
        self.clearness = 1.0
        self.maintenance = False
        self.malformed: str | None = None
        self.slow_s = 0.0
        self.window_start: float | None = None
        self.used = 0
        self.requests: list[dict] = []

    # ------------------------------------------------------------ requests
    def start(self):
        super().start()
        self._httpd.handle_error = lambda request, address: None  # a client that timed out: no traceback
        return self

    def handle(self, req):
        now = time.time()
        self.requests.append({"t": now, "path": req.route, "query": dict(req.query),
                              "headers": dict(req.headers)})
        parts = [s for s in req.route.split("/") if s]
        key = None
        if len(parts) == 7 and parts[1] == "estimate":
            key, parts = parts[0], parts[1:]
        if len(parts) != 6 or parts[0] != "estimate":
            self.counts["not_found"] += 1
            return 404, _error(404, "Page not found"), {}
        self.counts["estimate"] += 1
        if self.slow_s:
            time.sleep(self.slow_s)
        if key is not None and key != self.api_key:
            return 401, _error(401, "Invalid API key"), {}
        if self.window_start is None or now >= self.window_start + self.period_s:
            self.window_start, self.used = now, 0
        self.used += 1
        rl = {"X-Ratelimit-Limit": self.limit, "X-Ratelimit-Period": int(self.period_s)}
        if self.used > self.limit:
            if self.used > self.limit + 1:
                self.counts["while_limited"] += 1
            self.counts["limited"] += 1
            retry = datetime.fromtimestamp(math.ceil(self.window_start + self.period_s),
                                           self.tz).isoformat()
            body = _error(429, "Rate limit for API calls reached.", ratelimit={
                "zone": "127.0.0.1", "period": int(self.period_s), "limit": self.limit, "retry-at": retry})
            return 429, body, {**rl, "X-Ratelimit-Retry-At": retry}
        rl["X-Ratelimit-Remaining"] = self.limit - self.used
        if self.maintenance:
            return 503, "Service Unavailable: planned maintenance", {}
        try:
            lat, lon, kwp = float(parts[1]), float(parts[2]), float(parts[5])
            dec, az = int(parts[3]), int(parts[4])
        except ValueError:
            return 400, _error(400, f"Malformed request {req.route}"), rl
        if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 <= dec <= 90 and -180 <= az <= 180 and kwp > 0):
            return 422, _error(422, "Invalid plane: latitude, longitude, declination, azimuth or kwp out of range"), rl
        if self.malformed == "truncated":
            return 200, '{"result":{"watts":{"2024-04-26 07:00:00":27', rl
        body = self.estimate(lat, lon, dec, az, kwp, req.query.get("time", ""), now)
        if self.malformed == "no_result":
            body.pop("result")
        elif self.malformed == "text_watts":
            first = next(iter(body["result"]["watt_hours_period"]))
            body["result"]["watt_hours_period"][first] = "lots"
        elif self.malformed == "bad_time":
            wh = body["result"]["watt_hours_period"]
            body["result"]["watt_hours_period"] = {f"day {i}": v for i, v in enumerate(wh.values())}
        return 200, body, rl

    # ------------------------------------------------------------ the forecast
    def power_w(self, at: datetime, kwp: float, az: int) -> float:
        """A clear-sky half sine between sunrise and sunset, 80 % of kWp at noon facing south."""
        local = at.astimezone(self.tz)
        rise, sset = (self._at(local.date(), hms) for hms in (self.sunrise, self.sunset))
        if not rise < local < sset:
            return 0.0
        facing = 1 - 0.25 * abs(az) / 180
        frac = (local - rise) / (sset - rise)
        return kwp * 1000 * 0.8 * facing * self.clearness * math.sin(math.pi * frac)

    def _at(self, day, hms: str) -> datetime:
        h, m, s = (int(x) for x in hms.split(":"))
        return datetime(day.year, day.month, day.day, h, m, s, tzinfo=self.tz)

    def keys(self, day) -> list[datetime]:
        rise, sset = self._at(day, self.sunrise), self._at(day, self.sunset)
        hours = [self._at(day, f"{h:02d}:00:00") for h in range(rise.hour + 1, sset.hour + 1)]
        return [rise] + [h for h in hours if h < sset] + [sset]

    def _fmt(self, at: datetime, mode: str) -> str:
        if mode == "iso8601":
            return at.isoformat(timespec="seconds")
        if mode == "utc":
            return at.astimezone(timezone.utc).isoformat(timespec="seconds")
        if mode == "seconds":
            return str(int(at.timestamp()))
        return at.strftime("%Y-%m-%d %H:%M:%S")

    def estimate(self, lat, lon, dec, az, kwp, mode: str, now: float) -> dict:
        today = datetime.fromtimestamp(now, self.tz).date()
        watts, period, cumulative, daily = {}, {}, {}, {}
        for day in (today, today + timedelta(days=1)):
            total, prev = 0.0, None
            for at in self.keys(day):
                w = round(self.power_w(at, kwp, az))
                wh = 0 if prev is None else round((prev[1] + w) / 2 * (at - prev[0]).total_seconds() / 3600)
                total += wh
                k = self._fmt(at, mode)
                watts[k], period[k], cumulative[k] = w, wh, round(total)
                prev = (at, w)
            daily[day.isoformat()] = round(total)
        made = datetime.fromtimestamp(now, self.tz)
        return {"result": {"watts": watts, "watt_hours_period": period, "watt_hours": cumulative,
                           "watt_hours_day": daily},
                "message": {"code": 0, "type": "success", "text": "", "pid": "fake0001",
                            "info": {"latitude": round(lat, 4), "longitude": round(lon, 4), "distance": 0,
                                     "place": "circuitq test site", "timezone": self.tz.key,
                                     "time": made.isoformat(timespec="seconds"),
                                     "time_utc": made.astimezone(timezone.utc).isoformat(timespec="seconds")},
                            "ratelimit": {"zone": "127.0.0.1", "period": int(self.period_s), "limit": self.limit,
                                          "remaining": max(0, self.limit - self.used)}}}
