"""With the real broker, scheduler and relay agent: one topic says what a user wants and what
the hardware does; Home Assistant's birth brings the discovery back; and each timing rule
has one owner (the scheduler never asks the relay agent for a change it would hold)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from circuitq import topics
from tests.scheduler.service_helpers import BASE, fast_house, load_set, load_state, pins_on, wait_until

WHN = "water_heater_north"
DRM_STATE = topics.DRM_STATE.topic(BASE, drm="aircon")
DRED_STATE = topics.DRED_STATE.topic(BASE, output="aircon")


def test_home_assistant_birth_republishes_discovery(config_factory, service_factory, probe_factory, broker):
    ha = probe_factory(broker, "user")
    ha.subscribe("homeassistant/#")
    service_factory("scheduler", config_factory(fast_house()))
    select = f"homeassistant/select/{BASE}/{WHN}_mode/config"
    ha.on_topic(select, timeout=20)
    mark = ha.mark()
    ha.publish("homeassistant/status", "online")  # Home Assistant (re)started
    again = ha.on_topic(select, lambda m: not m.retain, since=mark, timeout=10).json()
    assert again["default_entity_id"] == f"select.{BASE}_{WHN}_mode"
    assert ha.on_topic(f"homeassistant/sensor/{BASE}/curb_consumption_energy/config", since=mark)


def test_the_load_state_carries_the_relay_and_its_held_change(config_factory, service_factory, user_probe):
    cfg = config_factory(fast_house(relays={WHN: {"min_on_s": 3}}))
    mark = user_probe.mark()
    service_factory("relay_agent", cfg)
    service_factory("scheduler", cfg)
    user_probe.on_topic(load_state(WHN), lambda m: (m.json()["actual"] or {}).get("level") == "off",
                        since=mark, timeout=20)
    mark = user_probe.mark()
    user_probe.publish(load_set(WHN), "ON")
    on = user_probe.on_topic(load_state(WHN), lambda m: m.json()["actual"]["level"] == "on", since=mark).json()
    assert on["permitted"] and on["actual"]["relay"] == WHN and on["actual"]["pending"] is None
    # the user's OFF at once: the relay must serve its 3 s minimum on time; the same topic says so
    user_probe.publish(load_set(WHN), "OFF")
    held = user_probe.on_topic(load_state(WHN), lambda m: m.json()["actual"]["pending"] is not None,
                               since=mark).json()
    assert held["permitted"] is False and held["actual"]["level"] == "on"
    pending = held["actual"]["pending"]
    assert pending["state"] == "off" and pending["reason"]["code"] == "hold:min_on"
    ends = datetime.fromisoformat(pending["eligible_at"])
    assert timedelta(0) < ends - datetime.now(timezone.utc) <= timedelta(seconds=3.5)
    assert ends.utcoffset() != timedelta(0)  # the site's offset (America/New_York), as every time
    mark = user_probe.mark()
    done = user_probe.on_topic(load_state(WHN), lambda m: m.json()["actual"]["level"] == "off", since=mark).json()
    assert done["actual"]["pending"] is None and datetime.now(timezone.utc) >= ends - timedelta(seconds=0.2)
    wait_until(lambda: pins_on(cfg)[WHN] is False, what="relay off after its minimum on time")


def solar(probe, w: float) -> None:
    now = datetime.now(timezone.utc).isoformat()
    probe.publish(topics.SOLAR_PRODUCTION.topic(BASE), {"w": w, "ts": now, "received": now, "source": "test",
                                                        "stale": False, "age_s": 0}, retain=True)


def test_drm_wish_waits_for_the_output_so_the_applied_mode_is_always_the_wish(
        config_factory, service_factory, user_probe, probe_factory, broker):
    cfg = config_factory(fast_house(drm_outputs={"aircon": {"min_dwell_s": 3}},
                                    scheduler={"drm": {"aircon": {"min_dwell_s": 0}}}))
    sc = probe_factory(broker, "solar_collector")
    now = datetime.now(timezone.utc).isoformat()
    sc.publish(topics.SOLAR_HEALTH.topic(BASE), {"state": "ok", "since": now}, retain=True)
    sc.publish(topics.STATUS.topic(BASE, service="solar_collector"), "online", retain=True)
    solar(sc, 300)
    user_probe.subscribe(DRED_STATE)
    mark = user_probe.mark()
    service_factory("relay_agent", cfg)
    service_factory("scheduler", cfg)
    user_probe.on_topic(DRED_STATE, lambda m: m.json()["mode"] == 2, since=mark, timeout=20)
    # production jumps: DRM0 is wanted at once, but the output has just changed mode
    solar(sc, 800)
    held = user_probe.on_topic(DRM_STATE, lambda m: m.json()["reason"]["code"] == "holding:min_dwell"
                               and m.json()["drm_mode"] == 2, since=mark)
    wait, wait_at = held.json(), held.t
    assert wait["drm_mode"] == 2 and wait["actual"]["drm_mode"] == 2
    assert wait["reason"]["text"].startswith("stays DRM2 until") and "then DRM0" in wait["reason"]["text"]
    user_probe.on_topic(DRED_STATE, lambda m: m.json()["mode"] == 0, since=mark, timeout=10)
    st = user_probe.on_topic(DRM_STATE, lambda m: m.json()["actual"]["drm_mode"] == 0
                             and m.json()["drm_mode"] == 0 and m.t > wait_at, since=mark).json()
    assert st["reason"]["code"] == "solar:drm0"
    # a user's DRM3 during the next dwell waits the same way, and is never held by the relay agent
    user_probe.publish(topics.DRM_SET.topic(BASE, drm="aircon"), "3")
    user_probe.on_topic(DRED_STATE, lambda m: m.json()["mode"] == 3, since=mark, timeout=10)
    dred = [m.json() for m in user_probe.messages[mark:] if m.topic == DRED_STATE and m.payload]
    assert [d["pending"] for d in dred] == [None] * len(dred), "the relay agent had to hold a wish"
    for topic in (topics.SOLAR_PRODUCTION.topic(BASE), topics.SOLAR_HEALTH.topic(BASE),
                  topics.STATUS.topic(BASE, service="solar_collector")):
        sc.publish(topic, b"", retain=True)  # leave the shared broker as we found it
