"""curb_collector end to end: the real service process, a real broker, the fake Curb cloud."""
from __future__ import annotations

import os
import stat
import time

from circuitq import topics
from sim.secrets import write_private_yaml
from tests.curb_collector.helpers import ALERT, B, HEALTH, READING, STATUS, after, eventually, health, live


def test_reading_end_to_end(start_collector, fake_curb, user_probe, probe_factory, broker, tmp_path):
    fake_curb.set_watts({"curb-dryer-1": 2400, "curb-dryer-2": 2350, "curb-wh-north": 4500})
    svc = start_collector()
    r = user_probe.wait_for(live(READING)).json()
    assert r["stale"] is False and r["age_s"] < 5
    # mapped names only; the dryer's two CTs (one label, sum: true) added up
    assert r["circuits"]["dryer"] == 4750 and r["circuits"]["water_heater_north"] == 4500
    assert set(r["circuits"]) == {"kitchen", "heat_pump_north", "heat_pump_south", "dryer",
                                  "water_heater_north", "water_heater_south", "pool_pump",
                                  "garage", "bedroom_1", "bedroom_2"}
    assert r["circuits"]["bedroom_1"] == 80 and r["circuits"]["bedroom_2"] == 40  # by id
    assert r["consumption_w"] == fake_curb.latest("x")["consumption"]
    user_probe.wait_for(health("ok"))
    # every circuit on its own topic for dashboards, unmapped ones under a slug
    user_probe.wait_for(live(topics.CURB_CIRCUIT.topic(B, circuit="dryer"), lambda d: d["w"] == 4750))
    user_probe.wait_for(live(topics.CURB_CIRCUIT.topic(B, circuit="other"), lambda d: d["w"] == 150))
    # house mode: the next reading follows the fake's watts
    fake_curb.set_watts({"curb-pool": 0})
    user_probe.wait_for(live(READING, lambda d: d["circuits"]["pool_pump"] == 0))
    # retained: a phone connecting now gets the last reading at once
    late = probe_factory(broker, "user")
    late.subscribe(READING)
    assert late.on_topic(READING, lambda m: m.retain, timeout=3).json()["circuits"]["pool_pump"] == 0
    # one login, the location looked up once (not configured), token file private
    assert fake_curb.counts["token:password"] == 1 and fake_curb.counts["locations"] == 1
    token_file = tmp_path / "state" / "curb_token.json"
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert svc.alive()


def test_token_file_reused_across_restart(start_collector, fake_curb, user_probe):
    loc = fake_curb.locations[0]["id"]
    svc = start_collector(location_id=loc)
    user_probe.wait_for(live(READING))
    svc.stop()
    mark = user_probe.mark()
    start_collector(location_id=loc)
    user_probe.wait_for(live(READING), since=mark)
    assert fake_curb.counts["token:password"] == 1  # the second process read the token file
    assert fake_curb.counts["token:refresh_token"] == 0
    assert fake_curb.counts["locations"] == 0  # location_id pinned in the config


def test_expired_token_refreshed_then_password_fallback(start_collector, fake_curb, user_probe):
    start_collector()
    user_probe.wait_for(live(READING))
    fake_curb.expire_access_tokens()  # Curb answers 401: refresh and carry on
    eventually(lambda: fake_curb.counts["token:refresh_token"] == 1)
    mark = user_probe.mark()
    user_probe.wait_for(live(READING), since=mark)
    assert fake_curb.counts["token:password"] == 1
    fake_curb.expire_access_tokens()  # refresh token revoked too: log in with the password
    fake_curb.revoke_refresh_tokens()
    eventually(lambda: fake_curb.counts["token:password"] == 2)
    mark2 = user_probe.mark()
    user_probe.wait_for(live(READING), since=mark2)
    assert fake_curb.counts["token:refresh_token"] == 2  # tried, refused, then the password
    assert not any(m.topic == HEALTH and m.json()["state"] != "ok" for m in user_probe.messages[mark:])


def test_wrong_password_error_alert_slow_retry_then_recovery(start_collector, fake_curb, user_probe):
    fake_curb.password = "changed-on-the-website"
    svc = start_collector(auth_retry_s=1.5)
    h = user_probe.wait_for(health("error")).json()
    assert "secrets file" in h["message"] and "Wrong email or password" in h["message"]
    a = user_probe.wait_for(live(ALERT, lambda d: d["key"] == "curb:auth")).json()
    assert a["resolved"] is False and "password" in a["message"]
    time.sleep(2)
    assert fake_curb.counts["token:password"] <= 3  # slow retry, not a hammering
    assert svc.alive() and user_probe.last(STATUS).text == "online"
    fake_curb.password = "curb-pass"  # the owner fixed it on the website
    user_probe.wait_for(live(READING), timeout=30)
    user_probe.wait_for(live(ALERT, lambda d: d["key"] == "curb:auth" and d["resolved"]))
    user_probe.wait_for(health("ok"))


def test_stale_timestamp_published_as_stale_after_repolls(start_collector, fake_curb, user_probe):
    fake_curb.set_scenario("stale")  # now - 300 s, and it stays put
    start_collector()
    r = user_probe.wait_for(live(READING)).json()
    assert r["stale"] is True and 295 <= r["age_s"] <= 320
    assert fake_curb.counts["latest"] >= 4  # the first poll + repoll_max (3) re-polls
    h = user_probe.wait_for(health("stale")).json()
    assert "300 s old" in h["message"] or "s old" in h["message"]
    fake_curb.set_scenario("fresh")
    user_probe.wait_for(live(READING, lambda d: d["stale"] is False))
    user_probe.wait_for(health("ok"))


def test_hub_offline_no_fake_reading(start_collector, fake_curb, user_probe):
    start_collector()
    user_probe.wait_for(live(READING, lambda d: not d["stale"]))
    mark = user_probe.mark()
    fake_curb.set_scenario("offline")  # Curb answers {}
    h = user_probe.wait_for(health("offline"), since=mark)
    assert "offline" in h.json()["message"]
    # the last real reading again, marked stale: never a made-up one
    stale = user_probe.wait_for(live(READING, lambda d: d["stale"]), since=mark)
    real = [m.json() for m in user_probe.messages[:after(user_probe, stale)]
            if m.topic == READING and not m.retain and not m.json()["stale"]]
    assert stale.json()["ts"] == real[-1]["ts"] and stale.json()["circuits"] == real[-1]["circuits"]
    since = after(user_probe, h)
    time.sleep(0.8)
    later = [m.json() for m in user_probe.messages[since:] if m.topic == READING]
    assert later and all(r["stale"] and r["ts"] == real[-1]["ts"] for r in later)
    fake_curb.set_scenario("fresh")
    user_probe.wait_for(live(READING, lambda d: not d["stale"]), since=since)


def test_errors_give_error_health_alert_and_recovery(start_collector, fake_curb, user_probe):
    fake_curb.retry_after_s = 1
    svc = start_collector(alert_failures_per_day=2)
    user_probe.wait_for(health("ok"))
    expected = {"error": "HTTP 500", "garbage": "not JSON", "wrong_shape": "timestamp",
                "ratelimit": "429"}
    for n, (scenario, text) in enumerate(expected.items()):
        mark = user_probe.mark()
        fake_curb.set_scenario(scenario)
        h = user_probe.wait_for(live(HEALTH, lambda d: d["state"] == "error"), since=mark)
        assert text in h.json()["message"], h.text
        if n == 0:  # a second failure in a row: the failures alert
            user_probe.wait_for(live(ALERT, lambda d: d["key"] == "curb:failures"), since=mark)
        fake_curb.set_scenario("fresh")
        since = after(user_probe, h)
        user_probe.wait_for(health("ok"), since=since, timeout=30)
        if n == 0:
            user_probe.wait_for(live(ALERT, lambda d: d["key"] == "curb:failures" and d["resolved"]),
                                since=since)
    assert svc.alive() and user_probe.last(STATUS).text == "online"


def test_ambiguous_label_is_a_named_config_error(start_collector, user_probe):
    svc = start_collector(circuits={"bedrooms": {"label": "Bedroom"}})
    h = user_probe.wait_for(health("error")).json()
    assert "curb.circuits.bedrooms" in h["message"] and "matches 2 circuits" in h["message"]
    assert "curb-bedroom-1" in h["message"] and "sum: true" in h["message"]
    user_probe.wait_for(live(ALERT, lambda d: d["key"] == "curb:config"))
    assert not any(m.topic == READING and not m.retain for m in user_probe.messages)
    assert svc.alive()


def test_credentials_come_only_from_the_secrets_file(start_collector, user_probe, secrets, tmp_path):
    # in the YAML: refused at start, naming the key and where credentials belong
    svc = start_collector(name="bad.yaml", password="hunter2")
    assert svc.proc.wait(10) == 2
    assert "curb.password" in svc.log() or "password" in svc.log()
    assert "secrets file" in svc.log()
    # a secrets file without curb: the service runs and says what is missing
    no_curb = tmp_path / "no-curb-secrets.yaml"
    write_private_yaml(no_curb, {"mqtt_users": secrets.mqtt_users})
    svc = start_collector(name="ok.yaml", extra={"secrets_file": str(no_curb)})
    h = user_probe.wait_for(health("error")).json()
    assert "no Curb credentials" in h["message"] and str(no_curb) in h["message"]
    assert svc.alive()


def test_broker_crash_reading_and_health_republished(fake_curb, own_broker, probe_factory,
                                                     config_factory, service_factory):
    from tests.curb_collector.conftest import curb_overrides
    cfg = config_factory(curb_overrides(fake_curb, poll_s=30), broker_=own_broker)
    svc = service_factory("curb_collector", cfg)
    p = probe_factory(own_broker, "user")
    p.subscribe("circuitq/#")
    first = p.wait_for(live(READING)).json()
    own_broker.kill()  # kill -9: retained messages since the last autosave are gone
    own_broker.start()
    # no new poll for 30 s: what a new client sees now was republished on reconnect
    q = probe_factory(own_broker, "user")
    eventually(lambda: svc.log().count("connected to") >= 2, timeout=30)
    q.subscribe("circuitq/curb/#")
    # (a loaded machine may take seconds to reconnect and republish: wait for it, up to 30 s)
    assert q.on_topic(READING, lambda m: m.retain, timeout=30).json()["ts"] == first["ts"]
    assert q.on_topic(HEALTH, lambda m: m.retain, timeout=30).json()["state"] == "ok"
    assert fake_curb.counts["latest"] == 1
