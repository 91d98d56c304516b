"""The scheduler as docker-compose runs it, on the real broker: retained decisions with
reasons, reaction to readings in milliseconds, overrides (errors, retained /set cleared,
persistence across a restart) and Home Assistant discovery."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from circuitq import topics

from .service_helpers import BASE, fast_house, load_set, load_state

WHN = "water_heater_north"
ERROR = topics.ERROR.topic(BASE)
STATUS = topics.STATUS.topic(BASE, service="scheduler")


def reading(circuits: dict, production=0.0) -> str:
    now = datetime.now(timezone.utc).isoformat()
    return json.dumps({"ts": now, "received": now, "stale": False, "age_s": 1.0, "consumption_w": 0,
                       "production_w": production, "net_w": 0, "circuits": circuits})


def test_scheduler_service_states_overrides_discovery_and_restart(config_factory, service_factory,
                                                                    user_probe, probe_factory, broker):
    cfg = config_factory(fast_house(loads={"kitchen": {"debounce_s": 0}}))
    ha = probe_factory(broker, "user")
    ha.subscribe("homeassistant/#")
    mark = user_probe.mark()
    sched = service_factory("scheduler", cfg)
    user_probe.on_topic(STATUS, lambda m: m.text == "online" and not m.retain, since=mark, timeout=15)
    st = user_probe.on_topic(load_state(WHN), lambda m: m.json()["reason"]["code"] == "blocked:always",
                             since=mark).json()
    assert st["mode"] == "auto" and st["permitted"] is False and "'always' hours" in st["reason"]["text"]

    # Home Assistant discovery: a select wired to the load's /set, availability on our status
    sel = ha.on_topic(f"homeassistant/select/{BASE}/{WHN}_mode/config").json()
    assert sel["command_topic"] == load_set(WHN) and sel["options"] == ["auto", "on", "off"]
    assert sel["availability"] == [{"topic": STATUS}] and sel["state_topic"] == load_state(WHN)
    ha.on_topic(f"homeassistant/sensor/{BASE}/kitchen_power/config")
    ha.on_topic(f"homeassistant/select/{BASE}/drm_aircon/config")

    # a reading is reflected within milliseconds (kitchen observed running). The session broker
    # may hold another test's retained Curb health: say the collector is healthy first.
    curb = probe_factory(broker, "curb_collector")
    now = datetime.now(timezone.utc).isoformat()
    curb.publish(topics.CURB_HEALTH.topic(BASE), {"state": "ok", "since": now}, retain=True)
    curb.publish(topics.STATUS.topic(BASE, service="curb_collector"), "online", retain=True)
    mark = user_probe.mark()
    t0 = time.monotonic()
    curb.publish(topics.CURB_READING.topic(BASE), reading({"kitchen": 5000.0}), retain=True)
    user_probe.on_topic(load_state("kitchen"), lambda m: m.json()["running"] and m.json()["power_w"] == 5000,
                        since=mark, timeout=5)
    assert time.monotonic() - t0 < 1.0

    # rejected overrides are answered on circuitq/error with the reason
    mark = user_probe.mark()
    user_probe.publish(load_set("garage"), "ON")
    err = user_probe.on_topic(ERROR, since=mark).json()
    assert "unknown load 'garage'" in err["error"] and err["service"] == "scheduler"
    user_probe.publish(load_set(WHN), '{"mode": "on", "minutes": 100000}')
    err = user_probe.on_topic(ERROR, lambda m: "maximum" in m.json()["error"], since=mark).json()
    assert err["topic"] == load_set(WHN)

    # a retained ON is applied once and cleared, so it cannot fire again after a reconnect
    mark = user_probe.mark()
    user_probe.publish(load_set(WHN), "  on ", retain=True)
    st = user_probe.on_topic(load_state(WHN), lambda m: m.json()["mode"] == "on", since=mark).json()
    assert st["permitted"] and st["reason"]["code"] == "override:on" and st["until"]
    late = probe_factory(broker, "scheduler")  # /set is write-only for `user`; look as a reader
    late.subscribe(load_set(WHN))
    time.sleep(0.3)
    assert not [m for m in late.messages if m.payload]

    # the override survives a restart of the scheduler
    assert sched.stop() == 0
    mark = user_probe.mark()
    service_factory("scheduler", cfg)
    st = user_probe.on_topic(load_state(WHN), lambda m: m.json()["mode"] == "on", since=mark, timeout=15).json()
    assert st["reason"]["code"] == "override:on"
    user_probe.publish(load_set(WHN), "AUTO")
    user_probe.on_topic(load_state(WHN), lambda m: m.json()["reason"]["code"] == "blocked:always", since=mark)
    for topic in (topics.CURB_READING.topic(BASE), topics.CURB_HEALTH.topic(BASE),
                  topics.STATUS.topic(BASE, service="curb_collector")):
        curb.publish(topic, b"", retain=True)  # leave the shared broker as we found it


def test_a_retained_set_waiting_at_start_is_applied_once_and_cleared(config_factory, service_factory,
                                                                     user_probe, probe_factory, broker):
    cfg = config_factory(fast_house(loads={WHN: {"block": []}}, scheduler={"ha_discovery": False}))
    user_probe.publish(load_set(WHN), '{"mode": "off", "minutes": 45}', retain=True)  # phone, while we're down
    ha = probe_factory(broker, "user")
    ha.subscribe("homeassistant/#")
    ha_mark = ha.mark()
    mark = user_probe.mark()
    service_factory("scheduler", cfg)
    # discovery turned off: entities a previous run created are removed (empty retained config)
    ha.on_topic(f"homeassistant/select/{BASE}/{WHN}_mode/config", lambda m: m.payload == b"", since=ha_mark)
    st = user_probe.on_topic(load_state(WHN), lambda m: m.json()["mode"] == "off", since=mark, timeout=15).json()
    assert st["reason"]["code"] == "override:off" and not st["permitted"]
    user_probe.on_topic(topics.ACTIVITY.topic(BASE), lambda m: "user (retained) set OFF" in m.json()["message"],
                        since=mark)
    reader = probe_factory(broker, "scheduler")
    reader.subscribe(load_set(WHN))
    time.sleep(0.3)
    assert not [m for m in reader.messages if m.payload]
