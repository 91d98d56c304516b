"""The whole fleet end to end: the six services, the real broker and ACL, simulated GPIO.

The services run as processes with the commands docker-compose.yml gives them, so that a
test can kill -9 one of them; the compose file itself runs under a real container engine in
tests/docker (`make test-compose`).
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.fleet_driver import ProcessFleet
from tests.mqtt_probe import Probe

LOADS = ("kitchen", "heat_pump_north", "heat_pump_south", "dryer", "water_heater_north",
         "water_heater_south", "pool_pump")
RELAYS = ("water_heater_north", "water_heater_south", "pool_pump")
SERVICES = ("curb_collector", "solar_collector", "scheduler", "relay_agent", "ecobee_agent", "notifier")

# Test-friendly durations: no switching holds, a scheduler that starts deciding at once.
FAST = {
    "relays": {r: {"min_on_s": 0, "min_off_s": 0, "max_starts_per_hour": 100} for r in RELAYS},
    "loads": {r: {"min_on_s": 0, "min_off_s": 0} for r in RELAYS},
    "scheduler": {"startup_grace_s": 1, "settle_s": 5},
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("fleet")
    f = ProcessFleet(run_dir, port=None, overrides=FAST)
    f.start()
    yield f
    f.stop()


@pytest.fixture
def phone(fleet):
    p = Probe(fleet.port, "user", fleet.secrets.mqtt_users["user"])
    p.subscribe("circuitq/#")
    yield p
    p.close()


def wait_level(phone: Probe, relay: str, want: str, timeout: float = 10) -> dict:
    """The relay's latest state reads `want` (it may already have, before we asked)."""
    topic = f"circuitq/relay/{relay}/state"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = phone.last(topic)
        if m is not None and m.json()["level"] == want:
            return m.json()
        time.sleep(0.05)
    raise AssertionError(f"{relay} did not read {want!r} in {timeout}s: {phone.last(topic)}")


def test_every_service_is_online_and_every_load_and_relay_has_state(fleet, phone):
    for name in SERVICES:
        phone.on_topic(f"circuitq/{name}/status", lambda m: m.text == "online", timeout=30)
    for load in LOADS:
        st = phone.on_topic(f"circuitq/load/{load}/state", timeout=30).json()
        assert st["mode"] == "auto" and st["reason"]["code"] and st["reason"]["text"]
    for relay in RELAYS:
        st = phone.on_topic(f"circuitq/relay/{relay}/state", timeout=30).json()
        assert st["level"] in ("on", "off")
    assert phone.on_topic("circuitq/dred/aircon/state", timeout=30).json()["mode"] in (0, 2, 3)
    reading = phone.on_topic("circuitq/curb/reading", timeout=30).json()
    assert set(reading["circuits"]) >= {"kitchen", "dryer", "pool_pump"}
    # The first source in the fallback order wins once it has answered (the others may
    # answer first at start-up).
    phone.on_topic("circuitq/solar/production", lambda m: m.json()["source"] == "envoy", timeout=30)


def test_phone_override_drives_the_relay_and_auto_hands_it_back(fleet, phone):
    relay_topic = "circuitq/relay/pool_pump/state"
    phone.on_topic("circuitq/load/pool_pump/state", timeout=30)
    for mode, want in (("ON", "on"), ('{"mode": "off", "minutes": 30}', "off")):
        mark = phone.mark()
        phone.publish("circuitq/load/pool_pump/set", mode)
        st = phone.on_topic("circuitq/load/pool_pump/state",
                            lambda m: m.json()["mode"] == want, since=mark, timeout=10).json()
        assert st["until"] is not None  # every override ends by itself
        wait_level(phone, "pool_pump", want)
    # An `until` a few seconds ahead: the override lapses and the policy decides again.
    mark = phone.mark()
    until = (datetime.now(timezone.utc) + timedelta(seconds=3)).isoformat()
    phone.publish("circuitq/load/pool_pump/set", json.dumps({"mode": "on", "until": until}))
    wait_level(phone, "pool_pump", "on")
    st = phone.on_topic("circuitq/load/pool_pump/state", lambda m: m.json()["mode"] == "auto",
                        since=mark, timeout=15).json()
    want = "on" if st["permitted"] else "off"
    phone.on_topic(relay_topic, lambda m: m.json()["level"] == want and m.json()["commanded"] == want,
                   since=mark, timeout=10)


def test_a_bad_override_is_answered_on_the_error_topic(fleet, phone):
    mark = phone.mark()
    phone.publish("circuitq/load/pool_pump/set", "SOMETIMES")
    err = phone.on_topic("circuitq/error", lambda m: m.json()["topic"] == "circuitq/load/pool_pump/set",
                         since=mark, timeout=10).json()
    assert err["service"] == "scheduler" and "SOMETIMES" in err["payload"]


def test_scheduler_killed_relays_fall_back_to_their_safe_states(fleet, phone):
    phone.publish("circuitq/load/water_heater_south/set", '{"mode": "off", "minutes": 60}')
    wait_level(phone, "water_heater_south", "off", timeout=30)  # (the policy may have had it off already)
    mark = phone.mark()
    fleet.kill("scheduler")
    phone.on_topic("circuitq/scheduler/status", lambda m: m.text == "offline", since=mark, timeout=10)
    st = phone.on_topic("circuitq/relay/water_heater_south/state",
                        lambda m: m.json()["level"] == "on", since=mark, timeout=10).json()
    assert st["reason"]["code"] == "safe:scheduler_offline"  # hot water back without circuitq
