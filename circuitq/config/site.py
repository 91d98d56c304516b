"""Where the house is: its time zone (calendars, thermostat local time) and holiday calendar."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from .base import StrictModel


class SiteConfig(StrictModel):
    name: str = "home"
    timezone: str = "UTC"
    country: str = "US"  # ISO 3166 code for the `holidays` package
    subdivision: str | None = None  # e.g. "SC" for South Carolina's state holidays

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name like 'America/New_York')")
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
