"""solar_collector section (placeholder until the collector lands)."""
from __future__ import annotations

from .base import StrictModel


class SolarConfig(StrictModel):
    freshness_s: float = 1000
