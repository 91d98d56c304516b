"""Fallback order, recovery without a restart, and the source-down alert."""
from __future__ import annotations

from tests.solar_collector.conftest import HEALTH, PROD, envoy_src, pvoutput_src, src_health


def test_falls_back_to_the_second_source_and_back(solar, envoy, pvoutput, user_probe):
    envoy.set_production(2000)
    pvoutput.set_production(1900)
    svc = solar([envoy_src(envoy), pvoutput_src(pvoutput)], down_alert_s=1.0)
    user_probe.on_topic(PROD, lambda m: m.json()["source"] == "envoy")

    envoy.stop()  # the gateway drops off the LAN: connection refused
    mark = user_probe.mark()
    r = user_probe.on_topic(PROD, lambda m: m.json()["source"] == "pvoutput", since=mark).json()
    assert r["w"] == 1900 and r["stale"] is False
    h = user_probe.on_topic(src_health("envoy"), lambda m: m.json()["state"] == "offline", since=mark)
    assert "Unreachable" in h.json()["message"]
    overall = user_probe.on_topic(HEALTH, lambda m: m.json()["source"] == "pvoutput", since=mark).json()
    assert overall["state"] == "ok"
    alert = user_probe.on_topic("circuitq/alert", lambda m: m.json()["key"] == "solar:down:envoy",
                                since=mark).json()
    assert alert["resolved"] is False and alert["source"] == "solar_collector"
    assert user_probe.last("circuitq/solar_collector/status").text == "online" and svc.alive()

    envoy.set_production(2100)
    envoy.start()  # same port: it comes back, no restart of the service
    mark = user_probe.mark()
    r = user_probe.on_topic(PROD, lambda m: m.json()["source"] == "envoy", since=mark).json()
    assert r["w"] == 2100
    user_probe.on_topic("circuitq/alert", lambda m: m.json()["key"] == "solar:down:envoy"
                        and m.json()["resolved"] is True, since=mark)
    assert user_probe.on_topic(src_health("envoy"), lambda m: m.json()["state"] == "ok", since=mark)


def test_all_sources_down_keeps_running_and_recovers(solar, envoy, user_probe):
    envoy.set_production(1500)
    svc = solar([envoy_src(envoy)], freshness_s=2.0)
    user_probe.on_topic(PROD, lambda m: m.json()["stale"] is False)
    envoy.stop()
    r = user_probe.on_topic(PROD, lambda m: m.json()["stale"] is True, timeout=30).json()
    assert r["w"] == 1500  # the last good reading, marked stale, never a made-up 0
    h = user_probe.on_topic(HEALTH, lambda m: m.json()["state"] == "stale"
                            and m.json()["consecutive_failures"] > 0).json()
    assert "Unreachable" in h["message"] or "old" in h["message"]
    assert svc.alive() and user_probe.last("circuitq/solar_collector/status").text == "online"
    envoy.set_production(1600)
    envoy.start()
    assert user_probe.on_topic(PROD, lambda m: m.json()["w"] == 1600).json()["stale"] is False
    user_probe.on_topic(HEALTH, lambda m: m.json()["state"] == "ok")
