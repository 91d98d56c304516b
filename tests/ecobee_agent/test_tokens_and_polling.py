"""Tokens (refresh on code 14, alerts on 1/16), summary-revision polling, retained state, bad input."""
from __future__ import annotations

import json
import stat
import time

import pytest

from circuitq import topics
from services.ecobee_agent.store import TOKENS_FILE, TokenStore, tokens_from_response

from .helpers import ALERT, ERROR, SHED, STATE, shed, state, wait


def test_expired_token_is_refreshed_and_the_rotated_refresh_token_stored_before_use(
        fake, agent_config, service_factory, user_probe, tmp_path):
    fake.rotate_refresh, fake.old_refresh_valid = True, False  # the old refresh token dies at once
    service_factory("ecobee_agent", agent_config())
    state(user_probe, lambda s: s["connected"])
    path = tmp_path / "state" / TOKENS_FILE
    old = json.loads(path.read_text())
    on_disk_at_first_use = []

    def check(entry):  # runs inside the fake when a request with a valid token arrives
        if entry["token"] != old["access_token"] and not on_disk_at_first_use:
            on_disk_at_first_use.append(json.loads(path.read_text()))
    fake.on_api.append(check)
    fake.expire_access_tokens()  # the next poll gets HTTP 500, status code 14
    stored = wait(lambda: on_disk_at_first_use, what="a request with the new token")[0]
    assert stored["refresh_token"] != old["refresh_token"] and stored["refresh_token"] in fake.refresh
    assert stored["access_token"] in fake.access
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # the request that met code 14 was retried with the new token and answered
    log = [e for e in fake.log if e["t"] >= fake.calls("POST", "/token")[0]["t"] - 1]
    i = next(k for k, e in enumerate(log) if e["path"] == "/token")
    assert log[i - 1]["token"] == old["access_token"] and log[i + 1]["token"] == stored["access_token"]
    assert log[i - 1]["path"] == log[i + 1]["path"]


@pytest.mark.parametrize("toggle,code", [("deauthorized", 16), ("auth_failed", 1)])
def test_refused_tokens_raise_an_alert_to_authorize_again(fake, agent_config, service_factory, user_probe, tmp_path,
                                                          toggle, code):
    service_factory("ecobee_agent", agent_config())
    state(user_probe, lambda s: s["connected"])
    mark = user_probe.mark()
    setattr(fake, toggle, True)
    alert = user_probe.on_topic(ALERT, lambda m: m.json()["key"] == "ecobee:authorize", since=mark).json()
    assert not alert["resolved"] and f"code {code}" in alert["message"]
    assert "services.ecobee_agent authorize" in alert["message"]
    time.sleep(0.6)  # polls go on failing: one alert, not one per poll
    assert len([m for m in user_probe.messages[mark:] if m.topic == ALERT]) == 1
    setattr(fake, toggle, False)  # the user ran `authorize`: new tokens appear in the file
    TokenStore(tmp_path / "state" / TOKENS_FILE).save(tokens_from_response(fake.issue_tokens(), time.time()))
    user_probe.on_topic(ALERT, lambda m: m.json()["resolved"], since=mark)


def test_no_tokens_yet_raises_the_same_alert(fake, agent_config, service_factory, user_probe):
    mark = user_probe.mark()
    agent = service_factory("ecobee_agent", agent_config(authorized=False))
    alert = user_probe.on_topic(ALERT, lambda m: m.json()["key"] == "ecobee:authorize", since=mark).json()
    assert "no ecobee tokens" in alert["message"] and agent.alive()


def test_polls_summary_revisions_and_fetches_the_thermostat_only_on_change(
        fake, agent_config, service_factory, user_probe, probe_factory, broker):
    fake.set_thermostat(demand="heatPump,fan", actualTemperature=688)
    service_factory("ecobee_agent", agent_config())
    s = state(user_probe, lambda s: s["connected"] and s["indoor_f"] == 68.8)
    assert s["running"] and s["equipment"] == ["heatPump", "fan"] and s["hvac_mode"] == "heat"
    assert (s["heat_setpoint_f"], s["cool_setpoint_f"]) == (69.0, 76.0)
    time.sleep(1.3)  # poll_s 0.4: three or four summary polls, nothing changed
    summaries = fake.calls("GET", "/1/thermostatSummary")
    assert len(summaries) >= 3 and len(fake.calls("GET", "/1/thermostat")) == 1
    gaps = [b["t"] - a["t"] for a, b in zip(summaries, summaries[1:])]
    assert min(gaps) >= 0.35  # never faster than poll_s
    fake.set_thermostat(actualTemperature=655, demand="fan")
    s = state(user_probe, lambda s: s["indoor_f"] == 65.5)
    assert not s["running"] and s["equipment"] == ["fan"]  # the fan alone is not load
    assert len(fake.calls("GET", "/1/thermostat")) == 2
    late = probe_factory(broker, "user")  # a phone opening the app later gets the retained state
    late.subscribe(STATE)
    m = late.on_topic(STATE)
    assert m.retain and m.json()["indoor_f"] == 65.5


def test_bad_shed_requests_are_reported_and_the_agent_keeps_running(
        fake, agent_config, service_factory, scheduler, user_probe):
    shed(scheduler, retain=True)  # stored by the broker: delivered when the agent subscribes
    try:
        agent = service_factory("ecobee_agent", agent_config())
        err = user_probe.on_topic(ERROR, lambda m: m.json()["topic"] == SHED).json()
        assert "retained" in err["error"]
    finally:
        scheduler.publish(SHED, "", retain=True)  # clear it from the broker
    state(user_probe, lambda s: s["connected"])
    mark = user_probe.mark()
    scheduler.publish(SHED, {"shed": True, "lease_s": -5, "id": "x"})
    err = user_probe.on_topic(ERROR, since=mark).json()
    assert "lease_s" in err["error"] and err["service"] == "ecobee_agent"
    mark = user_probe.mark()
    scheduler.publish(SHED, {"shed": True, "lease_s": 30, "id": "x", "leese": 1})
    assert "leese" in user_probe.on_topic(ERROR, since=mark).json()["error"]
    mark = user_probe.mark()
    scheduler.publish(topics.ECOBEE_SHED.topic("circuitq", thermostat="garage"), {"shed": True, "lease_s": 30, "id": "x"})
    assert "garage" in user_probe.on_topic(ERROR, since=mark).json()["error"]
    assert not fake.calls("POST", "/1/thermostat") and agent.alive()
    shed(scheduler)  # and a good one still works
    wait(lambda: fake.hold_of(), what="hold")


def test_transient_api_errors_are_retried(fake, agent_config, service_factory, scheduler, user_probe):
    service_factory("ecobee_agent", agent_config())
    state(user_probe, lambda s: s["connected"])
    fake.fail_next = [503]  # one outage answer: retried after backoff_s
    shed(scheduler)
    wait(lambda: fake.hold_of(), what="hold after a retry")
    assert len(fake.calls("POST", "/1/thermostat", "setHold")) == 2


def test_scheduler_offline_ends_the_shed_at_once(fake, agent_config, service_factory, scheduler, user_probe):
    service_factory("ecobee_agent", agent_config())
    state(user_probe, lambda s: s["connected"])
    fake.write_latency_s = 0.5
    shed(scheduler, lease_s=60)
    wait(lambda: fake.calls("POST", "/1/thermostat", "setHold"), what="setHold sent")
    # its last will arrives while the setHold is still in flight
    scheduler.publish(topics.STATUS.topic("circuitq", service="scheduler"), topics.OFFLINE)
    wait(lambda: fake.calls("POST", "/1/thermostat", "resumeProgram"), timeout=3, what="resume")
    assert fake.hold_of() is None


def test_a_hold_ecobee_rejects_is_shown_as_the_reason(fake, agent_config, service_factory, scheduler, user_probe):
    fake.set_thermostat(heatRangeLow=500)  # the installer limited heat to 50 °F and up
    service_factory("ecobee_agent", agent_config(hold="setpoints", heat_hold_f=45, cool_hold_f=85))
    state(user_probe, lambda s: s["connected"])
    shed(scheduler)
    s = state(user_probe, lambda s: s["shed_refused"] is not None)
    assert s["shed_refused"]["code"] == "refused:invalid_hold" and "heatHoldTemp" in s["shed_refused"]["text"]
    assert not s["shed"] and fake.hold_of() is None
