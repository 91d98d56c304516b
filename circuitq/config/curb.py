"""curb_collector section: which Curb location to poll, how often, and circuit names.

Credentials are NOT here: they live in the secrets file under `curb:` (username, password,
client_id, client_secret). The Curb URLs are hard-coded in the collector (dreadpi's rule);
`auth_host` / `api_host` may only swap the host, for a staging host or the local fake.
"""
from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from .base import StrictModel
from .endpoint import ApiHostAnyPort

NAME_RX = r"^[a-z0-9_]+$"  # a circuitq circuit name is one MQTT topic level
_SECRET_KEYS = {"username", "password", "client_id", "client_secret", "token", "access_token",
                "refresh_token"}


class CurbCircuitMap(StrictModel):
    """One circuitq circuit: a Curb circuit by `id`, or by its `label` in the Curb app."""
    id: str | None = Field(None, min_length=1)
    label: str | None = Field(None, min_length=1)
    # A 240 V load measured on two CTs often has one label twice: sum them when true;
    # when false, a label matching several circuits is an error naming their ids.
    sum: bool = False

    @model_validator(mode="after")
    def _one_key(self):
        if (self.id is None) == (self.label is None):
            raise ValueError("give exactly one of id (Curb circuit id) or label (Curb label)")
        if self.sum and self.label is None:
            raise ValueError("sum: true only applies to a label")
        return self


class CurbConfig(StrictModel):
    location_id: str | None = Field(None, min_length=1, description="default: the account's first")
    poll_s: float = Field(60, gt=0, description="seconds between polls of /latest")
    # Freshness (CircuitQueueing: lag over 120 s -> re-poll every 5 s, up to 9 times).
    max_lag_s: float = Field(120, gt=0, description="reading older than this is stale")
    repoll_s: float = Field(5, gt=0)
    repoll_max: int = Field(9, ge=0)
    circuits: dict[str, CurbCircuitMap] = Field(default_factory=dict)
    publish_unmapped: bool = True  # dashboards get every circuit, under a slug of its label
    # Failures (a poll that ends in error, offline or stale) before an alert; counted per
    # local day (CircuitQueueing alerted after 5 in a day).
    alert_failures_per_day: int = Field(5, ge=1)
    # HTTP
    timeout_s: float = Field(10, gt=0)
    http_retries: int = Field(2, ge=0)
    http_backoff_s: float = Field(1.0, ge=0, description="urllib3 backoff factor")
    auth_retry_s: float = Field(900, gt=0, description="wait after Auth0 refused the password")
    refresh_margin_s: float = Field(3600, ge=0, description="refresh this long before expiry")
    token_file: str = Field("curb_token.json", pattern=r"^[A-Za-z0-9_.\-]+$")
    # Live stream (Socket.IO v2, ~1 Hz): readings within seconds; REST stays the fallback.
    live: bool = False
    live_publish_s: float = Field(10, gt=0, description="live reading at most this often...")
    live_delta_w: float = Field(300, gt=0, description="...or at once on a change this big")
    live_stale_s: float = Field(15, gt=0, description="no live data this long -> REST again")
    # Stored as scheme://host[:port]; an https port is allowed on any host (a staging host).
    auth_host: ApiHostAnyPort | None = None  # default energycurb.auth0.com
    api_host: ApiHostAnyPort | None = None  # default app.energycurb.com

    @model_validator(mode="before")
    @classmethod
    def _no_credentials(cls, data):
        if isinstance(data, dict):
            found = sorted(_SECRET_KEYS & set(data))
            if found:
                raise ValueError(f"{', '.join(found)}: Curb credentials belong in the secrets file "
                                 f"(curb: username, password, client_id, client_secret), "
                                 f"never in the config")
        return data

    @field_validator("circuits")
    @classmethod
    def _names(cls, v: dict) -> dict:
        for name in v:
            if not re.match(NAME_RX, name):
                raise ValueError(f"circuit name {name!r}: use lower case letters, digits and _")
        return v
