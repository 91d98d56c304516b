"""notifier section: alert rules on the readings, de-duplication, quiet hours, delivery retries.

Times of day are local to site.timezone and written `HH:MM-HH:MM` (unquoted is fine: YAML
would read a bare 10:00 as the number 600, but not a range). A range whose end is before its
start wraps midnight (22:00-07:00).
"""
from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from .base import StrictModel
from .endpoint import ApiHostAnyPort

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# consumption/production/net (Curb totals), solar (solar collector), circuit.<name> (Curb),
# relay.<name> (1 = level on, 0 = off), load.<name> (1 = the scheduler says running).
METRIC_RX = re.compile(r"^(consumption|production|net|solar|(circuit|relay|load)\.[a-z0-9_]+)$")
OPS = ("above", "below", "equals")
TEMPLATE_FIELDS = dict(title="t", metric="m", value=1.0, threshold=1.0, minutes=1, since="10:00",
                       window="10:00-15:00")


def _time_range(v):
    if isinstance(v, (list, tuple)) and len(v) == 2:
        v = f"{v[0]}-{v[1]}"
    if not isinstance(v, str):
        raise ValueError("expected a local time range like 10:00-15:00")
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", v)
    if not m:
        raise ValueError(f"{v!r} is not a time range like 10:00-15:00")
    h1, m1, h2, m2 = map(int, m.groups())
    if not (h1 <= 24 and h2 <= 24 and m1 < 60 and m2 < 60):
        raise ValueError(f"{v!r}: hours 0-24, minutes 0-59")
    if (h1, m1) == (h2, m2):
        raise ValueError(f"{v!r}: start and end are the same")
    return (time(h1 % 24, m1), time(h2 % 24, m2) if (h2, m2) != (24, 0) else time(0, 0))


TimeRange = Annotated[tuple[time, time], BeforeValidator(_time_range)]


def fmt_range(r: tuple[time, time]) -> str:
    return f"{r[0]:%H:%M}-{r[1]:%H:%M}"


def _check_template(v: str) -> str:
    try:
        v.format_map(TEMPLATE_FIELDS)
    except (KeyError, ValueError, IndexError, AttributeError) as exc:
        raise ValueError(f"bad template {v!r}: {exc!r} (fields: {', '.join(TEMPLATE_FIELDS)})")
    return v


class RuleConfig(StrictModel):
    """One alert rule: `metric` above/below/equal to a number for `for_min`, in a time window."""
    metric: str = Field(description="consumption | production | net | solar | circuit.<name> | "
                                    "relay.<name> | load.<name>")
    above: float | None = None   # watts for power metrics; 1/0 for relay./load.
    below: float | None = None
    equals: float | None = None
    tolerance: float = Field(0, ge=0, description="for equals: |value - equals| <= tolerance")
    for_min: float = Field(0, ge=0, description="the condition must hold this long (minutes)")
    clear_for_min: float = Field(0, ge=0, description="and be gone this long before 'resolved'")
    between: TimeRange | None = None  # local time window; leaving it ends the alert silently
    days: list[Day] | None = None     # local weekdays; default every day
    title: str = Field(min_length=1, max_length=200)
    message: str = "{metric} is {value:.0f} (threshold {threshold:g})"
    resolved_message: str = "back to normal: {metric} is {value:.0f}"
    priority: int = Field(0, ge=-2, le=2, description="Prowl scale: -2 very low .. 2 emergency")
    min_interval_min: float | None = Field(None, ge=0, description="default notifier.min_interval_min")
    enabled: bool = True

    @field_validator("message", "resolved_message")
    @classmethod
    def _tmpl(cls, v: str) -> str:
        return _check_template(v)

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str) -> str:
        if not METRIC_RX.match(v):
            raise ValueError(f"unknown metric {v!r}: use consumption, production, net, solar, "
                             "circuit.<name>, relay.<name> or load.<name>")
        return v

    @model_validator(mode="after")
    def _one_op(self):
        given = [op for op in OPS if getattr(self, op) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of above, below, equals")
        return self

    @property
    def op(self) -> str:
        return next(op for op in OPS if getattr(self, op) is not None)

    @property
    def threshold(self) -> float:
        return getattr(self, self.op)


class QuietHours(StrictModel):
    between: TimeRange
    min_priority: int = Field(2, ge=-2, le=2, description="alerts at or above this pass quiet hours")
    # Held alerts are sent when quiet hours end if still unresolved (else dropped).


class RetryConfig(StrictModel):
    min_s: float = Field(30, gt=0, description="first retry after a failed delivery")
    max_s: float = Field(3600, gt=0, description="backoff doubles up to this")
    give_up_h: float = Field(48, gt=0, description="a delivery older than this is dropped (logged)")


class ProwlConfig(StrictModel):
    # Only the host can change (for the local fake); the https://<host>/publicapi/ prefix is
    # fixed, and plain http is allowed only to a loopback host. Stored as scheme://host[:port].
    host: ApiHostAnyPort = "https://api.prowlapp.com"
    application: str = Field("circuitq", min_length=1, max_length=256)
    timeout_s: float = Field(15, gt=0)


class NotifierConfig(StrictModel):
    min_interval_min: float = Field(60, ge=0, description="same alert key at most once per this")
    max_gap_min: float = Field(10, gt=0, description="readings further apart break a rule's for_min")
    quiet_hours: QuietHours | None = None
    retry: RetryConfig = Field(default_factory=RetryConfig)
    prowl: ProwlConfig = Field(default_factory=ProwlConfig)
    rules: dict[str, RuleConfig] = Field(default_factory=dict)

    @field_validator("rules")
    @classmethod
    def _names(cls, v: dict) -> dict:
        for name in v:
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise ValueError(f"rule name {name!r}: use lower-case letters, digits and _")
        return v
