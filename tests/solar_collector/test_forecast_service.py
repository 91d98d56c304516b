"""The forecast end to end: the real service process, the real broker, the local fakes of
Forecast.Solar and Open-Meteo. What a user notices: the retained forecast, its health, the
alerts, the calls the APIs see (rate limits honoured), and a forecast that survives errors."""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from services.solar_collector.forecast.model import ac_watts
from sim.fakes.forecast_solar import FakeForecastSolar
from sim.fakes.open_meteo import FakeOpenMeteo
from tests.solar_collector.conftest import PROD, src_health

FORECAST = "circuitq/solar/forecast"
HEALTH = src_health("forecast")
SITE = {"latitude": 33.99, "longitude": -81.03}
ARRAY = {"tilt_deg": 25, "azimuth_deg": 135, "losses_pct": 14}  # facing south-east


@pytest.fixture(autouse=True)
def clean_forecast(broker, probe_factory):
    p = probe_factory(broker, "solar_collector")
    for topic in (FORECAST, HEALTH):
        p.publish(topic, b"", retain=True)
    p.close()


@pytest.fixture
def fsolar():
    f = FakeForecastSolar(tz="America/New_York").start()
    yield f
    f.stop()


@pytest.fixture
def ometeo():
    f = FakeOpenMeteo(tz="America/New_York").start()
    yield f
    f.stop()


@pytest.fixture
def forecast(config_factory, service_factory):
    """forecast(fake, **forecast_section) -> the running service (an MQTT source feeds production)."""
    def start(fake, kind="forecast_solar", extra: dict | None = None, array: dict | None = None, **fc):
        solar = {"system_size_w": 5000, "tick_s": 0.2, "sources": [{"kind": "mqtt", "name": "nodered"}],
                 "array": array or ARRAY,
                 "forecast": {"kind": kind, "host": fake.url, "poll_s": 900, "retry_s": 0.3, "timeout_s": 2, **fc}}
        return service_factory("solar_collector", config_factory({"site": SITE, "solar": solar, **(extra or {})}))
    return start


def points_by_start(msg) -> dict:
    return {datetime.fromisoformat(q["start"]): q for q in msg.json()["points"]}


def made(msg) -> datetime:
    return datetime.fromisoformat(msg.json()["made"])


def test_forecast_solar_forecast_is_retained_for_the_planner(forecast, fsolar, user_probe, probe_factory, broker):
    forecast(fsolar)
    msg = user_probe.on_topic(FORECAST)
    f = msg.json()
    assert f["source"] == "forecast_solar" and f["points"]
    call = fsolar.requests[0]
    assert call["path"] == "/estimate/33.9900/-81.0300/25/-45/5"  # compass 135 -> -45 (south-east)
    assert call["query"] == {"time": "iso8601"} and call["headers"]["User-Agent"] == "circuitq-solar-collector"
    # tomorrow 09:00-10:00 local carries the energy the API keyed 10:00 (the period ENDING there)
    tomorrow = datetime.now(fsolar.tz).date() + timedelta(days=1)
    body = fsolar.estimate(33.99, -81.03, 25, -45, 5, "iso8601", time.time())
    nine = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, tzinfo=fsolar.tz)
    pts = points_by_start(msg)
    assert pts[nine]["w"] == body["result"]["watt_hours_period"][(nine + timedelta(hours=1)).isoformat()]
    assert datetime.fromisoformat(pts[nine]["end"]) - nine == timedelta(hours=1)
    assert all(datetime.fromisoformat(q["end"]) > datetime.now(fsolar.tz) for q in f["points"])  # no past
    h = user_probe.on_topic(HEALTH, lambda m: m.json()["state"] == "ok").json()
    assert h["source"] == "forecast" and "forecast made 0 min ago" in h["message"]
    late = probe_factory(broker, "scheduler")  # a planner starting later gets it retained
    late.subscribe(FORECAST)
    assert late.on_topic(FORECAST).retain


def test_open_meteo_irradiance_becomes_ac_watts(forecast, ometeo, user_probe):
    forecast(ometeo, kind="open_meteo", array={**ARRAY, "azimuth_deg": 270, "inverter_w": 3000})
    msg = user_probe.on_topic(FORECAST)
    assert msg.json()["source"] == "open_meteo"
    q = ometeo.requests[0]["query"]
    assert (q["tilt"], q["azimuth"], q["timezone"], q["forecast_days"]) == ("25", "90", "GMT", "2")
    assert q["hourly"] == "global_tilted_irradiance,temperature_2m"
    ref = ometeo.forecast(33.99, -81.03, 25, 90, timezone.utc, {"hourly": (q["hourly"].split(","), 60, 48)},
                          False, time.time())["hourly"]
    pts = points_by_start(msg)
    checked = 0
    for i in range(1, len(ref["time"])):
        end = datetime.fromisoformat(ref["time"][i] + "+00:00")
        p = pts.get(end - timedelta(hours=1))  # the stamp closes the hour it averages
        if p is not None:
            air = (ref["temperature_2m"][i] + ref["temperature_2m"][i - 1]) / 2
            assert p["w"] == pytest.approx(ac_watts(ref["global_tilted_irradiance"][i], air, 5000, 14, 3000), abs=0.1)
            checked += 1
    assert checked >= 24 and max(p["w"] for p in pts.values()) == 3000  # clipped at inverter_w


def test_rate_limit_retry_at_is_honoured_and_the_forecast_kept(forecast, user_probe):
    fake = FakeForecastSolar(limit=1, period_s=4).start()  # one call per 4 s window
    try:
        forecast(fake, poll_s=0.3)
        first = made(user_probe.on_topic(FORECAST))
        h = user_probe.on_topic(HEALTH, lambda m: "RateLimited" in m.json()["message"]).json()
        assert h["state"] == "error" and "keeping the forecast" in h["message"] and "next call at" in h["message"]
        retry_at = datetime.fromisoformat(h["message"].split("next call at ")[1].split(")")[0].split(";")[0])
        again = user_probe.on_topic(FORECAST, lambda m: made(m) > first, timeout=15)
        assert fake.counts["while_limited"] == 0  # no call inside the ban (it would extend it)
        calls = [r["t"] for r in fake.requests]
        assert calls[2] >= retry_at.timestamp()
        assert user_probe.last(FORECAST) is again
    finally:
        fake.stop()


def test_errors_keep_the_last_good_forecast_until_it_is_stale(forecast, fsolar, user_probe, probe_factory, broker):
    forecast(fsolar, poll_s=0.3, max_age_s=3)
    good = made(user_probe.on_topic(FORECAST))
    fsolar.maintenance = True
    h = user_probe.on_topic(HEALTH, lambda m: "503" in m.json()["message"]).json()
    assert h["state"] == "offline" and "keeping the forecast" in h["message"]
    fsolar.maintenance, fsolar.malformed = False, "text_watts"
    err = user_probe.on_topic("circuitq/error", lambda m: "forecast_solar" in m.json()["error"]).json()
    assert "watt_hours_period" in err["error"] and "'lots'" in err["error"]
    user_probe.on_topic(HEALTH, lambda m: m.json()["state"] == "stale", timeout=15)
    alert = user_probe.on_topic("circuitq/alert", lambda m: m.json()["key"] == "solar:down:forecast").json()
    assert "old" in alert["message"]
    late = probe_factory(broker, "scheduler")
    late.subscribe(FORECAST)
    assert made(late.on_topic(FORECAST)) == good  # never withdrawn
    fsolar.malformed = None
    user_probe.on_topic(FORECAST, lambda m: made(m) > good, timeout=15)
    user_probe.on_topic(HEALTH, lambda m: m.json()["state"] == "ok")
    user_probe.on_topic("circuitq/alert", lambda m: m.json()["key"] == "solar:down:forecast" and m.json()["resolved"])


def test_a_restart_republishes_the_cached_forecast_without_calling(forecast, fsolar, user_probe, probe_factory,
                                                                   broker):
    svc = forecast(fsolar)
    first = made(user_probe.on_topic(FORECAST))
    svc.stop()
    p = probe_factory(broker, "solar_collector")
    p.publish(FORECAST, b"", retain=True)  # a broker restarted without persistence
    mark = user_probe.mark()
    forecast(fsolar)
    assert made(user_probe.on_topic(FORECAST, lambda m: m.payload != b"", since=mark)) == first
    time.sleep(1)
    assert len(fsolar.requests) == 1  # the 15-minute cache holds across the restart


def test_open_meteo_daily_limit_waits_for_tomorrow(forecast, user_probe):
    fake = FakeOpenMeteo(limit=0, limit_kind="daily").start()
    try:
        forecast(fake, kind="open_meteo", poll_s=0.3)
        h = user_probe.on_topic(HEALTH, lambda m: "Daily API request limit" in m.json()["message"]).json()
        assert h["state"] == "error" and h["last_success"] is None
        time.sleep(2)  # with retry_s 0.3 it would have called 3-4 more times
        assert fake.counts["forecast"] == 1
    finally:
        fake.stop()


def test_a_slow_api_times_out_without_holding_up_production(forecast, fsolar, user_probe):
    fsolar.slow_s = 3
    svc = forecast(fsolar, timeout_s=0.5)
    user_probe.on_topic(HEALTH, lambda m: "timed out" in m.json()["message"], timeout=15)
    user_probe.publish("circuitq/solar/input/nodered", "1234")
    assert user_probe.on_topic(PROD).json()["w"] == 1234
    assert svc.alive()


def test_the_api_key_goes_in_the_path_and_nowhere_else(forecast, user_probe, secrets_path, tmp_path):
    key = "fs-key-0123456789"
    fake = FakeForecastSolar(api_key=key).start()
    try:
        keyed = tmp_path / "secrets.yaml"
        fd = os.open(keyed, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as fh:
            yaml.safe_dump({**yaml.safe_load(secrets_path.read_text()), "forecast_solar": {"api_key": key}}, fh)
        svc = forecast(fake, extra={"secrets_file": str(keyed)})
        user_probe.on_topic(FORECAST)
        assert fake.requests[0]["path"].startswith(f"/{key}/estimate/")
        fake.api_key = "rotated"  # the key was revoked
        svc.stop()
        mark = user_probe.mark()
        (tmp_path / "state" / "solar_forecast.json").unlink()  # no cache: call at once
        svc = forecast(fake, extra={"secrets_file": str(keyed)})
        alert = user_probe.on_topic("circuitq/alert", lambda m: m.json()["key"] == "solar:auth:forecast",
                                    since=mark).json()
        assert "API key" in alert["message"] and alert["priority"] == 1
        svc.stop()
        assert key not in svc.log() and all(key not in m.text for m in user_probe.messages)
    finally:
        fake.stop()
