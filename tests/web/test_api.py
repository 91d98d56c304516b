"""The page's HTTP API as a phone, Shortcuts or curl sees it: login, CSRF, overrides with the
scheduler's own refusals, who made each override, API tokens, live events, the next 24 h,
history, and an ACL that lets the page do no more than a phone on `user`."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import date

import pytest
import requests

from circuitq.config import load_config
from services.recorder.query import History
from services.recorder.store import Store
from tests.conftest import ROOT
from tests.web.helpers import FakeScheduler, Web, publish_plan, seed_day


@pytest.fixture(scope="module")
def web(tmp_path_factory, broker, secrets_path):
    w = Web(tmp_path_factory.mktemp("web"), broker, secrets_path).start()
    yield w
    w.stop()


@pytest.fixture
def scheduler(broker, secrets):
    s = FakeScheduler(broker.port, secrets.mqtt_users["scheduler"])
    yield s
    s.close()


def test_nobody_gets_in_without_logging_in(web):
    r = requests.get(web.url + "/", allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    for path in ("/api/state", "/api/timeline", "/api/history", "/api/events", "/api/health"):
        r = requests.get(web.url + path)
        assert r.status_code == 401 and "log in" in r.json()["error"], path
    r = requests.post(web.url + "/api/loads/pool_pump/override", data="ON")
    assert r.status_code == 401
    r = requests.get(web.url + "/login")
    assert r.status_code == 200 and "default-src 'self'" in r.headers["content-security-policy"]
    bad = requests.post(web.url + "/login", data={"user": "alice", "password": "nope"}, allow_redirects=False)
    assert bad.status_code == 303 and bad.headers["location"] == "/login?error=1" and "set-cookie" not in bad.headers


def test_an_override_needs_the_csrf_token_and_carries_who_made_it(web, scheduler):
    s = web.login("alice")
    token = s.headers.pop("X-CSRF-Token")
    r = s.post(web.url + "/api/loads/pool_pump/override", json={"mode": "off", "minutes": 30})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    assert not scheduler.sets
    s.headers["X-CSRF-Token"] = token
    r = s.post(web.url + "/api/loads/pool_pump/override", json={"mode": "off", "minutes": 30})
    body = r.json()
    assert r.status_code == 200 and body["confirmed"] and body["state"]["mode"] == "off", body
    assert body["by"] == "alice" and body["until"]
    assert scheduler.sets == [("pool_pump", '{"mode": "off", "minutes": 30}', "alice")]
    r = s.post(web.url + "/api/loads/pool_pump/override", json={"mode": "auto"})
    assert r.status_code == 200 and r.json()["state"]["mode"] == "auto"
    state = s.get(web.url + "/api/state").json()
    assert state["override_by"]["load_state"]["pool_pump"]["by"] == "alice"
    assert state["state"]["load_state"]["pool_pump"]["mode"] == "auto"


def test_refusals_are_the_schedulers_own_words(web, scheduler):
    s = web.login("bob")
    cases = [("/api/loads/kitchen/override", "ON", 400, "observed only"),
             ("/api/loads/pool_pump/override", '{"mode": "on", "minutes": 5000}', 400, "longer than the maximum"),
             ("/api/loads/pool_pump/override", "MAYBE", 400, "expected ON, OFF or AUTO"),
             ("/api/loads/pool_pump/override", '{"mode": "on", "minutes": 30, "colour": "red"}', 400, "unknown key"),
             ("/api/loads/sauna/override", "ON", 404, "unknown load"),
             ("/api/drm/aircon/override", '{"mode": 7}', 400, "DRM mode")]
    for path, body, status, words in cases:
        r = s.post(web.url + path, data=body)
        assert r.status_code == status and words in r.json()["error"], (path, body, r.text)
    assert scheduler.sets == []  # nothing refused was published


def test_an_unanswered_override_says_so_and_a_scheduler_error_is_passed_on(web, scheduler, probe_factory, broker):
    s = web.login("alice")
    r = s.post(web.url + "/api/loads/water_heater_south/override", data="ON")
    assert r.status_code == 202 and not r.json()["confirmed"] and "not confirmed" in r.json()["message"]
    scheduler.answer = False
    sched = probe_factory(broker, "scheduler")
    sched.subscribe("circuitq/load/+/set")
    refuse = lambda m: sched.publish("circuitq/error", {  # noqa: E731
        "service": "scheduler", "topic": m.topic, "payload": m.text, "error": "the relay agent is offline",
        "ts": "2026-07-14T13:00:00+00:00"})
    t = threading.Thread(target=lambda: refuse(sched.on_topic("circuitq/load/water_heater_north/set", timeout=20)))
    t.start()
    r = s.post(web.url + "/api/loads/water_heater_north/override", data="OFF")
    t.join()
    assert r.status_code == 409 and r.json()["error"] == "the relay agent is offline"


def test_an_api_token_works_like_curl_and_can_be_revoked(web, scheduler):
    r = subprocess.run([sys.executable, "-m", "services.web", "token", "--config", str(web.config),
                        "--user", "alice", "--name", "curl"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    # curl -H 'Authorization: Bearer ...' -d ON http://pi:8080/api/loads/water_heater_north/override
    r = requests.post(web.url + "/api/loads/water_heater_north/override", data="ON", headers=auth)
    assert r.status_code == 200 and r.json()["by"] == "alice (token curl)", r.text
    assert scheduler.sets[-1] == ("water_heater_north", "ON", "alice (token curl)")
    assert requests.get(web.url + "/api/state", headers=auth).status_code == 200
    wrong = {"Authorization": f"Bearer {token[:-2]}xx"}
    assert requests.get(web.url + "/api/state", headers=wrong).status_code == 401
    s = web.login("alice")
    tokens = s.get(web.url + "/api/tokens").json()["tokens"]
    mine = [t for t in tokens if t["name"] == "curl"]
    assert mine and mine[0]["last_used"] and "hash" not in mine[0]
    assert requests.get(web.url + "/api/tokens", headers=auth).status_code == 403  # tokens cannot mint tokens
    assert s.delete(web.url + f"/api/tokens/{mine[0]['id']}").json()["ok"]
    assert requests.get(web.url + "/api/state", headers=auth).status_code == 401


def test_live_events_stream_each_change(web, probe_factory, broker):
    s = web.login("bob")
    with s.get(web.url + "/api/events", stream=True, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        relay = probe_factory(broker, "relay_agent")
        relay.publish("circuitq/relay/pool_pump/state", {"level": "off", "safe_state": "on", "switch_count": 3,
                                                         "reason": {"code": "x", "text": "x"},
                                                         "since": "2026-07-14T13:00:00+00:00"}, retain=True)
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith("data: "):
                ev = json.loads(line[6:])
                if ev["kind"] == "relay_state" and ev["name"] == "pool_pump":
                    assert ev["data"]["level"] == "off"
                    break


def test_the_next_24_h_from_the_calendars_then_from_the_plan(web, probe_factory, broker, secrets):
    probe = probe_factory(broker, "scheduler")
    probe.publish("circuitq/plan", b"", retain=True)  # no plan (an earlier test's is retained)
    s = web.login("bob")
    for _ in range(100):
        tl = s.get(web.url + "/api/timeline").json()
        if tl["source"] == "calendars":
            break
        time.sleep(0.1)
    assert tl["source"] == "calendars" and len(tl["prices"]) == 96
    pool = next(x for x in tl["loads"] if x["name"] == "pool_pump")
    assert any(sp["kind"] == "runtime" and sp["label"] == "pool_day" for sp in pool["spans"])
    publish_plan(broker.port, secrets.mqtt_users["scheduler"])
    for _ in range(100):
        tl = s.get(web.url + "/api/timeline").json()
        if tl["source"] == "plan":
            break
        time.sleep(0.1)
    wh = next(x for x in tl["loads"] if x["name"] == "water_heater_north")
    assert tl["source"] == "plan" and wh["source"] == "plan" and wh["spans"][0]["label"] == "planned:solar"
    assert tl["prices"][0]["import_per_kwh"] == 0.11
    probe.publish("circuitq/plan", b"", retain=True)  # clear it for the other tests


def test_history_of_a_recorded_day_and_its_csv(web):
    s = web.login("alice")
    db = web.tmp / "state" / "recorder.sqlite"
    if not db.exists():
        assert s.get(web.url + "/api/history").status_code == 503
    seed_day(db, date(2026, 7, 14))
    # the recorder rolls days up; here the test does what its timer would
    cfg = load_config(web.config)
    store = Store(db)
    h = History(store.con, store.lock)
    store.save_day("2026-07-14", 0.0, True, h.summarize_day(cfg, date(2026, 7, 14), 180))
    store.close()
    assert "2026-07-14" in s.get(web.url + "/api/history").json()["days"]
    day = s.get(web.url + "/api/history/2026-07-14").json()
    assert day["summary"]["readings"] == 1440 and day["final"]
    assert len(day["series"]["t"]) == 288 and day["series"]["t"][0].startswith("2026-07-14T00:00:00-04:00")
    csv = s.get(web.url + "/api/history/2026-07-14/readings.csv")
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.count("\n") == 1441
    assert s.get(web.url + "/api/history/2026-07-15").status_code == 404
    assert s.get(web.url + "/api/history/14-07-2026").status_code == 400


def test_the_page_says_when_it_has_lost_the_broker(tmp_path, own_broker, secrets_path):
    web = Web(tmp_path, own_broker, secrets_path).start()
    try:
        s = web.login("alice")

        def connected(want: bool) -> None:
            deadline = time.monotonic() + 30
            while s.get(web.url + "/api/state").json()["broker_connected"] != want:
                assert time.monotonic() < deadline, f"broker_connected never became {want}"
                time.sleep(0.2)
        connected(True)
        own_broker.kill()
        connected(False)  # what the page shows may be old: it says so
        own_broker.start()
        connected(True)
    finally:
        web.stop()
