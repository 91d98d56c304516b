"""kWh counters for Home Assistant's Energy dashboard: they integrate the watts a user sees,
never go down (a decrease would read as a meter reset), do not invent energy across a gap,
and survive a restart of the curb collector."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from circuitq import topics
from circuitq.payloads import CurbReading
from services.curb_collector.energy import MAX_GAP_S, EnergyMeter
from sim.fakes.curb import FakeCurb
from tests.curb_collector.conftest import curb_overrides

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)


def reading(t_s: float, circuits: dict, net_w: float = 1000.0, stale: bool = False) -> CurbReading:
    ts = T0 + timedelta(seconds=t_s)
    return CurbReading(ts=ts, received=ts, stale=stale, age_s=0, consumption_w=3000, production_w=2000,
                       net_w=net_w, circuits=circuits)


def test_an_hour_at_4500_w_is_4_5_kwh_and_the_house_totals_add_up(tmp_path):
    meter = EnergyMeter(tmp_path / "e.json")
    for minute in range(61):
        meter.add(reading(60 * minute, {"water_heater_north": 4500.0}), T0)
    e = meter.totals()
    assert e.circuits["water_heater_north"] == pytest.approx(4.5)
    assert (e.consumption_kwh, e.production_kwh) == (pytest.approx(3.0), pytest.approx(2.0))
    assert (e.import_kwh, e.export_kwh) == (pytest.approx(1.0), 0)
    assert e.since == T0 and e.ts == T0 + timedelta(hours=1)


def test_trapezoid_between_readings_and_negative_watts_never_subtract(tmp_path):
    meter = EnergyMeter(tmp_path / "e.json")
    meter.add(reading(0, {"pool_pump": 0.0, "garage": -20.0}, net_w=-500), T0)
    meter.add(reading(600, {"pool_pump": 1000.0, "garage": -20.0}, net_w=-500), T0)
    e = meter.totals()
    assert e.circuits["pool_pump"] == pytest.approx(500 * 600 / 3.6e6, abs=1e-4)  # ramp 0 -> 1000 W
    assert e.circuits["garage"] == 0  # CT noise below zero adds nothing
    assert (e.import_kwh, e.export_kwh) == (0, pytest.approx(500 * 600 / 3.6e6, abs=1e-4))


def test_stale_repeated_and_far_apart_readings_add_nothing(tmp_path):
    meter = EnergyMeter(tmp_path / "e.json")
    assert meter.add(reading(0, {"dryer": 2400.0}), T0)
    assert not meter.add(reading(0, {"dryer": 2400.0}), T0)  # same minute again
    assert not meter.add(reading(60, {"dryer": 2400.0}, stale=True), T0)
    gap = MAX_GAP_S + 60
    assert meter.add(reading(gap, {"dryer": 2400.0}), T0)  # the unknown gap is not guessed
    assert meter.totals().circuits["dryer"] == 0 and meter.totals().uncounted_s == gap
    meter.add(reading(gap + 60, {"dryer": 2400.0}), T0)
    assert meter.totals().circuits["dryer"] == pytest.approx(0.04)


def test_counters_survive_a_restart_and_keep_growing(tmp_path):
    path = tmp_path / "e.json"
    meter = EnergyMeter(path)
    for minute in range(31):
        meter.add(reading(60 * minute, {"water_heater_north": 4500.0}), T0 + timedelta(minutes=minute))
    meter.save(T0)
    before = meter.totals().circuits["water_heater_north"]
    again = EnergyMeter(path)
    again.add(reading(31 * 60, {"water_heater_north": 4500.0}), T0)
    after = again.totals().circuits["water_heater_north"]
    assert before == pytest.approx(2.25) and after == pytest.approx(2.25 + 0.075)
    assert again.totals().since == T0


@pytest.fixture
def fake_curb():
    f = FakeCurb().start()
    yield f
    f.stop()


def test_the_collector_publishes_growing_retained_counters_across_a_restart(
        fake_curb, config_factory, service_factory, probe_factory, broker):
    fake_curb.set_watts({"curb-wh-north": 4500})
    topic = topics.CURB_ENERGY.topic("circuitq")
    user = probe_factory(broker, "user")
    user.subscribe(topic)
    mark = user.mark()
    cfg = config_factory(curb_overrides(fake_curb))
    svc = service_factory("curb_collector", cfg)
    first = user.on_topic(topic, lambda m: m.json()["circuits"]["water_heater_north"] > 0, timeout=30,
                          since=mark).json()
    ts = datetime.fromisoformat(first["ts"])  # in the site's offset (America/New_York), not Z
    assert ts.utcoffset() == ts.astimezone(ZoneInfo("America/New_York")).utcoffset() != timedelta(0)
    svc.stop()
    last = user.last(topic).json()
    mark = user.mark()
    service_factory("curb_collector", cfg)
    grown = user.on_topic(topic, lambda m: not m.retain and m.json()["ts"] > last["ts"], timeout=30,
                          since=mark).json()
    assert grown["since"] == first["since"]  # the same counters, not a new zero
    assert grown["circuits"]["water_heater_north"] >= last["circuits"]["water_heater_north"] > 0
