"""solar_collector section: where solar production comes from, in fallback order.

    solar:
      system_size_w: 5250          # values above max_ratio x this are refused as absurd
      freshness_s: 1000            # older content is published with stale: true (dreadpi)
      sources:                     # first healthy one wins; all are polled and reported
        - {kind: envoy, host: 192.168.1.50}
        - {kind: pvoutput}
        - {kind: enlighten, system_id: "4242"}
      array: {tilt_deg: 25, azimuth_deg: 180}   # for forecasts (site.latitude/longitude too)
      forecast: {kind: forecast_solar}          # or open_meteo; circuitq/solar/forecast

API keys and tokens come from the secrets file (enphase, envoy, pvoutput sections).
Cloud URL prefixes are hard-coded (dreadpi's security rule): a config may change only the
host, and the scheme or port only for a loopback test fake.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import Field, field_validator, model_validator

from .base import StrictModel
from .endpoint import ApiHost, LanHost, is_loopback

# A month is 30.44 days; Enlighten plans are counted per calendar month.
MONTH_S = 30.44 * 86400
# Monthly call budgets of the Enlighten v4 plans (external-apis.md section 2; unverified
# secondary summary, hence `calls_per_month` can override).
ENLIGHTEN_PLANS = {"watt": (10, 1_000), "kilowatt": (50, 50_000),
                   "megawatt": (100, 300_000), "partner": (300, 1_500_000)}
SAFE_EXECUTABLE = re.compile(r"^[A-Za-z0-9._/-]+$")  # dreadpi's whitelist, minus the space


class _Source(StrictModel):
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]+$", description="default: the kind")
    poll_s: float | None = Field(None, gt=0, description="default: what the API allows")
    timeout_s: float = Field(10, gt=0)
    retries: int = Field(2, ge=0, le=5, description="HTTP retries with backoff within one poll")
    max_backoff_s: float = Field(600, gt=0, description="longest wait between polls while failing")

    @property
    def label(self) -> str:
        return self.name or self.kind  # type: ignore[attr-defined]


class EnlightenSource(_Source):
    """Enphase Enlighten API v4 (cloud). Credentials: secrets.enphase."""
    kind: Literal["enlighten"]
    system_id: str = Field(pattern=r"^[0-9]+$")
    plan: Literal["watt", "kilowatt", "megawatt", "partner"] = "watt"
    calls_per_month: int | None = Field(None, gt=0, description="override the plan's budget")
    host: ApiHost = "https://api.enphaseenergy.com"

    @property
    def monthly_budget(self) -> int:
        return self.calls_per_month or ENLIGHTEN_PLANS[self.plan][1]

    @property
    def min_poll_s(self) -> float:
        per_minute = ENLIGHTEN_PLANS[self.plan][0]
        return max(MONTH_S / self.monthly_budget, 60 / per_minute if not self.calls_per_month else 0)

    @property
    def interval_s(self) -> float:
        # Watt plan: 2.63e6 s / 1000 calls = 44 min -> rounded up to 45 min; Kilowatt: 53 s
        # -> 60 s (the data only changes every 5 min anyway); never below 60 s by default.
        step = 300 if self.min_poll_s > 600 else 60
        return self.poll_s or max(60.0, math.ceil(self.min_poll_s / step) * step)

    @model_validator(mode="after")
    def _budget(self):
        if self.poll_s is not None and self.poll_s < self.min_poll_s:
            raise ValueError(f"poll_s {self.poll_s} would exceed the {self.plan} plan's "
                             f"{self.monthly_budget} calls a month (minimum {self.min_poll_s:.3g} s)")
        return self


class EnvoySource(_Source):
    """The local Enphase IQ Gateway (Envoy), firmware >= 7 with a bearer token (secrets.envoy)."""
    kind: Literal["envoy"]
    host: LanHost = Field(description="LAN address, e.g. 192.168.1.50 or envoy.local")

    @property
    def interval_s(self) -> float:
        return self.poll_s or 15.0  # local device, no quota; it refreshes wNow every few s


class PvoutputSource(_Source):
    """pvoutput.org getstatus.jsp. Credentials: secrets.pvoutput."""
    kind: Literal["pvoutput"]
    requests_per_hour: int = Field(60, gt=0, description="60, or 300 in donation mode")
    host: ApiHost = "https://pvoutput.org"

    @property
    def interval_s(self) -> float:
        return self.poll_s or 3600 / self.requests_per_hour  # 60/hour -> 60 s

    @model_validator(mode="after")
    def _budget(self):
        if self.poll_s is not None and self.poll_s < 3600 / self.requests_per_hour:
            raise ValueError(f"poll_s {self.poll_s} exceeds {self.requests_per_hour} requests an hour")
        return self


class ScriptSource(_Source):
    """An external program (dreadpi's external_script): no shell, run as `user` when root.

    It must print one number of watts, optionally followed by a Unix timestamp.
    """
    kind: Literal["script"]
    command: list[str] = Field(min_length=1, description="argv, e.g. [/usr/bin/shuf, -i, 0-1100, -n, '1']")
    user: str = Field("nobody", description="run as this user when the collector runs as root")

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, v):
        return v.split() if isinstance(v, str) else v  # dreadpi's one-line form

    @field_validator("command")
    @classmethod
    def _safe(cls, v: list[str]) -> list[str]:
        if not SAFE_EXECUTABLE.match(v[0]):
            raise ValueError(f"executable {v[0]!r} may only contain A-Z a-z 0-9 . _ / -")
        if any("\0" in a for a in v):
            raise ValueError("arguments may not contain NUL")
        return v

    @property
    def interval_s(self) -> float:
        return self.poll_s or 60.0


class MqttSource(_Source):
    """Any MQTT topic: a Shelly or Tasmota meter, a Node-RED flow.

    Default topic: circuitq/solar/input/<name> (the `user` account may publish there). A
    foreign topic such as shellies/<id>/emeter/0/power needs a read line for solar_collector
    in mosquitto/acl (python -m mosquitto.gen_acl --extra ...).
    """
    kind: Literal["mqtt"]
    topic: str | None = Field(None, description="default: circuitq/solar/input/<name>")
    json_path: str | None = Field(None, description="dotted path to watts, e.g. ENERGY.Power")
    ts_path: str | None = Field(None, description="dotted path to a timestamp (epoch or ISO)")
    scale: float = Field(1.0, gt=0, description="multiply to get watts (1000 for kW)")

    @field_validator("topic")
    @classmethod
    def _topic(cls, v):
        if v is not None and ("#" in v or "+" in v or not v.strip("/")):
            raise ValueError(f"{v!r}: one concrete topic, no wildcards")
        return v

    @property
    def interval_s(self) -> float:
        return self.poll_s or 0.0  # pushed, not polled


Source = Annotated[Union[EnlightenSource, EnvoySource, PvoutputSource, ScriptSource, MqttSource],
                   Field(discriminator="kind")]


class SolarArray(StrictModel):
    """The array's geometry, for the planner's clear-sky forecast (site.latitude/longitude too).
    Its DC size is solar.system_size_w."""
    tilt_deg: float = Field(20, ge=0, le=90, description="0 flat, 90 vertical")
    azimuth_deg: float = Field(180, ge=0, lt=360, description="compass: 90 east, 180 south, 270 west")
    inverter_w: float | None = Field(None, gt=0, description="AC limit (default: no clipping)")
    losses_pct: float = Field(14, ge=0, lt=100, description="wiring, soiling, mismatch (PVWatts: 14 %)")


FORECAST_MIN_POLL_S = 900  # Forecast.Solar: data changes at most every 15 min, cache >= 15 min


class _Forecast(StrictModel):
    poll_s: float = Field(3600, gt=0, description="time between fetches (>= 900 s for a real API)")
    retry_s: float = Field(300, gt=0, description="first wait after a failed fetch; doubles up to poll_s")
    timeout_s: float = Field(20, gt=0)
    max_age_s: float = Field(4 * 3600, gt=0, description="health says stale after this long without "
                             "a successful fetch (the last good forecast stays published)")

    @model_validator(mode="after")
    def _cache(self):
        if self.poll_s < FORECAST_MIN_POLL_S and not is_loopback(self.host):  # type: ignore[attr-defined]
            raise ValueError(f"poll_s {self.poll_s:g} is below {FORECAST_MIN_POLL_S} s: forecasts change "
                             "at most every 15 min and the APIs ask to cache them that long")
        return self


class ForecastSolarForecast(_Forecast):
    """api.forecast.solar /estimate. An API key (Personal plan and above) goes in secrets.forecast_solar."""
    kind: Literal["forecast_solar"]
    host: ApiHost = "https://api.forecast.solar"
    calls_per_hour: int = Field(12, gt=0, description="the plan's limit (public: 12 per IP)")


class OpenMeteoForecast(_Forecast):
    """api.open-meteo.com /v1/forecast: tilted irradiance, turned into AC watts here."""
    kind: Literal["open_meteo"]
    host: ApiHost = "https://api.open-meteo.com"
    calls_per_hour: int = Field(60, gt=0, description="our own cap (the free tier allows 5000)")
    days: int = Field(2, ge=1, le=7, description="forecast_days")
    step_min: Literal[15, 60] = Field(60, description="60: hourly means; 15: minutely_15 means")

    @model_validator(mode="after")
    def _size(self):
        if self.step_min == 15 and self.days > 3:
            raise ValueError("step_min 15 allows at most 3 days (the retained message must stay "
                             "under the broker's 64 KiB)")
        return self


Forecast = Annotated[Union[ForecastSolarForecast, OpenMeteoForecast], Field(discriminator="kind")]


class SolarConfig(StrictModel):
    system_size_w: float = Field(gt=0, description="nameplate (DC) size; bounds valid readings")
    array: SolarArray | None = Field(None, description="geometry for the planner's solar forecast")
    max_ratio: float = Field(1.5, gt=1, description="readings above ratio x size are absurd")
    freshness_s: float = Field(1000, gt=0, description="older content is published stale (dreadpi)")
    down_alert_s: float = Field(3600, gt=0, description="alert when a source fails this long")
    tick_s: float = Field(5, gt=0, description="how often staleness and alerts are re-checked")
    sources: list[Source] = Field(min_length=1)
    forecast: Forecast | None = Field(None, description="a PV forecast service for the planner")

    @model_validator(mode="after")
    def _unique(self):
        names = [s.label for s in self.sources]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"source names must be unique (set `name:`): {sorted(dup)}")
        if self.forecast is not None and "forecast" in names:
            raise ValueError("`forecast` is the forecast's health name: rename that source (`name:`)")
        return self

    @model_validator(mode="after")
    def _forecast_geometry(self):
        if self.forecast is not None and self.array is None:
            raise ValueError("forecast needs `solar.array` (tilt_deg, azimuth_deg, inverter_w, losses_pct)")
        return self

    def state_file(self, state_dir: Path, source: str) -> Path:
        return state_dir / f"solar_{source}.json"
