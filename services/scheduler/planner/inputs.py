"""The planner's inputs from the bus, checked: a price series from the price topic."""
from __future__ import annotations

from datetime import datetime, timedelta


def price_points(series, now: datetime, max_ahead_h: float) -> list[tuple]:
    """(start, end, import, export) per point, sorted; a point without an end lasts until
    the next one (the last: series.slot_min). Refused: overlaps, an end before its start,
    points beyond max_ahead_h, a series entirely in the past."""
    pts = sorted(series.points, key=lambda p: p.start)
    out = []
    for i, p in enumerate(pts):
        end = p.end or (pts[i + 1].start if i + 1 < len(pts) else p.start + timedelta(minutes=series.slot_min))
        if end <= p.start:
            raise ValueError(f"points[{i}]: end {end.isoformat()} is not after its start {p.start.isoformat()}")
        if out and p.start < out[-1][1]:
            raise ValueError(f"points[{i}]: starts {p.start.isoformat()} before the previous point ends")
        if p.start > now + timedelta(hours=max_ahead_h):
            raise ValueError(f"points[{i}]: starts more than {max_ahead_h:g} h ahead "
                             f"(tariff.price_series_max_h)")
        out.append((p.start, end, p.import_per_kwh, p.export_per_kwh))
    if out[-1][1] <= now:
        raise ValueError("every point is in the past")
    return out
