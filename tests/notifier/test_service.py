"""The notifier as docker-compose runs it: real broker, fake Prowl, apprise to a local endpoint."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
import requests
import yaml

from circuitq import topics
from circuitq.payloads import Alert, CurbReading
from sim.fakes.prowl import FakeProwl
from sim.secrets import FAKE_CLOUD, write_private_yaml
from tests.notifier.catcher import Catcher

BASE = "circuitq"
KEY = FAKE_CLOUD["prowl"]["api_key"]


@pytest.fixture
def catcher():
    c = Catcher()
    yield c
    c.stop()


@pytest.fixture
def prowl_factory():
    made = []

    def make(**kw) -> FakeProwl:
        f = FakeProwl(**kw).start()
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()


@pytest.fixture
def notifier(tmp_path, secrets, config_factory, service_factory, probe_factory, broker, catcher):
    """start(fake) -> the notifier process, online and subscribed, delivering to fake + catcher."""
    status = probe_factory(broker, "user")
    status.subscribe(topics.STATUS.topic(BASE, service="notifier"))
    secrets_file = tmp_path / "notifier-secrets.yaml"
    write_private_yaml(secrets_file, {**secrets.model_dump(exclude_none=True),
                                      # the second URL is a typo apprise cannot parse
                                      "apprise_urls": [catcher.json_url(), "jsn://127.0.0.1/x"]})

    def start(fake: FakeProwl, config=None, rules: tuple[str, ...] = ()):
        if config is None:
            config = config_factory({
                "secrets_file": str(secrets_file),
                "notifier": {"prowl": {"host": fake.host}, "quiet_hours": None,
                             "retry": {"min_s": 0.3, "max_s": 2.0}}})
            # Only the rules a test is about: retained readings of other tests stay on the broker.
            data = yaml.safe_load(config.read_text())
            data["notifier"]["rules"] = {k: v for k, v in data["notifier"]["rules"].items() if k in rules}
            config.write_text(yaml.safe_dump(data, sort_keys=False))
        since = status.mark()
        proc = service_factory("notifier", config)
        # live only: a retained `online` of an earlier test's notifier may arrive after `since`
        status.on_topic(topics.STATUS.topic(BASE, service="notifier"),
                        lambda m: m.text == "online" and not m.retain, timeout=10, since=since)
        time.sleep(0.2)  # its SUBSCRIBE follows the `online` publish on the same connection
        proc.config_path = config
        return proc

    return start


def alert(key="starved:water_heater_north", title="Water heater north off for 20 h", priority=1,
          resolved=False) -> dict:
    return Alert(key=key, title=title, message="It has been off since 02:00; the cause: peak hours.",
                 priority=priority, source="scheduler", resolved=resolved,
                 ts=datetime.now(timezone.utc)).model_dump(mode="json")


def by_event(event):
    return lambda n: n.get("event") == event


def test_alert_from_another_service_reaches_prowl_and_apprise(notifier, prowl_factory, catcher,
                                                              probe_factory, broker, user_probe):
    fake = prowl_factory()
    proc = notifier(fake, rules=("garage_light",))
    err = user_probe.on_topic(topics.ERROR.topic(BASE), lambda m: "apprise_urls[1]" in m.json()["error"])
    assert err.json()["service"] == "notifier" and "jsn://" in err.json()["error"]
    scheduler = probe_factory(broker, "scheduler")
    scheduler.publish(topics.ALERT.topic(BASE), {"key": "x", "title": "no message"})  # malformed
    err = user_probe.on_topic(topics.ERROR.topic(BASE), lambda m: m.json()["topic"] == "circuitq/alert")
    assert "message" in err.json()["error"]
    scheduler.publish(topics.ALERT.topic(BASE), alert())

    got = fake.wait_for(by_event("Water heater north off for 20 h"))
    assert got["apikey"] == KEY and got["application"] == "circuitq" and got["priority"] == "1"
    assert got["description"].startswith("It has been off since 02:00; the cause: peak hours.\n(scheduler, ")
    hook = catcher.wait_for(lambda r: r["title"] == "Water heater north off for 20 h")
    assert hook["path"] == "/hook" and hook["type"] == "warning" and "peak hours" in hook["message"]

    scheduler.publish(topics.ALERT.topic(BASE), alert())  # the scheduler repeats itself: no spam
    scheduler.publish(topics.ALERT.topic(BASE), alert(resolved=True, priority=0))
    fake.wait_for(by_event("Resolved: Water heater north off for 20 h"))
    catcher.wait_for(lambda r: r["title"].startswith("Resolved:") and r["type"] == "success")
    assert [n["event"] for n in fake.notifications] == [
        "Water heater north off for 20 h", "Resolved: Water heater north off for 20 h"]

    # A rule on the readings: the small garage light left on (CircuitQueueing's garage rule).
    now = datetime.now(timezone.utc)
    reading = CurbReading(ts=now, received=now, stale=False, age_s=1, consumption_w=3000, production_w=0,
                          net_w=3000, circuits={"garage": 260.0, "pool_pump": 1100.0})
    probe_factory(broker, "curb_collector").publish(topics.CURB_READING.topic(BASE),
                                                    reading.model_dump_json())
    got = fake.wait_for(by_event("Small garage consumption high"))
    assert got["description"].startswith("Small garage consumption is 260 W.")
    assert "delivered rule:garage_light via Prowl" in wait_log(proc, "delivered rule:garage_light via Prowl")


def wait_log(proc, text: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = proc.log()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the log:\n{proc.log()[-3000:]}")


def test_prowl_406_waits_for_resetdate_then_delivers(notifier, prowl_factory, probe_factory, broker):
    fake = prowl_factory(limit=2, window_s=2.5)  # long enough for a loaded machine
    proc = notifier(fake)
    scheduler = probe_factory(broker, "scheduler")
    scheduler.publish(topics.ALERT.topic(BASE), alert("a", "First"))
    fake.wait_for(by_event("First"))
    # Another program on this IP spends the last call of the hour.
    r = requests.post(f"{fake.url}/publicapi/add", data={"apikey": KEY, "application": "x", "event": "y"})
    assert 'remaining="0"' in r.text
    reset = int(r.text.split('resetdate="')[1].split('"')[0])

    scheduler.publish(topics.ALERT.topic(BASE), alert("b", "Second"))
    fake.wait_for(by_event("Second"), timeout=10)
    assert time.time() >= reset
    assert fake.statuses() == [200, 200, 406, 200]  # one 406, then it waited for the reset
    wait_log(proc, "Prowl 406")


def test_prowl_500_is_retried_with_backoff(notifier, prowl_factory, probe_factory, broker, catcher):
    fake = prowl_factory()
    fake.fail_next(3, 500)
    catcher.status = 500  # the apprise endpoint is down too, for a while
    notifier(fake)
    probe_factory(broker, "scheduler").publish(topics.ALERT.topic(BASE), alert())
    time.sleep(0.5)
    catcher.status = 200
    fake.wait_for(by_event("Water heater north off for 20 h"), timeout=10)
    times = [t for t, _, _ in fake.calls]
    assert fake.statuses() == [500, 500, 500, 200]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # retry.min_s 0.3 doubling: 0.3, 0.6, 1.2 s (a loaded machine only makes gaps longer)
    assert all(gap >= 0.95 * want for gap, want in zip(gaps, (0.3, 0.6, 1.2))), gaps
    catcher.wait_for(lambda r: r["title"] == "Water heater north off for 20 h")
    assert len(catcher.received) == 1


def test_undelivered_alert_survives_kill_9(notifier, prowl_factory, probe_factory, broker, catcher,
                                           tmp_path):
    fake = prowl_factory()
    fake.fail_always(500)
    proc = notifier(fake)
    probe_factory(broker, "scheduler").publish(topics.ALERT.topic(BASE), alert())
    # Wait until the file says: sent to apprise, Prowl failed and pending (else a kill may come
    # between a delivery and its record, and that delivery is rightly made again: at least once).
    state_file = tmp_path / "state" / "notifier.json"
    deadline = time.monotonic() + 30  # a loaded machine: wait for the condition, not a window
    while time.monotonic() < deadline:
        saved = json.loads(state_file.read_text()) if state_file.exists() else {}
        outbox = saved.get("outbox", {})
        items = outbox.get("items", [])
        # the failure is recorded a moment after the item: no key until then
        if [i["pending"] for i in items] == [["prowl"]] and \
                outbox.get("channels", {}).get("prowl", {}).get("failures"):
            break
        time.sleep(0.02)
    else:
        raise AssertionError(f"not recorded as pending for Prowl: {saved}")
    proc.kill()  # SIGKILL: no shutdown code runs
    fake.fail_always(None)

    notifier(fake, proc.config_path)
    fake.wait_for(by_event("Water heater north off for 20 h"), timeout=30)
    time.sleep(0.5)
    assert len(fake.notifications) == 1 and len(catcher.received) == 1  # once each, not twice


def test_bad_prowl_key_is_reported_and_not_retried(notifier, prowl_factory, probe_factory, broker,
                                                   catcher, user_probe):
    fake = prowl_factory(keys=set())  # the account knows no key: our key is refused with 401
    proc = notifier(fake)
    scheduler = probe_factory(broker, "scheduler")
    scheduler.publish(topics.ALERT.topic(BASE), alert())
    err = user_probe.on_topic(topics.ERROR.topic(BASE), lambda m: "401" in m.json()["error"])
    assert err.json()["service"] == "notifier" and "secrets" in err.json()["error"]
    catcher.wait_for(lambda r: r["title"] == "Water heater north off for 20 h")  # apprise unaffected

    scheduler.publish(topics.ALERT.topic(BASE), alert("other", "Another"))
    catcher.wait_for(lambda r: r["title"] == "Another")
    time.sleep(1.5)  # several retry periods (0.3 s backoff)
    assert fake.statuses() == [401]
    assert "Prowl 401: Invalid API key" in proc.log() and proc.alive()
