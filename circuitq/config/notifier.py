"""notifier section (placeholder until the notifier lands)."""
from __future__ import annotations

from .base import StrictModel


class NotifierConfig(StrictModel):
    min_interval_s: float = 3600
