"""What the rest of the house does by hour of day: its consumption (for the solar surplus
the planned loads can use) and how many observed big loads run (for the big-load places).

Learned from every reading with a per-sample weight that remembers about the last few days
of each hour. Units: watts; counts of loads.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ALPHA = 0.01  # per minute sample: ~100 samples, i.e. the same hour over the last ~2 days


@dataclass(slots=True)
class Baseline:
    base_w: list[float] = field(default_factory=lambda: [500.0] * 24)  # consumption not planned
    busy: list[float] = field(default_factory=lambda: [0.3] * 24)  # observed big loads running

    def observe(self, hour: int, base_w: float, busy: int) -> None:
        self.base_w[hour] += ALPHA * (base_w - self.base_w[hour])
        self.busy[hour] += ALPHA * (busy - self.busy[hour])

    def dump(self) -> dict:
        return {"base_w": [round(x, 1) for x in self.base_w], "busy": [round(x, 3) for x in self.busy]}

    def restore(self, rec: dict) -> None:
        for key in ("base_w", "busy"):
            v = rec.get(key)
            if isinstance(v, list) and len(v) == 24 and all(isinstance(x, (int, float)) for x in v):
                setattr(self, key, [max(0.0, float(x)) for x in v])
