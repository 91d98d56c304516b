"""Scheduler section (owned by services/scheduler; placeholder until the scheduler lands)."""
from __future__ import annotations

from .base import StrictModel


class SchedulerConfig(StrictModel):
    max_running: int = 1


class LoadConfig(StrictModel):
    kind: str = "relay"
    priority: int = 0
