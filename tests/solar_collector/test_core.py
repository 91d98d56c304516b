"""Pure parsing, validation, freshness, selection and budget rules (no I/O, `now` injected)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from circuitq.config.endpoint import parse_endpoint
from circuitq.config.solar import SolarConfig
from services.solar_collector.core import (BadData, NoData, Sample, SourceState, Unreachable, check_sample,
                                           next_delay, record, refresh_health, select)
from services.solar_collector.sources.enlighten import parse_summary, rate_limit_until
from services.solar_collector.sources.envoy import parse_production
from services.solar_collector.sources.mqtt_input import parse_message
from services.solar_collector.sources.pvoutput import parse_rate, parse_status
from services.solar_collector.sources.script import parse_output

NOW = datetime(2026, 6, 1, 16, 0, tzinfo=timezone.utc)
NY = ZoneInfo("America/New_York")


def cfg(*sources, **kw):
    return SolarConfig.model_validate({"system_size_w": 5000, "sources": list(sources), **kw})


# ---------------------------------------------------------------- config
def test_default_polls_follow_each_apis_budget():
    c = cfg({"kind": "enlighten", "system_id": "1"}, {"kind": "pvoutput"},
            {"kind": "pvoutput", "name": "donor", "requests_per_hour": 300},
            {"kind": "enlighten", "name": "kw", "system_id": "1", "plan": "kilowatt"})
    assert [s.interval_s for s in c.sources] == [2700, 60, 12, 60]  # Watt plan: 45 min


def test_polls_faster_than_the_budget_are_refused():
    with pytest.raises(ValidationError, match="1000 calls a month"):
        cfg({"kind": "enlighten", "system_id": "1", "poll_s": 600})
    with pytest.raises(ValidationError, match="60 requests an hour"):
        cfg({"kind": "pvoutput", "poll_s": 30})


@pytest.mark.parametrize("value,lan,expected", [
    ("pvoutput.org", False, "https://pvoutput.org"),
    ("http://127.0.0.1:8080", False, "http://127.0.0.1:8080"),
    ("https://localhost:9443/", False, "https://localhost:9443"),
    ("192.168.1.50", True, "https://192.168.1.50"),
    ("http://envoy.local", True, "http://envoy.local"),
])
def test_endpoint_host_only(value, lan, expected):
    assert parse_endpoint(value, lan=lan) == expected


@pytest.mark.parametrize("value", ["http://evil.example", "pvoutput.org:8443", "pvoutput.org/service",
                                   "https://pvoutput.org?x=1", "ftp://127.0.0.1", "https://u:p@pvoutput.org"])
def test_cloud_url_prefix_cannot_be_changed(value):
    with pytest.raises(ValueError):
        parse_endpoint(value)


@pytest.mark.parametrize("command", [["/bin/echo; rm -rf /"], "/bin/echo;rm -rf /", ["$(reboot)"],
                                     ["/usr/bin/sh`id`"], ["a b"]])
def test_script_with_unsafe_executable_is_refused(command):
    with pytest.raises(ValidationError, match="may only contain"):
        cfg({"kind": "script", "command": command})


def test_duplicate_source_names_refused():
    with pytest.raises(ValidationError, match="unique"):
        cfg({"kind": "pvoutput"}, {"kind": "pvoutput"})


# ---------------------------------------------------------------- validation
def test_negative_absurd_and_nan_readings_are_refused():
    ok = Sample(7500, NOW)
    assert check_sample(ok, 5000, 1.5) is ok  # exactly 1.5 x size passes
    with pytest.raises(BadData, match="negative"):
        check_sample(Sample(-3, NOW), 5000, 1.5)
    with pytest.raises(BadData, match="absurd"):
        check_sample(Sample(7501, NOW), 5000, 1.5)
    with pytest.raises(BadData):
        check_sample(Sample(float("nan"), NOW), 5000, 1.5)
    # PVOutput d/t read in the wrong time zone: 4 h "in the future" is refused, not fresh
    with pytest.raises(BadData, match="site.timezone"):
        check_sample(Sample(100, NOW + timedelta(hours=4)), 5000, 1.5, NOW)
    assert check_sample(Sample(100, NOW + timedelta(seconds=60)), 5000, 1.5, NOW)  # small skew is fine


# ---------------------------------------------------------------- Enlighten
def test_enlighten_summary_uses_last_report_at_as_content_time():
    s = parse_summary({"current_power": 3322, "last_report_at": 1780329600, "status": "comm"})
    assert s.w == 3322 and s.ts == datetime.fromtimestamp(1780329600, timezone.utc)
    with pytest.raises(BadData):
        parse_summary({"current_power": "lots", "last_report_at": 1780329600})
    with pytest.raises(BadData):
        parse_summary({"message": "Not Authorized"})


def test_enlighten_429_backs_off_to_period_end_or_next_minute_or_month():
    end = NOW + timedelta(seconds=42)
    assert rate_limit_until({"period": "minute", "period_end": int(end.timestamp())}, NOW) == end
    assert rate_limit_until({"period": "minute"}, NOW + timedelta(seconds=10)) == NOW + timedelta(minutes=1)
    assert rate_limit_until({"period": "month"}, NOW) == datetime(2026, 7, 1, tzinfo=timezone.utc)
    assert rate_limit_until(None, NOW) == NOW + timedelta(minutes=1)


# ---------------------------------------------------------------- Envoy
def test_envoy_prefers_metered_production_else_inverters():
    inv = {"type": "inverters", "activeCount": 24, "readingTime": 1780329600, "wNow": 2000}
    eim = {"type": "eim", "activeCount": 1, "measurementType": "production", "readingTime": 1780329610,
           "wNow": 2100.5}
    assert parse_production({"production": [inv, eim]}).w == 2100.5
    assert parse_production({"production": [inv, {**eim, "activeCount": 0, "wNow": 0}]}).w == 2000
    night = parse_production({"production": [inv, {**eim, "wNow": -4.2}]})
    assert night.w == 0.0  # CT standby draw at night
    with pytest.raises(BadData):
        parse_production({"production": [{**inv, "wNow": "NaN"}]})


# ---------------------------------------------------------------- PVOutput
def test_pvoutput_csv_in_the_systems_local_time():
    s = parse_status("20260601,12:00,3636,2450,NaN,NaN,NaN,21.2,220.1\n", NY)
    assert s.w == 2450 and s.ts == datetime(2026, 6, 1, 16, 0, tzinfo=timezone.utc)
    with pytest.raises(BadData, match="NaN"):
        parse_status("20211222,18:00,3636,NaN,NaN,NaN,NaN,21.2,220.1", NY)
    with pytest.raises(BadData):
        parse_status("Unauthorized 401: Invalid API Key", NY)


def test_pvoutput_rate_headers():
    assert parse_rate({"X-Rate-Limit-Remaining": "-2", "X-Rate-Limit-Reset": "1780333200"}, NOW) == \
        (-2, datetime(2026, 6, 1, 17, 0, tzinfo=timezone.utc))
    assert parse_rate({}, NOW) == (None, None)


# ---------------------------------------------------------------- script and MQTT
def test_script_output_is_watts_optionally_with_a_timestamp():
    assert parse_output("1234\n", NOW) == Sample(1234, NOW, "1234")
    assert parse_output("12.5 1780329600", NOW).ts == datetime.fromtimestamp(1780329600, timezone.utc)
    for bad in ("hello", "1\n2", "1 2 3", "", "12 yesterday"):
        with pytest.raises(BadData):
            parse_output(bad, NOW)


def test_mqtt_payload_forms():
    kw = dict(json_path=None, ts_path=None, scale=1.0, retained=False, now=NOW, tz=NY)
    assert parse_message(b"812.5", **kw).w == 812.5
    js = parse_message(b'{"w": 900, "ts": 1780329600}', **kw)
    assert js.w == 900 and js.ts.timestamp() == 1780329600
    tasmota = b'{"Time":"2026-06-01T11:59:50","ENERGY":{"Power":1.2}}'
    t = parse_message(tasmota, **{**kw, "json_path": "ENERGY.Power", "ts_path": "Time", "scale": 1000})
    assert t.w == 1200 and t.ts == datetime(2026, 6, 1, 15, 59, 50, tzinfo=timezone.utc)
    with pytest.raises(NoData, match="retained"):
        parse_message(b"812", **{**kw, "retained": True})
    with pytest.raises(BadData, match="not a number"):
        parse_message(b"on", **kw)


# ---------------------------------------------------------------- schedule and selection
def test_backoff_never_polls_faster_than_the_budget_and_waits_for_a_reset():
    assert next_delay(60, 0, 600, None, NOW) == 60
    assert next_delay(60, 3, 600, None, NOW) == 480
    assert next_delay(60, 9, 600, None, NOW) == 600
    assert next_delay(2700, 5, 600, None, NOW) == 2700  # failures never spend more budget
    assert next_delay(60, 1, 600, NOW + timedelta(minutes=30), NOW) == 1800


def _state(name, sample=None, error=None):
    st = SourceState(name)
    if sample:
        record(st, sample, NOW, NOW.date())
    if error:
        record(st, error, NOW, NOW.date())
    return st


def test_first_healthy_source_wins_else_the_freshest_reading():
    fresh, old = Sample(100, NOW - timedelta(seconds=30)), Sample(200, NOW - timedelta(seconds=2000))
    envoy = _state("envoy", fresh, Unreachable("down"))
    pv = _state("pvoutput", Sample(300, NOW - timedelta(seconds=60)))
    cloud = _state("enlighten", old)
    assert select([envoy, pv, cloud], NOW, 1000).name == "pvoutput"
    assert select([_state("envoy", fresh), pv], NOW, 1000).name == "envoy"
    assert select([envoy, cloud], NOW, 1000).name == "envoy"  # none healthy: freshest
    assert select([_state("x")], NOW, 1000) is None


def test_a_foreign_meter_topic_gets_an_extra_acl_line():
    from mosquitto import gen_acl
    acl = gen_acl.render(extra=(gen_acl.parse_extra("solar_collector:read:shellies/em-1/emeter/0/power"),))
    block = acl.split("user solar_collector\n")[1].split("\n\n")[0]
    assert "topic read shellies/em-1/emeter/0/power" in block
    assert "topic read circuitq/solar/input/+" in block  # the catalogue's Node-RED input
    with pytest.raises(Exception):
        gen_acl.parse_extra("solar_collector:own:#")


def test_a_slow_budgeted_source_is_stale_between_polls_but_not_down():
    st = _state("enlighten", Sample(900, NOW - timedelta(seconds=2500)))
    refresh_health(st, NOW, 1000, interval_s=2700)
    assert st.health == "stale" and st.bad_since is None  # no down alert for a 45-min poll
    refresh_health(st, NOW + timedelta(seconds=1300), 1000, interval_s=2700)
    assert st.bad_since is not None  # a poll was missed: that is down
    record(st, Unreachable("x"), NOW, NOW.date())
    refresh_health(st, NOW, 1000, interval_s=0)
    assert st.health == "offline" and st.bad_since is not None


def test_demo_sun_curve_and_fake_bundle():
    from sim.fakes.solar import SolarFakes, sun_w
    assert sun_w(datetime(2026, 6, 1, 17, 0, tzinfo=timezone.utc), 5000, NY) == 4000  # 13:00 local
    assert sun_w(datetime(2026, 6, 1, 4, 0, tzinfo=timezone.utc), 5000, NY) == 0.0  # midnight
    fakes = SolarFakes().start()
    try:
        fakes.set_production(1234)
        srcs = cfg(*fakes.sources()).sources  # valid config for the service
        assert [s.kind for s in srcs] == ["envoy", "pvoutput", "enlighten"]
        assert fakes.envoy.production_w == fakes.pvoutput.production_w == 1234
    finally:
        fakes.stop()


def test_network_errors_are_short_and_never_show_the_api_key():
    import requests

    from services.solar_collector.http import _short
    exc = requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='api.enphaseenergy.com', port=443): Max retries exceeded with url: "
        "/api/v4/systems/1/summary?key=eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee (Caused by NewConnectionError("
        "'<urllib3.connection.HTTPSConnection object>: Failed to establish a new connection: "
        "[Errno 111] Connection refused'))")
    assert _short(exc) == "Connection refused"
    assert "eeee" not in _short(requests.exceptions.SSLError("bad cert for /x?key=eeee"))
