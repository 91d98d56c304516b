"""Local days of the run: where each starts in the minute arrays, and which are weekends.

Household habits (draws, dryer, cooking) are laid out per local day in local minutes of the
day; `add` places a profile at a local time (on a DST day the hour after the change is one
minute index off by an hour's worth of the clock, which a household would also shift).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import holidays as holidays_lib
import numpy as np


@dataclass
class DayGrid:
    days: list  # datetime.date per local day index
    start: np.ndarray  # minute index of each day's first minute in the run
    length: np.ndarray  # minutes of each day inside the run
    weekend: np.ndarray  # bool: Saturday, Sunday or a public holiday
    n: int  # minutes in the run

    def add(self, out: np.ndarray, d: int, minute_of_day: int, values) -> None:
        """Add `values` (per minute) into `out` from local day d, minute_of_day on (clipped)."""
        values = np.atleast_1d(values)
        i = int(self.start[d]) + int(minute_of_day)
        a, b = max(i, 0), min(i + len(values), self.n)
        if b > a:
            out[a:b] += values[a - i:b - i]


def day_grid(local_day: np.ndarray, days: list[date], country: str | None, subdivision: str | None) -> DayGrid:
    n = len(local_day)
    nd = len(days)
    start = np.searchsorted(local_day, np.arange(nd), side="left")
    length = np.bincount(local_day, minlength=nd)
    # a day's first minute can sit before the run (a run starting mid-day): shift its start back
    first_local = start.copy()
    hol = {}
    if country:
        try:
            hol = holidays_lib.country_holidays(country, subdiv=subdivision, years={d.year for d in days})
        except NotImplementedError:
            hol = {}
    weekend = np.array([d.weekday() >= 5 or d in hol for d in days], dtype=bool)
    return DayGrid(days, first_local, length, weekend, n)
