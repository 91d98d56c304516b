"""ecobee_agent section (placeholder until the agent lands)."""
from __future__ import annotations

from .base import StrictModel


class EcobeeConfig(StrictModel):
    poll_s: float = 180
