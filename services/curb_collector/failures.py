"""Count failed polls per local day and decide when to alert (pure: takes `now`).

A failure is a poll cycle ending in error, offline or stale. CircuitQueueing raised a Prowl
alert after 5 failures in a day. Here: alert once when failures_today reaches the threshold
while failing; a success resolves it. After that, a new alert needs `threshold` failures in a
row, so a flaky day does not ring the phone on every blip.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

Action = Literal["raise", "resolve"] | None


@dataclass
class FailureTracker:
    threshold: int
    tz: ZoneInfo
    failures_today: int = 0
    consecutive: int = 0
    alerted: bool = False
    alerted_on: date | None = None
    day: date | None = None
    last_success: datetime | None = None

    def _roll(self, now: datetime) -> date:
        today = now.astimezone(self.tz).date()
        if today != self.day:
            self.day, self.failures_today = today, 0
        return today

    def failure(self, now: datetime, alert: bool = True) -> Action:
        """Count a failed poll; alert=False counts it without alerting (it has its own alert)."""
        today = self._roll(now)
        self.failures_today += 1
        self.consecutive += 1
        if self.alerted or not alert:
            return None
        first_today = self.alerted_on != today and self.failures_today >= self.threshold
        if first_today or self.consecutive >= self.threshold:
            self.alerted, self.alerted_on = True, today
            return "raise"
        return None

    def success(self, now: datetime) -> Action:
        self._roll(now)
        self.consecutive = 0
        self.last_success = now
        if self.alerted:
            self.alerted = False
            return "resolve"
        return None
