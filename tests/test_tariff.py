"""The tariff: time-of-use periods by season, weekday and holiday; export credit; a series."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from circuitq.config.tariff import TariffConfig
from circuitq.tariff import SeriesPoint, Tariff

NY = ZoneInfo("America/New_York")
CFG = {
    "default_per_kwh": 0.11, "export_per_kwh": 0.04,
    "periods": {
        "on_peak": {"per_kwh": 0.29, "windows": [
            {"start": "18:00", "end": "21:00", "days": "weekdays", "months": [6, 7, 8, 9]},
            {"start": "06:00", "end": "09:00", "days": "weekdays", "months": [12, 1, 2]}]},
        "super_off_peak": {"per_kwh": 0.07, "export_per_kwh": 0.02,
                           "windows": [{"start": "01:00", "end": "05:00"}]},
    },
}


def tariff(**over) -> Tariff:
    return Tariff(TariffConfig.model_validate({**CFG, **over}), NY, "US", "SC")


def at(*a) -> datetime:
    return datetime(*a, tzinfo=NY)


def test_periods_by_season_weekday_and_time():
    t = tariff()
    assert t.price(at(2026, 7, 15, 19, 0)).period == "on_peak"      # summer weekday evening
    assert t.price(at(2026, 7, 15, 19, 0)).import_per_kwh == 0.29
    assert t.price(at(2026, 7, 18, 19, 0)).period == "default"      # Saturday
    assert t.price(at(2026, 1, 14, 7, 0)).period == "on_peak"       # winter weekday morning
    assert t.price(at(2026, 7, 15, 7, 0)).period == "default"       # summer morning
    p = t.price(at(2026, 7, 15, 2, 0))
    assert (p.period, p.import_per_kwh, p.export_per_kwh) == ("super_off_peak", 0.07, 0.02)
    assert t.price(at(2026, 7, 15, 12, 0)).export_per_kwh == 0.04


def test_holidays_price_as_weekends_unless_turned_off():
    july_4th_observed = at(2026, 7, 3, 19, 0)  # a Friday, the observed Independence Day
    assert tariff().price(july_4th_observed).period == "default"
    assert tariff(holidays=False).price(july_4th_observed).period == "on_peak"


def test_next_change_is_the_next_boundary_and_cache_is_exact():
    t = tariff()
    assert t.next_change(at(2026, 7, 15, 12, 0)) == at(2026, 7, 15, 18, 0)
    # minute by minute across the boundary: the cache never serves a stale price
    seen = [t.price(at(2026, 7, 15, 17, 58) + timedelta(minutes=i)).period for i in range(4)]
    assert seen == ["default", "default", "on_peak", "on_peak"]


def test_a_dynamic_series_wins_where_it_has_points():
    t = tariff()
    start = at(2026, 7, 15, 12, 0)
    t.set_series([SeriesPoint(start, start + timedelta(hours=1), 0.50),
                  SeriesPoint(start + timedelta(hours=1), start + timedelta(hours=2), -0.01, 0.0)])
    assert t.price(start + timedelta(minutes=30)).import_per_kwh == 0.50
    assert t.price(start + timedelta(minutes=30)).export_per_kwh == 0.04  # the period's credit
    assert t.price(start + timedelta(minutes=90)).import_per_kwh == -0.01
    assert t.price(start + timedelta(minutes=150)).period == "default"
    assert t.price(start - timedelta(minutes=1)).period == "default"
    with pytest.raises(ValueError, match="overlap"):
        t.set_series([SeriesPoint(start, start + timedelta(hours=2), 0.1),
                      SeriesPoint(start + timedelta(hours=1), start + timedelta(hours=3), 0.2)])


def test_cost_of_import_and_export():
    t = tariff()
    assert t.cost(at(2026, 7, 15, 19, 0), 2.0, 1.0) == pytest.approx(2 * 0.29 - 0.04)


def test_bad_prices_are_refused_with_the_key():
    with pytest.raises(ValidationError, match="default_per_kwh"):
        TariffConfig.model_validate({**CFG, "default_per_kwh": float("nan")})
    with pytest.raises(ValidationError, match="windows"):
        TariffConfig.model_validate({**CFG, "periods": {"x": {"per_kwh": 0.1, "windows": []}}})
