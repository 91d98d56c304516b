"""One forecast call: build the request for the configured API, run it, parse the answer.

Runs on a worker thread (never on the event loop): returns points or raises a typed
SourceError. The Forecast.Solar key is a path segment, so every message and `describe` shows
the URL with `<key>` in its place.
"""
from __future__ import annotations

from datetime import datetime

import requests
import urllib3

from ..core import SourceError, Unreachable
from ..http import _short, make_session
from . import forecast_solar, open_meteo
from .model import Point, clip

# No retries inside a call: the schedule retries after retry_s (a forecast is hourly anyway),
# a slow API is not waited for twice, and urllib3's retry warnings, which would log the
# Forecast.Solar key in the path, never fire.
RETRIES = 0


class ForecastClient:
    def __init__(self, fc, solar, site, secrets):
        self.fc, self.solar, self.array = fc, solar, solar.array
        self.session = make_session(RETRIES)
        self.key = secrets.forecast_solar.api_key if fc.kind == "forecast_solar" and secrets.forecast_solar else None
        if fc.kind == "forecast_solar":
            path = forecast_solar.estimate_path(site.latitude, site.longitude, self.array.tilt_deg,
                                                self.array.azimuth_deg, solar.system_size_w, self.key)
            self.url, self.params = fc.host + path, {"time": "iso8601"}
        else:
            self.url = fc.host + open_meteo.PATH
            self.params = open_meteo.query(site.latitude, site.longitude, self.array.tilt_deg,
                                           self.array.azimuth_deg, fc.days, fc.step_min)
        self.describe = self._redact(self.url)

    def _redact(self, text: str) -> str:
        return text.replace(f"/{self.key}/", "/<key>/") if self.key else text

    def _why(self, exc: Exception) -> str:
        # with a Retry object, requests reports a read timeout as a ConnectionError around it
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(exc, requests.exceptions.Timeout) or isinstance(reason, urllib3.exceptions.TimeoutError):
            return f"timed out after {self.fc.timeout_s:g} s"
        return f"{type(exc).__name__}: {_short(exc)}"

    def plane(self) -> list:
        """What the forecast depends on: a cached forecast for another plane is thrown away."""
        a = self.array
        return [self.fc.kind, self.describe, self.params, a.inverter_w, a.losses_pct, self.solar.system_size_w]

    def fetch(self, now: datetime) -> list[Point]:
        try:
            r = self.session.get(self.url, params=self.params, timeout=self.fc.timeout_s)
        except requests.exceptions.SSLError as exc:
            raise SourceError(self._redact(f"TLS error from {self.describe}: {_short(exc)}")) from None
        except requests.exceptions.RequestException as exc:
            raise Unreachable(self._redact(f"{self.describe}: {self._why(exc)}")) from None
        api = forecast_solar if self.fc.kind == "forecast_solar" else open_meteo
        api.check_status(r.status_code, r.headers, r.text, self.describe, now)
        if self.fc.kind == "forecast_solar":
            points = forecast_solar.parse(r.text, self.solar.system_size_w, self.solar.max_ratio)
            return clip(points, self.array.inverter_w)
        return open_meteo.parse(r.text, self.fc.step_min, self.solar.system_size_w, self.array.losses_pct,
                                self.array.inverter_w)
