"""When the forecast is fetched (pure, with explicit `now`), what its health says, and config
errors that name the key."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from circuitq.config import ConfigError, load_config
from services.solar_collector.core import RateLimited, Unreachable
from services.solar_collector.forecast.model import FetchState, after_call, health, next_fetch

T0 = datetime(2026, 5, 2, 10, 7, 13, tzinfo=timezone.utc)


def s(n):
    return timedelta(seconds=n)


def test_first_call_is_at_once():
    assert next_fetch(FetchState(offset_s=300), T0, 3600, 300, 12) == T0


def test_after_a_success_the_next_call_is_off_the_hour_by_the_offset():
    st = FetchState(offset_s=427)
    after_call(st, T0, ok=True)
    due = next_fetch(st, T0, 3600, 300, 12)
    assert due == datetime(2026, 5, 2, 11, 7, 7, tzinfo=timezone.utc)  # 11:00 + 427 s
    after_call(st, due, ok=True)
    assert next_fetch(st, due, 3600, 300, 12) == due + s(3600)  # then hourly on that phase


def test_a_forecast_is_cached_at_least_15_minutes():
    st = FetchState(offset_s=600)
    after_call(st, datetime(2026, 5, 2, 10, 9, tzinfo=timezone.utc), ok=True)
    due = next_fetch(st, T0, 900, 300, 12)  # slots at :10, :25, :40, :55
    assert due == datetime(2026, 5, 2, 10, 25, tzinfo=timezone.utc)
    assert due - st.last_call >= s(900)


def test_failures_back_off_from_retry_s_up_to_poll_s():
    st = FetchState(offset_s=0)
    waits = []
    now = T0
    for _ in range(6):
        after_call(st, now, ok=False)
        due = next_fetch(st, now, 3600, 300, 12)
        waits.append((due - now).total_seconds())
        now = due
    assert waits == [300, 600, 1200, 2400, 3600, 3600]
    after_call(st, now, ok=True)
    assert st.failures == 0


def test_a_rate_limit_retry_time_is_honoured():
    st = FetchState(offset_s=0)
    until = T0 + s(2400)
    after_call(st, T0, ok=False, retry_at=until)
    assert next_fetch(st, T0, 3600, 300, 12) == until  # not after the 300 s backoff
    after_call(st, until, ok=True)
    assert st.retry_at is None


def test_never_more_calls_in_an_hour_than_the_plan_allows():
    st = FetchState(offset_s=0)
    now = T0
    for _ in range(12):  # a restart loop: every call fails at once
        after_call(st, now, ok=False)
        now += s(10)
    due = next_fetch(st, now, 3600, 1, 12)
    assert due == T0 + s(3600)  # the 13th call waits until the 1st is an hour old


def test_health_keeps_the_forecast_and_says_stale_when_old():
    made = T0
    assert health(None, None, T0, 3600) == ("offline", "no forecast yet")
    assert health(made, None, T0 + s(600), 3600)[0] == "ok"
    state, msg = health(made, Unreachable("Forecast.Solar: HTTP 503 (maintenance or unreachable)"), T0 + s(600), 3600)
    assert state == "offline" and "keeping the forecast made 10 min ago" in msg and "503" in msg
    state, msg = health(made, RateLimited("Rate limit"), T0 + s(7200), 3600)
    assert state == "stale" and "2.0 h old" in msg and "RateLimited" in msg


# ---------------------------------------------------------------- config errors
def _error(config_factory, solar: dict, site: dict | None = None) -> str:
    base = {"system_size_w": 5000, "sources": [{"kind": "pvoutput"}], **solar}
    path = config_factory({"solar": base, **({"site": site} if site else {})})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return str(err.value)


def test_unknown_forecast_kind_names_the_key(config_factory):
    msg = _error(config_factory, {"array": {}, "forecast": {"kind": "solcast"}})
    assert "solar.forecast" in msg and "'forecast_solar', 'open_meteo'" in msg


def test_unknown_forecast_key_names_it(config_factory):
    msg = _error(config_factory, {"array": {}, "forecast": {"kind": "open_meteo", "tilt": 30}})
    assert "solar.forecast.open_meteo.tilt: unknown key" in msg


def test_polling_a_real_api_faster_than_its_cache_is_refused(config_factory):
    msg = _error(config_factory, {"array": {}, "forecast": {"kind": "forecast_solar", "poll_s": 300}})
    assert "solar.forecast.forecast_solar" in msg and "poll_s 300 is below 900 s" in msg


def test_a_path_in_the_host_is_refused(config_factory):
    msg = _error(config_factory, {"array": {}, "forecast": {"kind": "open_meteo",
                                                           "host": "https://api.open-meteo.com/v1"}})
    assert "solar.forecast.open_meteo.host" in msg and "no path" in msg


def test_forecast_without_array_names_solar_array(config_factory):
    msg = _error(config_factory, {"array": None, "forecast": {"kind": "open_meteo"}})
    assert "forecast needs `solar.array`" in msg


def test_forecast_without_coordinates_stops_the_service_naming_site_latitude(config_factory, service_factory):
    path = config_factory({"site": {"latitude": None, "longitude": None},
                           "solar": {"system_size_w": 5000, "sources": [{"kind": "pvoutput"}], "array": {},
                                     "forecast": {"kind": "open_meteo"}}})
    svc = service_factory("solar_collector", path)
    assert svc.proc.wait(30) == 2
    assert "solar.forecast needs site.latitude and site.longitude" in svc.log()


def test_without_a_forecast_in_hand_the_next_call_waits_only_the_cache_time():
    st = FetchState(offset_s=800, last_call=T0)  # restarted with another plane: its cache was dropped
    assert next_fetch(st, T0 + s(60), 3600, 300, 12) == T0 + s(900)
