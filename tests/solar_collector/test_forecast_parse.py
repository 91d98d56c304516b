"""Forecast parsing and alignment (pure): both wire formats, the azimuth conventions, the
irradiance -> AC watts conversion, and malformed answers refused with the field named."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from services.solar_collector.core import BadData
from services.solar_collector.forecast import forecast_solar as fs
from services.solar_collector.forecast import open_meteo as om
from services.solar_collector.forecast.model import Refused, ac_watts, api_azimuth

CEST = timezone(timedelta(hours=2))
# Forecast.Solar's answer as in the Home Assistant library's fixture (Leiden, 2024-04-26/27),
# trimmed to the first day plus the next sunrise.
WATTS = {"06:20:17": 0, "07:00:00": 270, "08:00:00": 481, "09:00:00": 594, "10:00:00": 781,
         "11:00:00": 869, "12:00:00": 773, "13:00:00": 710, "14:00:00": 620, "15:00:00": 517,
         "16:00:00": 430, "17:00:00": 325, "18:00:00": 204, "19:00:00": 89, "20:00:00": 38, "20:59:23": 0}
PERIOD = {"06:20:17": 0, "07:00:00": 89, "08:00:00": 376, "09:00:00": 538, "10:00:00": 688,
          "11:00:00": 825, "12:00:00": 821, "13:00:00": 742, "14:00:00": 665, "15:00:00": 569,
          "16:00:00": 474, "17:00:00": 378, "18:00:00": 265, "19:00:00": 147, "20:00:00": 64, "20:59:23": 19}
NEXT_DAY = {"2024-04-27T06:18:17+02:00": 0, "2024-04-27T07:00:00+02:00": 67, "2024-04-27T08:00:00+02:00": 260}


def fs_body(local: bool = False, with_period: bool = True) -> str:
    def key(hms, day="2024-04-26"):
        return f"{day} {hms}" if local else f"{day}T{hms}+02:00"
    nxt = {(k.replace("T", " ")[:19] if local else k): v for k, v in NEXT_DAY.items()}
    result = {"watts": {**{key(k): v for k, v in WATTS.items()}, **{k: 0 for k in nxt}}}
    if with_period:
        result["watt_hours_period"] = {**{key(k): v for k, v in PERIOD.items()}, **nxt}
    return json.dumps({"result": result, "message": {
        "code": 0, "type": "success", "text": "",
        "info": {"latitude": 52.16, "longitude": 4.47, "timezone": "Europe/Amsterdam"},
        "ratelimit": {"zone": "IP ADDRESS", "period": 3600, "limit": 12, "remaining": 11}}})


def at(h, m=0, day=26):
    return datetime(2024, 4, day, h, m, tzinfo=CEST)


def by_start(points):
    return {q.start: q for q in points}


# ---------------------------------------------------------------- azimuth
@pytest.mark.parametrize("compass, api", [(180, 0), (90, -90), (270, 90), (0, -180), (135, -45), (225, 45),
                                          (359, 179)])
def test_compass_bearing_becomes_south_zero_azimuth(compass, api):
    assert api_azimuth(compass) == api


def test_request_carries_the_converted_plane():
    assert fs.estimate_path(33.99, -81.03, 24.6, 135, 5250) == "/estimate/33.9900/-81.0300/25/-45/5.25"
    assert fs.estimate_path(33.99, -81.03, 25, 270, 5000, key="k3y") == "/k3y/estimate/33.9900/-81.0300/25/90/5"
    q = om.query(33.99, -81.03, 25, 90, 2, 60)
    assert (q["tilt"], q["azimuth"], q["hourly"]) == ("25", "-90", om.VARIABLES)
    assert q["timezone"] == "GMT" and q["forecast_days"] == "2"
    q15 = om.query(33.99, -81.03, 25, 180, 2, 15)
    assert q15["minutely_15"] == om.VARIABLES and q15["forecast_minutely_15"] == "192" and "hourly" not in q15


# ---------------------------------------------------------------- Forecast.Solar
def test_period_energy_belongs_to_the_hour_that_ends_at_its_key():
    p = by_start(fs.parse(fs_body(), 5000, 1.5))
    assert p[at(7)].w == 376 and p[at(7)].end == at(8)  # 07:00-08:00 is the value keyed 08:00
    assert p[at(6)].w == 89  # sunrise 06:20:17-07:00, keyed 07:00, lands in 06:00-07:00
    assert p[at(11)].w == 821
    assert p[at(20)].w == 19  # 20:00-sunset 20:59:23
    assert p[at(23)].w == 0  # the night in between is a known zero
    assert p[at(6, day=27)].w == 67 and p[at(7, day=27)].w == 260
    assert min(p) == at(6) and max(p) == at(7, day=27)
    assert all(q.end - q.start == timedelta(hours=1) for q in p.values())


def test_energy_is_preserved_by_the_alignment():
    p = fs.parse(fs_body(), 5000, 1.5)
    assert sum(q.w for q in p) == sum(PERIOD.values()) + sum(NEXT_DAY.values())


def test_plain_local_times_are_read_in_the_location_zone():
    assert fs.parse(fs_body(local=True), 5000, 1.5) == fs.parse(fs_body(), 5000, 1.5)


def test_watts_alone_are_integrated_to_the_same_figures():
    p = by_start(fs.parse(fs_body(with_period=False), 5000, 1.5))
    assert p[at(7)].w == pytest.approx((270 + 481) / 2)  # 375.5 against the API's own 376
    assert p[at(6)].w == pytest.approx(270 / 2 * (39 * 60 + 43) / 3600, abs=0.1)


def test_plain_local_times_without_a_zone_are_refused():
    body = json.loads(fs_body(local=True))
    del body["message"]["info"]["timezone"]
    with pytest.raises(BadData, match="message.info.timezone"):
        fs.parse(json.dumps(body), 5000, 1.5)


@pytest.mark.parametrize("mutate, words", [
    (lambda b: b.pop("result"), "no `result`"),
    (lambda b: b["result"]["watt_hours_period"].update({"2024-04-26T12:00:00+02:00": "lots"}),
     "watt_hours_period[2024-04-26T12:00:00+02:00]"),
    (lambda b: b["result"]["watt_hours_period"].update({"noon": 5}), "'noon' is not a time"),
    (lambda b: b["result"]["watt_hours_period"].update({"2024-04-26T12:00:00+02:00": -5}), "negative"),
    (lambda b: b["result"]["watt_hours_period"].update({"2024-04-26T12:00:00+02:00": 90_000}), "absurd"),
])
def test_malformed_forecast_solar_answers_name_the_field(mutate, words):
    body = json.loads(fs_body())
    mutate(body)
    with pytest.raises(BadData) as err:
        fs.parse(json.dumps(body), 5000, 1.5)
    assert words in str(err.value)


def test_truncated_json_is_refused():
    with pytest.raises(BadData, match="not JSON"):
        fs.parse('{"result":{"watts":{"2024-04-26 07:00:00":27', 5000, 1.5)


def test_rate_limit_answer_gives_the_retry_time():
    now = datetime(2024, 4, 27, 0, 10, tzinfo=timezone.utc)
    body = json.dumps({"result": "Rate limit for API calls reached.", "message": {
        "code": 429, "type": "error", "text": "Rate limit for API calls reached.",
        "ratelimit": {"zone": "1.2.3.4", "period": 3600, "limit": 12, "retry-at": "2024-04-27T02:48:53+02:00"}}})
    with pytest.raises(Exception) as err:
        fs.check_status(429, {}, body, "url", now)
    assert err.value.not_before == datetime(2024, 4, 27, 0, 48, 53, tzinfo=timezone.utc)
    with pytest.raises(Exception) as err:  # the header wins over the body
        fs.check_status(429, {"X-Ratelimit-Retry-At": "2024-04-27T01:00:00+00:00"}, body, "url", now)
    assert err.value.not_before == datetime(2024, 4, 27, 1, 0, tzinfo=timezone.utc)
    with pytest.raises(Exception) as err:  # no time given: wait the public period
        fs.check_status(429, {}, "{}", "url", now)
    assert err.value.not_before == now + timedelta(hours=1)


# ---------------------------------------------------------------- Open-Meteo
def om_body(times, gti, temp, offset=-14400, block="hourly") -> str:
    return json.dumps({"latitude": 33.99, "longitude": -81.03, "utc_offset_seconds": offset,
                       "timezone": "America/New_York", block: {"time": times, "global_tilted_irradiance": gti,
                                                               "temperature_2m": temp}})


def test_irradiance_is_the_mean_of_the_preceding_hour():
    body = om_body(["2026-07-01T12:00", "2026-07-01T13:00", "2026-07-01T14:00"], [400, 800, None], [25, 25, 25])
    p = om.parse(body, 60, 5000, 14, None)
    assert len(p) == 2  # null: beyond the model's range, not darkness
    assert p[1].start == datetime(2026, 7, 1, 16, tzinfo=timezone.utc)  # 12:00-13:00 EDT
    assert p[1].end == datetime(2026, 7, 1, 17, tzinfo=timezone.utc)
    assert p[1].w == pytest.approx(ac_watts(800, 25, 5000, 14, None), abs=0.1)


def test_pvwatts_conversion_with_heat_losses_and_clipping():
    # 1000 W/m2 at 25 degC air: cell 56.25 degC -> x 0.875; 14 % losses -> 5000 x 0.875 x 0.86
    assert ac_watts(1000, 25, 5000, 14, None) == pytest.approx(3762.5)
    assert ac_watts(1000, 25, 5000, 14, 3500) == 3500
    # 500 W/m2 at 20 degC: cell 35.625 degC -> x 0.9575
    assert ac_watts(500, 20, 5000, 14, None) == pytest.approx(5000 * 0.5 * 0.9575 * 0.86)
    assert ac_watts(0, 30, 5000, 14, None) == 0
    assert ac_watts(500, None, 5000, 0, None) == 2500  # no temperature: no derating
    # the period's temperature is the mean of its two ends
    two = om.parse(om_body(["2026-07-01T12:00", "2026-07-01T13:00"], [0, 500], [10, 30]), 60, 5000, 14, None)
    assert two[1].w == pytest.approx(ac_watts(500, 20, 5000, 14, None), abs=0.1)


def test_one_offset_for_the_whole_series_across_a_dst_change():
    # Fetched on 31 October (EDT, -4 h): Open-Meteo keeps -4 h past the 1 November change.
    times = [f"2026-11-01T{h:02d}:00" for h in range(0, 4)]
    p = om.parse(om_body(times, [0, 0, 0, 0], [5, 5, 5, 5]), 60, 5000, 14, None)
    assert [q.end.hour for q in p] == [4, 5, 6, 7]  # UTC, one hour apart, no repeated hour


def test_quarter_hour_means():
    times = ["2026-07-01T12:00", "2026-07-01T12:15"]
    p = om.parse(om_body(times, [700, 720], [25, 25], offset=0, block="minutely_15"), 15, 5000, 14, None)
    assert p[1].start == datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
    assert p[1].end == datetime(2026, 7, 1, 12, 15, tzinfo=timezone.utc)


def test_unixtime_stamps_are_gmt():
    body = json.dumps({"utc_offset_seconds": 7200, "hourly": {
        "time": [1782907200], "global_tilted_irradiance": [100], "temperature_2m": [20]}})
    assert om.parse(body, 60, 5000, 14, None)[0].end == datetime.fromtimestamp(1782907200, timezone.utc)


@pytest.mark.parametrize("body, words", [
    ('{"latitude": 52.52, "hourly": {"time": ["2026-05-02T00:00", ', "not JSON"),
    ('{"latitude": 52.52}', "no `hourly`"),
    (om_body(["2026-07-01T12:00", "2026-07-01T13:00"], [100], [20, 20]), "not lists of one length"),
    (om_body(["2026-07-01T12:00"], ["sunny"], [20]), "global_tilted_irradiance[0] is not a number"),
    (om_body(["noon"], [100], [20]), "hourly.time[0] is not a time"),
    (om_body(["2026-07-01T12:00"], [9000], [20]), "impossible"),
])
def test_malformed_open_meteo_answers_name_the_field(body, words):
    with pytest.raises(BadData) as err:
        om.parse(body, 60, 5000, 14, None)
    assert words in str(err.value)


def test_open_meteo_errors_carry_the_reason():
    now = datetime(2026, 5, 2, 10, 30, tzinfo=timezone.utc)
    with pytest.raises(Refused, match="invalid String value foo"):
        om.check_status(400, {}, '{"error": true, "reason": "Cannot initialize WeatherVariable from '
                                 'invalid String value foo."}', "url", now)
    with pytest.raises(Exception) as err:
        om.check_status(429, {}, '{"error": true, "reason": "Daily API request limit exceeded. '
                                 'Please try again tomorrow."}', "url", now)
    assert "Daily API request limit" in str(err.value)
    assert err.value.not_before == datetime(2026, 5, 3, tzinfo=timezone.utc)
    with pytest.raises(Exception) as err:
        om.check_status(429, {}, '{"error": true, "reason": "Minutely API request limit exceeded."}', "url", now)
    assert err.value.not_before == datetime(2026, 5, 2, 10, 31, tzinfo=timezone.utc)
