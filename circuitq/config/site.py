"""Where the house is: its time zone (calendars, thermostat local time) and holiday calendar."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from .base import StrictModel


class SiteConfig(StrictModel):
    name: str = "home"
    timezone: str = "UTC"
    country: str = "US"  # ISO 3166 code for the `holidays` package
    subdivision: str | None = None  # e.g. "SC" for South Carolina's state holidays
    # Where the sun is (the planner's clear-sky solar forecast); degrees, north and east positive
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    elevation_m: float = Field(0, ge=-500, le=9000)

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
