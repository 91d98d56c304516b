"""A day's totals: the roll-up equals the sum of its readings; cost and the no-control estimate."""
from __future__ import annotations

import random
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from circuitq.config.tariff import TariffConfig
from circuitq.tariff import Tariff
from services.recorder.rollup import LoadInfo, Row, day_bounds, summarize

TZ = ZoneInfo("America/New_York")
DAY = date(2026, 7, 14)
LOADS = {"water_heater": LoadInfo("water_heater", True, 500), "pool_pump": LoadInfo("pool", True, 500),
         "kitchen": LoadInfo("kitchen", False, 4000)}


def random_day(seed: int, n: int = 900) -> tuple[list[Row], float]:
    """Readings at irregular intervals (20 s .. 4 min, and a few gaps of an hour)."""
    rng = random.Random(seed)
    start, end = day_bounds(DAY, TZ)
    t, rows = start + rng.uniform(0, 60), []
    while t < end and len(rows) < n:
        circuits = {"water_heater": rng.choice([0.0, 4500.0]), "pool": rng.choice([0.0, 1100.0]),
                    "kitchen": rng.uniform(200, 5000)}
        cons = sum(circuits.values()) + rng.uniform(100, 400)
        rows.append(Row(t, cons, max(0.0, rng.uniform(-30, 6000)), circuits))
        t += 3600 if rng.random() < 0.01 else rng.uniform(20, 240)
    return rows, start - 50.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_day_is_the_sum_of_its_readings(seed):
    rows, prev = random_day(seed)
    max_span = 180.0
    s = summarize(DAY, TZ, rows, prev, LOADS, None, max_span)
    # each reading stands for the time since the previous one, at most max_span
    spans, last = [], prev
    for r in rows:
        spans.append(min(r.ts - last, max_span))
        last = r.ts
    kwh = lambda f: sum(f(r) * sp for r, sp in zip(rows, spans)) / 3.6e6  # noqa: E731
    assert s["readings"] == len(rows)
    assert s["consumption_kwh"] == pytest.approx(kwh(lambda r: r.consumption_w), abs=1e-5)
    assert s["production_kwh"] == pytest.approx(kwh(lambda r: r.production_w), abs=1e-5)
    for name, li in LOADS.items():
        assert s["loads"][name]["kwh"] == pytest.approx(kwh(lambda r: r.circuits[li.circuit]), abs=1e-5)
    # energy balance: what came in from the grid minus what went out is use minus production
    assert s["import_kwh"] - s["export_kwh"] == pytest.approx(s["consumption_kwh"] - s["production_kwh"], abs=1e-4)
    assert s["covered_h"] == pytest.approx(sum(spans) / 3600, abs=1e-3)
    assert s["gap_count"] == sum(1 for a, b in zip([prev] + [r.ts for r in rows], [r.ts for r in rows])
                                 if b - a > max_span)


def test_a_dst_day_has_25_hours():
    start, end = day_bounds(date(2026, 11, 1), TZ)  # clocks go back
    assert end - start == 25 * 3600


def tou() -> Tariff:
    cfg = TariffConfig.model_validate({
        "currency": "USD", "default_per_kwh": 0.10, "export_per_kwh": 0.04,
        "periods": {"peak": {"per_kwh": 0.30, "windows": [{"start": "14:00", "end": "19:00"}]}}})
    return Tariff(cfg, TZ, None)


def at(hh: int, mm: int = 0) -> float:
    return datetime(2026, 7, 14, hh, mm, tzinfo=TZ).timestamp()


def test_cost_prices_each_reading_at_its_time_and_credits_export():
    # one hour of 2 kW import off-peak, one hour of 2 kW import at peak, one hour exporting 1 kW
    rows = [Row(at(9), 2000, 0, {}), Row(at(10), 2000, 0, {}),
            Row(at(15), 2000, 0, {}), Row(at(16), 2000, 0, {}),
            Row(at(12), 500, 1500, {}), Row(at(13), 500, 1500, {})]
    rows.sort(key=lambda r: r.ts)
    s = summarize(DAY, TZ, rows, None, {}, tou(), max_span_s=3600)
    # spans: 9:00 0 (first ever), 10:00 1 h at 0.10, 12:00 1 h (capped) at 0.10 export,
    # 13:00 1 h export, 15:00 1 h at peak (its middle, 14:30, is peak), 16:00 1 h at peak
    assert s["import_kwh"] == pytest.approx(2 + 2 + 2)
    assert s["export_kwh"] == pytest.approx(1 + 1)
    assert s["cost"] == pytest.approx(2 * 0.10 + 4 * 0.30 - 2 * 0.04)
    assert s["currency"] == "USD"


def test_no_control_spreads_controlled_energy_over_the_day():
    """A heater that circuitq ran at noon on solar would, spread over the day, import at night:
    the estimate costs more. The same heater running flat all day costs the same either way."""
    heater = {"wh": LoadInfo("wh", True, 500)}
    hours = range(0, 24)
    shifted = [Row(at(h), 300 + (4000 if h in (11, 12, 13) else 0), 5000 if 10 <= h <= 14 else 0,
                   {"wh": 4000.0 if h in (11, 12, 13) else 0.0}) for h in hours]
    s = summarize(DAY, TZ, shifted, at(0) - 3600, heater, tou(), max_span_s=3600)
    assert s["no_control"]["controlled_kwh"] == pytest.approx(12.0)
    assert s["no_control"]["controlled_avg_w"] == pytest.approx(500.0)
    assert s["no_control"]["cost"] > s["cost"] and s["saved"] > 0
    flat = [Row(at(h), 800, 0, {"wh": 500.0}) for h in hours]
    f = summarize(DAY, TZ, flat, at(0) - 3600, heater, tou(), max_span_s=3600)
    assert f["saved"] == pytest.approx(0.0, abs=1e-9)


def test_without_a_tariff_energy_is_summed_and_cost_is_unknown():
    rows, prev = random_day(4, 50)
    s = summarize(DAY, TZ, rows, prev, LOADS, None)
    assert s["cost"] is None and s["saved"] is None and s["consumption_kwh"] > 0
