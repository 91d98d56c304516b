"""ecobee_agent section: which thermostats circuitq may hold off, how, and for how long.

The API prefix is fixed (`https://api.ecobee.com`); only the host may change, so that tests
and `make demo` can point the agent at the local fake (plain http on loopback only).
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .base import StrictModel
from .endpoint import ApiHostAnyPort, is_loopback

ECOBEE_URL = "https://api.ecobee.com"
MIN_POLL_S = 180.0  # ecobee: poll thermostatSummary no more often than every 3 min


class ThermostatConfig(StrictModel):
    identifier: str = Field(pattern=r"^\d{6,20}$", description="ecobee's thermostat id (app: About)")
    description: str = ""
    # extremes: the thermostat's own heatRangeLow / coolRangeHigh (CircuitQueueing's hold);
    # setpoints: heat_hold_f / cool_hold_f below (°F).
    hold: Literal["extremes", "setpoints"] = "extremes"
    heat_hold_f: float | None = Field(None, ge=40, le=90)
    cool_hold_f: float | None = Field(None, ge=55, le=100)
    # Each hold ends this far ahead of the thermostat's clock (CircuitQueueing: 330 s) and is
    # renewed renew_before_s before it ends while the request stands: a crash of circuitq
    # leaves a hold that ends by itself within hold_minutes.
    hold_minutes: float = Field(5.5, gt=0, le=60)
    renew_before_s: float = Field(120, gt=0)
    max_shed_minutes: float = Field(60, gt=0, description="longest continuous shed")
    # Comfort guard (indoor °F): no shed when the house is already this cold / hot.
    min_indoor_f: float = Field(62, ge=30, le=90)
    max_indoor_f: float = Field(82, ge=40, le=110)
    respect_other_holds: bool = True  # a person's own hold wins over a shed

    @model_validator(mode="after")
    def _check(self):
        if self.hold == "setpoints" and (self.heat_hold_f is None or self.cool_hold_f is None):
            raise ValueError("hold: setpoints needs both heat_hold_f and cool_hold_f")
        if self.heat_hold_f is not None and self.cool_hold_f is not None \
                and self.cool_hold_f - self.heat_hold_f < 3:
            raise ValueError("cool_hold_f must be at least 3 °F above heat_hold_f (ecobee's deadband)")
        if self.max_indoor_f <= self.min_indoor_f:
            raise ValueError("max_indoor_f must be above min_indoor_f")
        if self.renew_before_s >= self.hold_minutes * 60:
            raise ValueError("renew_before_s must be shorter than the hold (hold_minutes)")
        return self


class EcobeeConfig(StrictModel):
    # host[:port]; a loopback host (the fake) is spoken to over plain http. Stored normalized
    # as scheme://host[:port] (endpoint.py), which is the prefix of every request.
    api_host: ApiHostAnyPort = ECOBEE_URL
    poll_s: float = Field(MIN_POLL_S, gt=0, description="thermostatSummary poll interval")
    scope: Literal["smartWrite", "smartRead"] = "smartWrite"
    timeout_s: float = Field(15, gt=0, description="per HTTP request")
    retries: int = Field(2, ge=0, le=5, description="extra attempts on network errors / 5xx")
    backoff_s: float = Field(2.0, ge=0, description="first retry delay, doubled each time")
    thermostats: dict[str, ThermostatConfig] = Field(default_factory=dict)

    @field_validator("poll_s")
    @classmethod
    def _poll(cls, v: float, info: ValidationInfo) -> float:
        if v < MIN_POLL_S and not is_loopback(info.data.get("api_host", ECOBEE_URL)):
            raise ValueError(f"ecobee asks for at most one poll per {MIN_POLL_S:.0f} s "
                             "(shorter intervals only against a local fake)")
        return v

    @model_validator(mode="after")
    def _check(self):
        for name in self.thermostats:
            if not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
                raise ValueError(f"thermostats: {name!r} must be letters, digits, _ or - (it is a topic level)")
        return self

    @property
    def base_url(self) -> str:
        return self.api_host
