"""A day's totals from its readings. Pure: rows in, a summary dict out.

Energy: each Curb reading stands for the time since the reading before it, at most
`max_span_s` (a longer gap is missing data: it is reported, never filled in). So a day's
kWh is exactly the sum over its readings of watts x span / 3.6e6: the roll-up equals the
sum of its readings, and a reading belongs to the local day of its own timestamp.

Import and export: per reading, consumption minus production (Curb's own meter, or the solar
collector's reading, `recorder.production`). Cost: the tariff's price at the middle of each
reading's span. A load's cost counts the share of its power that was imported at the import
price and the rest (solar) at the export credit it displaced.

With no control (an estimate, docs/recorder.md): the same energy in every controlled load (a
tank heats the same water, a pool pump runs the same hours), but drawn when the appliance
itself wanted, which circuitq cannot know; we take it as spread evenly over the recorded
hours of the day. Each reading's consumption then has the controlled loads' measured power
replaced by their day-average power, and import, export and cost are computed again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

WH_PER_WS = 1 / 3600.0
MAX_GAPS = 50


@dataclass(frozen=True, slots=True)
class LoadInfo:
    circuit: str
    controlled: bool  # circuitq switches it (relay, thermostat, DRM)
    running_w: float


@dataclass(frozen=True, slots=True)
class Row:
    ts: float  # POSIX s, the reading's own time
    consumption_w: float
    production_w: float  # as chosen by recorder.production
    circuits: dict[str, float]


def day_bounds(day: date, tz: ZoneInfo) -> tuple[float, float]:
    """[start, end) of a local day in POSIX seconds (23 or 25 h across a DST change)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.timestamp(), end.timestamp()


def spans(rows: list[Row], prev_ts: float | None, max_span_s: float) -> tuple[list[float], list[tuple[float, float]]]:
    """Seconds each reading stands for, and the gaps (longer than max_span_s) before readings."""
    out, gaps = [], []
    last = prev_ts
    for r in rows:
        if last is None:
            out.append(0.0)
        else:
            dt = r.ts - last
            out.append(min(max(dt, 0.0), max_span_s))
            if dt > max_span_s:
                gaps.append((last, r.ts))
        last = r.ts
    return out, gaps


def _price(tariff, ts: float) -> tuple[float, float]:
    p = tariff.price(datetime.fromtimestamp(ts, timezone.utc))
    return p.import_per_kwh, p.export_per_kwh


def summarize(day: date, tz: ZoneInfo, rows: list[Row], prev_ts: float | None, loads: dict[str, LoadInfo],
              tariff=None, max_span_s: float = 180.0) -> dict:
    sp, gaps = spans(rows, prev_ts, max_span_s)
    kwh = lambda wh: round(wh / 1000.0, 6)  # noqa: E731
    circuits_wh: dict[str, float] = {}
    load_wh = {n: 0.0 for n in loads}
    load_cost = {n: 0.0 for n in loads}
    load_run_s = {n: 0.0 for n in loads}
    cons_wh = prod_wh = imp_wh = exp_wh = controlled_wh = 0.0
    cost = 0.0
    prices: list[tuple[float, float]] = []
    for r, s in zip(rows, sp):
        prod = max(r.production_w, 0.0)  # a Curb CT on the solar feed reads a few W negative at night
        net = r.consumption_w - prod
        imp_w, exp_w = max(net, 0.0), max(-net, 0.0)
        cons_wh += r.consumption_w * s * WH_PER_WS
        prod_wh += prod * s * WH_PER_WS
        imp_wh += imp_w * s * WH_PER_WS
        exp_wh += exp_w * s * WH_PER_WS
        for c, w in r.circuits.items():
            circuits_wh[c] = circuits_wh.get(c, 0.0) + w * s * WH_PER_WS
        pi, pe = _price(tariff, r.ts - s / 2) if tariff is not None else (0.0, 0.0)
        prices.append((pi, pe))
        cost += (imp_w * pi - exp_w * pe) * s * WH_PER_WS / 1000.0
        share = imp_w / r.consumption_w if r.consumption_w > 0 else 1.0
        for n, li in loads.items():
            w = max(r.circuits.get(li.circuit, 0.0), 0.0)
            load_wh[n] += w * s * WH_PER_WS
            load_cost[n] += w * s * WH_PER_WS / 1000.0 * (share * pi + (1 - share) * pe)
            if w >= li.running_w:
                load_run_s[n] += s
            if li.controlled:
                controlled_wh += w * s * WH_PER_WS
    covered_s = sum(sp)
    # no control: the controlled loads' energy spread evenly over the recorded time
    avg_controlled_w = controlled_wh / WH_PER_WS / covered_s if covered_s > 0 else 0.0
    nc_cost = nc_imp_wh = nc_exp_wh = 0.0
    for r, s, (pi, pe) in zip(rows, sp, prices):
        measured = sum(max(r.circuits.get(li.circuit, 0.0), 0.0) for li in loads.values() if li.controlled)
        net = r.consumption_w - measured + avg_controlled_w - max(r.production_w, 0.0)
        imp_w, exp_w = max(net, 0.0), max(-net, 0.0)
        nc_imp_wh += imp_w * s * WH_PER_WS
        nc_exp_wh += exp_w * s * WH_PER_WS
        nc_cost += (imp_w * pi - exp_w * pe) * s * WH_PER_WS / 1000.0
    fmt = lambda ts: datetime.fromtimestamp(ts, tz).isoformat()  # noqa: E731
    priced = tariff is not None
    return {
        "day": day.isoformat(),
        "readings": len(rows),
        "covered_h": round(covered_s / 3600.0, 4),
        "first": fmt(rows[0].ts) if rows else None,
        "last": fmt(rows[-1].ts) if rows else None,
        "gaps": [[fmt(a), fmt(b)] for a, b in gaps[:MAX_GAPS]],
        "gap_count": len(gaps),
        "consumption_kwh": kwh(cons_wh),
        "production_kwh": kwh(prod_wh),
        "import_kwh": kwh(imp_wh),
        "export_kwh": kwh(exp_wh),
        "self_consumed_kwh": kwh(prod_wh - exp_wh),
        "currency": getattr(tariff, "currency", None),
        "cost": round(cost, 6) if priced else None,
        "no_control": {
            "cost": round(nc_cost, 6) if priced else None,
            "import_kwh": kwh(nc_imp_wh),
            "export_kwh": kwh(nc_exp_wh),
            "controlled_kwh": kwh(controlled_wh),
            "controlled_avg_w": round(avg_controlled_w, 3),
        },
        "saved": round(nc_cost - cost, 6) if priced else None,
        "loads": {n: {"kwh": kwh(load_wh[n]), "cost": round(load_cost[n], 6) if priced else None,
                      "running_h": round(load_run_s[n] / 3600.0, 4), "controlled": loads[n].controlled}
                  for n in loads},
        "circuits": {c: kwh(wh) for c, wh in sorted(circuits_wh.items())},
    }
