"""Enlighten v4 end to end: the real service process, the fake cloud, the real broker."""
from __future__ import annotations

import json
import os
import stat
import time

import yaml

from sim.secrets import FAKE_CLOUD, write_private_yaml
from tests.solar_collector.conftest import HEALTH, PROD, enlighten_src, src_health

SEED = FAKE_CLOUD["enphase"]["refresh_token"]


def test_rotating_refresh_token_is_persisted_and_reused_after_restart(solar, enlighten, user_probe, tmp_path):
    enlighten.set_production(3322)
    svc = solar([enlighten_src(enlighten)])
    m = user_probe.on_topic(PROD, lambda m: m.json()["source"] == "enlighten")
    assert m.json()["w"] == 3322 and m.json()["stale"] is False
    path = tmp_path / "state" / "solar_enlighten.json"
    saved = json.loads(path.read_text())
    assert saved["refresh_token"] in enlighten.refresh_tokens and saved["refresh_token"] != SEED
    assert SEED not in enlighten.refresh_tokens  # the fake invalidated the one in secrets
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert enlighten.counts["token"] == 1

    svc.stop()
    enlighten.expire_access_tokens()  # the next process must refresh, with the rotated token
    enlighten.set_production(2100)
    mark = user_probe.mark()
    solar([enlighten_src(enlighten)], name="again.yaml")
    m = user_probe.on_topic(PROD, lambda m: m.json()["w"] == 2100, since=mark)
    assert enlighten.counts["token"] == 2
    assert json.loads(path.read_text())["refresh_token"] in enlighten.refresh_tokens
    assert not [x for x in user_probe.messages if x.topic == "circuitq/alert"]


def test_expired_access_token_is_refreshed_on_401(solar, enlighten, user_probe):
    solar([enlighten_src(enlighten)])
    user_probe.on_topic(PROD, lambda m: m.json()["w"] == 1500)
    enlighten.expire_access_tokens()
    enlighten.set_production(2800)
    user_probe.on_topic(PROD, lambda m: m.json()["w"] == 2800)
    assert enlighten.counts["token"] == 2
    assert user_probe.last(src_health("enlighten")).json()["state"] == "ok"
    enlighten.api_key = "0" * 32  # the key belongs to another application: not a token problem
    a = user_probe.on_topic("circuitq/alert", lambda m: m.json()["key"] == "solar:auth:enlighten").json()
    assert "API Key -Client mismatch" in a["message"]
    assert enlighten.counts["token"] == 2  # no pointless refresh


def test_auth_code_is_exchanged_once_and_the_chain_persisted(config_factory, service_factory, enlighten,
                                                              user_probe, secrets_path, tmp_path):
    data = yaml.safe_load(secrets_path.read_text())  # the session's broker passwords
    data["enphase"] = {**data["enphase"], "refresh_token": None, "auth_code": "code-123"}
    write_private_yaml(tmp_path / "secrets.yaml", data)
    enlighten.auth_codes.add("code-123")
    cfg = config_factory({"secrets_file": str(tmp_path / "secrets.yaml"),
                          "solar": {"system_size_w": 5000, "tick_s": 0.2, "sources": [enlighten_src(enlighten)]}})
    svc = service_factory("solar_collector", cfg)
    user_probe.on_topic(PROD, lambda m: m.json()["source"] == "enlighten")
    assert not enlighten.auth_codes  # used, once
    saved = json.loads((tmp_path / "state" / "solar_enlighten.json").read_text())
    assert saved["refresh_token"] in enlighten.refresh_tokens and not saved.get("auth_code")
    svc.stop()
    enlighten.expire_access_tokens()
    mark = user_probe.mark()
    service_factory("solar_collector", cfg)  # the code is not tried again: the saved chain is used
    user_probe.on_topic(PROD, lambda m: m.json()["source"] == "enlighten", since=mark)
    assert enlighten.counts["token"] == 2


def test_rejected_refresh_token_alerts_the_user_to_reauthorise(solar, enlighten, user_probe):
    enlighten.refresh_tokens.clear()  # revoked: e.g. the week-long token ran out
    svc = solar([enlighten_src(enlighten)])
    alert = user_probe.on_topic("circuitq/alert", lambda m: m.json()["key"] == "solar:auth:enlighten")
    assert "authorise circuitq again" in alert.json()["message"]
    h = user_probe.on_topic(src_health("enlighten"), lambda m: m.json()["state"] == "error")
    assert "TokenRejected" in h.json()["message"]
    assert enlighten.counts["summary"] == 0
    time.sleep(0.5)
    assert svc.alive() and user_probe.last("circuitq/solar_collector/status").text == "online"
    alerts = [x for x in user_probe.messages if x.topic == "circuitq/alert"]
    assert len(alerts) == 1  # one alert, not one per retry


def test_429_backs_off_until_period_end_without_hammering(solar, enlighten, user_probe, tmp_path):
    enlighten.force_429 = "month"  # the monthly budget is spent: period_end is weeks away
    svc = solar([enlighten_src(enlighten, max_backoff_s=0.3)])
    h = user_probe.on_topic(src_health("enlighten"), lambda m: "RateLimited" in m.json()["message"])
    assert h.json()["state"] == "error"
    time.sleep(1.0)
    assert enlighten.counts["summary"] == 1  # at 0.3 s polls it would be ~4
    # the pause is persisted: a restart does not call again before period_end
    saved = json.loads((tmp_path / "state" / "solar_enlighten.json").read_text())
    assert saved["not_before"] > time.time()
    svc.stop()
    solar([enlighten_src(enlighten)], name="again.yaml")
    time.sleep(1.0)
    assert enlighten.counts["summary"] == 1
    assert enlighten.counts["token"] == 1


def test_stale_last_report_is_published_stale(solar, enlighten, user_probe):
    enlighten.status = "comm"  # the Envoy stopped reporting to the cloud
    enlighten.set_production(900, last_report_at=time.time() - 2000)
    solar([enlighten_src(enlighten)])
    r = user_probe.on_topic(PROD).json()
    assert r["stale"] is True and r["age_s"] >= 2000 and r["w"] == 900
    h = user_probe.on_topic(HEALTH, lambda m: m.json()["state"] != "offline").json()
    assert h["state"] == "stale" and "old" in h["message"]
