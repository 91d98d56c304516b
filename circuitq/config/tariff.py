"""tariff section: what a kWh costs when, and what an exported kWh earns.

    tariff:
      currency: USD
      default_per_kwh: 0.11          # import price outside every period below
      export_per_kwh: 0.04           # credit for each exported kWh (net billing)
      holidays: true                 # public holidays of site.country/subdivision price as weekends
      periods:                       # time-of-use periods, first match wins
        on_peak:
          per_kwh: 0.29
          windows:
            - {start: "18:00", end: "21:00", days: weekdays, months: [6, 7, 8, 9]}
            - {start: "06:00", end: "09:00", days: weekdays, months: [12, 1, 2]}
      price_topic: false             # true: a price series on circuitq/tariff/price overrides
                                     # the periods where it has prices (Node-RED, Home Assistant)

Windows are the scheduler's calendar windows (local time of site.timezone, `end` <= `start`
wraps past midnight, `days` all | weekdays | weekends | [mon, ...], `months` 1-12).
Prices are in `currency` per kWh; only their differences matter to the planner.
"""
from __future__ import annotations

import math

from pydantic import Field, field_validator

from .base import StrictModel
from .scheduler import NAME, Window


class TariffPeriod(StrictModel):
    per_kwh: float = Field(description="import price in this period (currency per kWh)")
    export_per_kwh: float | None = Field(None, description="export credit in this period "
                                         "(default: the tariff's export_per_kwh)")
    windows: list[Window] = Field(min_length=1)

    @field_validator("per_kwh", "export_per_kwh")
    @classmethod
    def _finite(cls, v):
        if v is not None and not math.isfinite(v):
            raise ValueError("a price must be a finite number")
        return v


class TariffConfig(StrictModel):
    currency: str = Field("USD", min_length=1, max_length=8)
    default_per_kwh: float = Field(description="import price outside every period")
    export_per_kwh: float = Field(0.0, description="credit per exported kWh (0: export earns nothing)")
    holidays: bool = Field(True, description="public holidays price as weekends")
    periods: dict[str, TariffPeriod] = Field(default_factory=dict, description="first match wins")
    price_topic: bool = Field(False, description="accept a price series on circuitq/tariff/price")
    price_series_max_h: float = Field(72, gt=0, description="a series point further ahead is refused")

    @field_validator("default_per_kwh", "export_per_kwh")
    @classmethod
    def _finite(cls, v):
        if not math.isfinite(v):
            raise ValueError("a price must be a finite number")
        return v

    @field_validator("periods")
    @classmethod
    def _names(cls, v):
        for name in v:
            if not NAME.match(name):
                raise ValueError(f"period name {name!r}: letters, digits, _ or -")
        return v
