"""Fake Open-Meteo forecast API: GET /v1/forecast.

    om = FakeOpenMeteo(tz="America/New_York").start()   # om.url -> http://127.0.0.1:<port>
    om.clearness = 0.3          # an overcast forecast (the demo's weather knob)
    om.limit, om.limit_kind = 1, "minutely"   # the 2nd call in the window gets 429
    om.unavailable = True       # 503
    om.malformed = "truncated"  # or "no_hourly", "short_list", "text_value"
    om.slow_s = 5               # answer after 5 s
    om.requests                 # [{"t", "path", "query", "headers"}] of every call

Wire format as ../shared/reference/forecasts-and-planning.md section 1.2: `hourly` (or
`minutely_15`) holds `time` (ISO without an offset, local to `timezone`, starting at 00:00
local today) and each variable; radiation is the mean of the PRECEDING step, temperature the
value at the stamp. With `timezone=auto` or a zone name, `utc_offset_seconds` is the offset
valid at the time of the call and is used for the whole series (Open-Meteo does not follow a
DST change inside it). `timeformat=unixtime` gives GMT epoch seconds. Errors: 400 and 429 with
{"error": true, "reason": "..."}.
"""
from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sim.fakes.enphase import FakeServer

KNOWN = {"global_tilted_irradiance", "global_tilted_irradiance_instant", "temperature_2m",
         "shortwave_radiation", "direct_normal_irradiance", "diffuse_radiation", "wind_speed_10m"}
LIMIT_TEXT = {"minutely": "Minutely API request limit exceeded. Please try again in one minute.",
              "hourly": "Hourly API request limit exceeded. Please try again in the next hour.",
              "daily": "Daily API request limit exceeded. Please try again tomorrow."}
WINDOW_S = {"minutely": 60, "hourly": 3600, "daily": 86400}


def _bad(reason: str):
    return 400, {"error": True, "reason": reason}, {}


class FakeOpenMeteo(FakeServer):
    def __init__(self, tz: str = "America/New_York", limit: int = 10_000, limit_kind: str = "daily",
                 window_s: float | None = None, sunrise_h: float = 6.5, sunset_h: float = 19.5, **kw):
        super().__init__(**kw)
        self.tz, self.limit, self.limit_kind = ZoneInfo(tz), limit, limit_kind
        self.window_s = window_s or WINDOW_S[limit_kind]
        self.sunrise_h, self.sunset_h = sunrise_h, sunset_h
        self.clearness = 1.0
        self.unavailable = False
        self.malformed: str | None = None
        self.slow_s = 0.0
        self.window_start: float | None = None
        self.used = 0
        self.requests: list[dict] = []

    def start(self):
        super().start()
        self._httpd.handle_error = lambda request, address: None  # a client that timed out: no traceback
        return self

    def handle(self, req):
        now = time.time()
        self.requests.append({"t": now, "path": req.route, "query": dict(req.query),
                              "headers": dict(req.headers)})
        if req.route != "/v1/forecast":
            self.counts["not_found"] += 1
            return 404, "Not Found", {}
        self.counts["forecast"] += 1
        if self.slow_s:
            time.sleep(self.slow_s)
        if self.window_start is None or now >= self.window_start + self.window_s:
            self.window_start, self.used = now, 0
        self.used += 1
        if self.used > self.limit:
            self.counts["limited"] += 1
            return 429, {"error": True, "reason": LIMIT_TEXT[self.limit_kind]}, {}
        if self.unavailable:
            return 503, "Service Unavailable", {}
        q = req.query
        try:
            lat, lon = float(q["latitude"]), float(q["longitude"])
        except (KeyError, ValueError):
            return _bad("Parameter 'latitude' and 'longitude' must be numbers")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return _bad(f"Latitude must be in range of -90 to 90°. Given: {lat}.")
        try:
            tilt, azimuth = float(q.get("tilt", 0)), float(q.get("azimuth", 0))
            days = int(q.get("forecast_days", 7))
        except ValueError:
            return _bad("Parameter 'tilt', 'azimuth' or 'forecast_days' is not a number")
        if not (0 <= tilt <= 90 and -180 <= azimuth <= 180):
            return _bad("Tilt must be between 0 and 90 and azimuth between -180 and 180")
        if not 0 <= days <= 16:
            return _bad("Forecast days is invalid. Allowed range 0 to 16.")
        zone = q.get("timezone", "GMT")
        try:
            tz = self.tz if zone == "auto" else timezone.utc if zone in ("GMT", "UTC") else ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            return _bad(f"Invalid timezone {zone}")
        blocks = {}
        for block, step_min, count_key in (("hourly", 60, None), ("minutely_15", 15, "forecast_minutely_15")):
            if not q.get(block):
                continue
            names = q[block].split(",")
            unknown = [n for n in names if n not in KNOWN]
            if unknown:
                return _bad(f"Cannot initialize WeatherVariable from invalid String value {unknown[0]}.")
            steps = int(q.get(count_key) or days * 24 * 60 // step_min) if count_key else days * 24
            blocks[block] = (names, step_min, steps)
        return 200, self.forecast(lat, lon, tilt, azimuth, tz, blocks, q.get("timeformat") == "unixtime", now), {}

    # ------------------------------------------------------------ the forecast
    def gti_wm2(self, at: datetime, azimuth: float) -> float:
        """Clear-sky-like instantaneous plane irradiance: a half sine between sunrise and sunset."""
        local = at.astimezone(self.tz)
        h = local.hour + local.minute / 60 + local.second / 3600
        if not self.sunrise_h < h < self.sunset_h:
            return 0.0
        facing = 1 - 0.25 * abs(azimuth) / 180
        return 950 * facing * self.clearness * math.sin(math.pi * (h - self.sunrise_h) / (self.sunset_h - self.sunrise_h))

    def air_c(self, at: datetime) -> float:
        local = at.astimezone(self.tz)
        h = local.hour + local.minute / 60
        return round(14 + 8 * math.sin(math.pi * (h - 9) / 12), 1)

    def forecast(self, lat, lon, tilt, azimuth, tz, blocks, unixtime: bool, now: float) -> dict:
        offset = int(datetime.fromtimestamp(now, tz).utcoffset().total_seconds())
        fixed = timezone(timedelta(seconds=offset))
        local_midnight = datetime.fromtimestamp(now, fixed).replace(hour=0, minute=0, second=0, microsecond=0)
        out = {"latitude": round(lat, 3), "longitude": round(lon, 3), "elevation": 12.0, "generationtime_ms": 0.31,
               "utc_offset_seconds": offset, "timezone": getattr(tz, "key", "GMT"),
               "timezone_abbreviation": datetime.fromtimestamp(now, tz).tzname() or "GMT"}
        for block, (names, step_min, steps) in blocks.items():
            step = timedelta(minutes=step_min)
            stamps = [local_midnight + step * i for i in range(steps)]
            series = {"time": [int(s.timestamp()) if unixtime else s.strftime("%Y-%m-%dT%H:%M") for s in stamps]}
            for name in names:
                if name == "temperature_2m":
                    series[name] = [self.air_c(s) for s in stamps]
                elif name.endswith("_instant"):
                    series[name] = [round(self.gti_wm2(s, azimuth), 1) for s in stamps]
                else:  # the mean of the preceding step, sampled every 5 min
                    n = step_min // 5
                    series[name] = [round(sum(self.gti_wm2(s - step + timedelta(minutes=5 * (k + 0.5)), azimuth)
                                              for k in range(n)) / n, 1) for s in stamps]
            if self.malformed == "short_list":
                series["global_tilted_irradiance"] = series.get("global_tilted_irradiance", [])[:-3]
            elif self.malformed == "text_value" and series.get("global_tilted_irradiance"):
                series["global_tilted_irradiance"][12] = "sunny"
            out[block] = series
            out[f"{block}_units"] = {"time": "unixtime" if unixtime else "iso8601", **{
                n: "°C" if n == "temperature_2m" else "W/m²" for n in names}}
        if self.malformed == "no_hourly":
            for block in blocks:
                out.pop(block, None)
        if self.malformed == "truncated":
            return '{"latitude": 52.52, "hourly": {"time": ["2026-05-02T00:00", '
        return out
