"""Injected time. Decision code takes `now`; services read it from a Clock.

`now()` is an aware UTC datetime (wall time, for calendars and payloads);
`monotonic()` is seconds for leases and timeouts, immune to NTP steps.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to; for tests and the simulator."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
        self._mono = 1000.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds

    def set(self, when: datetime) -> None:
        with self._lock:
            self._mono += (when - self._now).total_seconds()
            self._now = when


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
