"""Local IQ Gateway end to end: TLS with a self-signed cert, bearer token, bad values."""
from __future__ import annotations

import time

from sim.fakes.enphase import FakeEnvoy
from tests.solar_collector.conftest import HEALTH, PROD, envoy_src, src_health


def test_envoy_over_self_signed_tls_with_bearer_token(solar, user_probe, probe_factory, broker):
    fake = FakeEnvoy(tls=True).start()
    try:
        fake.set_production(2450, reading_time=time.time() - 5)
        solar([envoy_src(fake)])
        r = user_probe.on_topic(PROD, lambda m: m.json()["w"] == 2450).json()
        assert r["source"] == "envoy" and r["stale"] is False and 4 <= r["age_s"] < 60
        assert r["ts"] != r["received"]  # readingTime, not the time we polled
        h = user_probe.on_topic(HEALTH, lambda m: m.json()["state"] == "ok").json()
        assert h["source"] == "envoy"
        late = probe_factory(broker, "user")  # a client arriving later gets the retained value
        late.subscribe(PROD)
        assert late.on_topic(PROD).retain
    finally:
        fake.stop()


def test_envoy_without_a_ct_uses_the_inverters(solar, user_probe):
    fake = FakeEnvoy(metered=False).start()
    try:
        fake.inverters_w = 1980
        solar([envoy_src(fake)])
        assert user_probe.on_topic(PROD).json()["w"] == 1980
    finally:
        fake.stop()


def test_envoy_refusing_the_token_is_an_alert_and_the_service_stays_up(solar, envoy, user_probe):
    envoy.token = "a-different-jwt"
    svc = solar([envoy_src(envoy)])
    a = user_probe.on_topic("circuitq/alert", lambda m: m.json()["key"] == "solar:auth:envoy").json()
    assert "token" in a["message"]
    h = user_probe.on_topic(src_health("envoy"), lambda m: m.json()["consecutive_failures"] > 0).json()
    assert h["state"] == "error" and "AuthError" in h["message"]
    assert user_probe.on_topic("circuitq/solar_collector/status").text == "online"
    assert svc.alive()
    envoy.token = "envoy-jwt"  # the user fixed it: recovers without a restart
    user_probe.on_topic(PROD, lambda m: m.json()["source"] == "envoy")
    user_probe.on_topic("circuitq/alert", lambda m: m.json()["resolved"] is True)


def test_invalid_values_are_rejected_with_an_error_naming_the_source(solar, envoy, user_probe):
    envoy.set_production(1000)
    solar([envoy_src(envoy)], system_size_w=4000)
    user_probe.on_topic(PROD, lambda m: m.json()["w"] == 1000)
    for bad, why in (("NaN", "not a number"), (-600, "negative"), (9000, "absurd"), ("lots", "not a number")):
        mark = user_probe.mark()
        envoy.raw_w = bad
        err = user_probe.on_topic("circuitq/error", since=mark).json()
        assert err["service"] == "solar_collector" and "'envoy'" in err["error"] and why in err["error"], err
    envoy.set_production(1200)
    user_probe.on_topic(PROD, lambda m: m.json()["w"] == 1200)
    published = [m.json()["w"] for m in user_probe.messages if m.topic == PROD]
    assert set(published) == {1000, 1200}  # nothing invalid ever reached the production topic
