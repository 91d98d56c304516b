"""curb_collector section (placeholder until the collector lands)."""
from __future__ import annotations

from .base import StrictModel


class CurbConfig(StrictModel):
    location_id: str | None = None
