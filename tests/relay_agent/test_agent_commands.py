"""The relay agent as docker-compose runs it (a subprocess) on the real broker: leases, refused
commands (retained, malformed, wrong account), holds, wear across restarts, SIGTERM, the lock.
Pins are watched through the sim backend's JSON file, states through the `user` account."""
from __future__ import annotations

import json
import signal
import time
from datetime import datetime

from circuitq import topics

from .helpers import (command, dred_cmd, drm_command, dred_state, fast, on, pins, relay_cmd, relay_state,
                      start_agent, wait_until)

ERROR = topics.ERROR.topic("circuitq")
ACTIVITY = topics.ACTIVITY.topic("circuitq")


def test_lease_expiry_returns_relay_to_safe_state_renewal_keeps_it(config_factory, service_factory,
                                                                   user_probe, probe_factory, broker):
    cfg = config_factory(fast())
    start_agent(service_factory, cfg, user_probe)
    sched = probe_factory(broker, "scheduler")
    mark = user_probe.mark()
    command(sched, "pool_pump", "off", lease_s=3.0, id="p1")
    st = user_probe.on_topic(relay_state("pool_pump"), lambda m: m.json()["level"] == "off", since=mark).json()
    assert st["commanded"] == "off" and st["command_id"] == "p1" and st["lease_until"]
    assert st["reason"]["code"] == "command" and st["switch_count"] == 1
    assert on(cfg)["pool_pump"] is False
    user_probe.on_topic(ACTIVITY, lambda m: "pool_pump switched off" in m.json()["message"], since=mark)
    for i in range(3):  # renewal: the same state again moves the lease on, no switch
        mark = user_probe.mark()
        command(sched, "pool_pump", "off", lease_s=3.0, id=f"p{i + 2}")
        renewed = user_probe.on_topic(relay_state("pool_pump"), lambda m, i=i: m.json()["command_id"] == f"p{i + 2}",
                                      since=mark).json()
        assert renewed["level"] == "off" and renewed["switch_count"] == 1
        assert datetime.fromisoformat(renewed["lease_until"]) > datetime.fromisoformat(st["lease_until"])
        st = renewed
    on_again = user_probe.on_topic(relay_state("pool_pump"), lambda m: m.json()["level"] == "on", since=mark).json()
    # back on because the last lease ended, and not before it ended
    assert datetime.fromisoformat(on_again["since"]) >= datetime.fromisoformat(st["lease_until"])
    assert on_again["reason"]["code"] == "safe:lease_expired" and on_again["commanded"] is None
    assert on(cfg)["pool_pump"] is True and on_again["switch_count"] == 2


def test_retained_command_is_refused_at_every_connect(config_factory, service_factory,
                                                       user_probe, probe_factory, broker):
    """A retained command replays whenever the agent (re)subscribes: ghost switching (Tasmota
    #2140). It arrives with the retain flag set and is refused every time."""
    sched = probe_factory(broker, "scheduler")
    topic = relay_cmd("water_heater_south")
    sched.publish(topic, {"state": "off", "lease_s": 30, "id": "ghost"}, retain=True)
    try:
        cfg = config_factory(fast())
        for _ in range(2):  # first start, then a restart (a reconnect from scratch)
            mark = user_probe.mark()
            agent = start_agent(service_factory, cfg, user_probe)
            err = user_probe.on_topic(ERROR, lambda m: m.json()["topic"] == topic, since=mark).json()
            assert err["service"] == "relay_agent" and "retain" in err["error"] and "ghost" in err["payload"]
            time.sleep(0.3)
            assert on(cfg)["water_heater_south"] is True
            st = user_probe.last(relay_state("water_heater_south")).json()
            assert st["switch_count"] == 0 and st["commanded"] is None
            assert agent.stop() == 0
    finally:
        sched.publish(topic, b"", retain=True)  # clear it for everyone else


def test_retained_command_published_while_connected_is_refused(config_factory, service_factory,
                                                               user_probe, probe_factory, broker):
    """MQTT 3.1.1 would clear the retain flag on live delivery; the fleet subscribes with MQTT 5
    "retain as published", so a retained command is refused even when it arrives live."""
    cfg = config_factory(fast())
    agent = start_agent(service_factory, cfg, user_probe)
    sched = probe_factory(broker, "scheduler")
    topic = relay_cmd("pool_pump")
    mark = user_probe.mark()
    sched.publish(topic, {"state": "off", "lease_s": 30, "id": "live-ghost"}, retain=True)
    try:
        err = user_probe.on_topic(ERROR, lambda m: m.json()["topic"] == topic, since=mark).json()
        assert "retain" in err["error"] and "live-ghost" in err["payload"]
        time.sleep(0.3)
        assert on(cfg)["pool_pump"] is True and agent.alive()
    finally:
        sched.publish(topic, b"", retain=True)


BAD = [
    (relay_cmd("pool_pump"), b"{not json", "payload"),
    (relay_cmd("pool_pump"), b'{"state": "off", "lease_s": 5, "id": "x", "force": true}', "force: unknown field"),
    (relay_cmd("pool_pump"), b'{"state": "toggle", "lease_s": 5, "id": "x"}', "state:"),
    (relay_cmd("pool_pump"), b'{"state": "off", "lease_s": "5", "id": "x"}', "lease_s:"),
    (relay_cmd("pool_pump"), b'{"state": "off", "lease_s": 61, "id": "x"}', "lease_s: 61 s exceeds max_lease_s 60"),
    (relay_cmd("pool_pump"), b'{"state": "off", "lease_s": 5}', "id: Field required"),
    (relay_cmd("pool_pump"), b'["off"]', "payload"),
    (relay_cmd("garage_door"), b'{"state": "off", "lease_s": 5, "id": "x"}', "garage_door"),
    (dred_cmd(), b'{"mode": 1, "lease_s": 5, "id": "x"}', "mode 1 is not wired"),
    (dred_cmd(), b'{"mode": 7, "lease_s": 5, "id": "x"}', "mode:"),
    (dred_cmd(), b'{"state": "on", "lease_s": 5, "id": "x"}', "unknown field"),
]


def test_malformed_commands_are_reported_by_field_and_change_nothing(config_factory, service_factory,
                                                                      user_probe, probe_factory, broker):
    cfg = config_factory(fast())
    proc = start_agent(service_factory, cfg, user_probe)
    sched = probe_factory(broker, "scheduler")
    before = pins(cfg)
    for topic, payload, expected in BAD:
        mark = user_probe.mark()
        sched.publish(topic, payload)
        err = user_probe.on_topic(ERROR, since=mark).json()
        assert err["topic"] == topic and expected in err["error"], (payload, err["error"])
    assert pins(cfg) == before and proc.alive()
    mark = user_probe.mark()
    drm_command(sched, 2)  # the agent still works
    st = user_probe.on_topic(dred_state(), lambda m: m.json()["mode"] == 2, since=mark).json()
    assert st["relays"] == {"drm2": "on", "drm3": "off"} and on(cfg)["aircon.drm2"] is True
    assert st["relay_switch_counts"] == {"drm2": 1, "drm3": 0} and st["switch_count"] == 1
    mark = user_probe.mark()
    drm_command(sched, 3)  # energise drm3, then release drm2: two relay operations, one mode change
    st = user_probe.on_topic(dred_state(), lambda m: m.json()["mode"] == 3, since=mark).json()
    assert st["relay_switch_counts"] == {"drm2": 2, "drm3": 1} and st["switch_count"] == 2


def test_user_account_cannot_command_a_relay(config_factory, service_factory, user_probe, probe_factory, broker):
    cfg = config_factory(fast())
    start_agent(service_factory, cfg, user_probe)
    mark = user_probe.mark()
    command(user_probe, "pool_pump", "off", id="from-phone")  # the broker's ACL drops it
    time.sleep(0.8)
    assert on(cfg)["pool_pump"] is True
    # (the agent may publish its unchanged states again at connect: only the command matters)
    assert not [m for m in user_probe.messages[mark:]
                if m.topic in (relay_state("pool_pump"), ERROR) and "from-phone" in m.text]
    command(probe_factory(broker, "scheduler"), "pool_pump", "off", id="from-scheduler")
    wait_until(lambda: not on(cfg)["pool_pump"], 30, what="scheduler's command applied")


def test_min_on_min_off_and_starts_per_hour_are_held_then_applied(config_factory, service_factory,
                                                                   user_probe, probe_factory, broker):
    limits = {"min_on_s": 1.0, "min_off_s": 1.0, "max_starts_per_hour": 1}
    cfg = config_factory(fast(relays={"pool_pump": limits}))
    start_agent(service_factory, cfg, user_probe)
    sched = probe_factory(broker, "scheduler")
    state = relay_state("pool_pump")

    def held(code, mark):
        m = user_probe.on_topic(state, lambda m: (m.json()["pending"] or {}).get("reason", {}).get("code") == code,
                                since=mark)
        return m.json()

    command(sched, "pool_pump", "off", id="a")
    wait_until(lambda: not on(cfg)["pool_pump"], 4, what="off after min_on from boot")
    mark = user_probe.mark()
    command(sched, "pool_pump", "on", id="b")
    st = held("hold:min_off", mark)
    assert st["level"] == "off" and st["pending"]["state"] == "on" and st["pending"]["eligible_at"]
    assert on(cfg)["pool_pump"] is False
    st = user_probe.on_topic(state, lambda m: m.json()["level"] == "on", since=mark, timeout=4).json()
    assert st["pending"] is None and st["reason"]["code"] == "command"
    mark = user_probe.mark()
    command(sched, "pool_pump", "off", id="c")
    assert held("hold:min_on", mark)["level"] == "on"
    user_probe.on_topic(state, lambda m: m.json()["level"] == "off", since=mark, timeout=4)
    time.sleep(1.1)  # min_off served: only the starts budget (1 per hour) stands in the way now
    mark = user_probe.mark()
    command(sched, "pool_pump", "on", id="d")
    st = held("hold:max_starts", mark)
    assert st["level"] == "off" and on(cfg)["pool_pump"] is False
    assert st["pending"]["eligible_at"] > st["since"]  # about an hour after the first start


def test_switch_counts_survive_a_restart(config_factory, service_factory, user_probe, probe_factory, broker):
    cfg = config_factory(fast())
    agent = start_agent(service_factory, cfg, user_probe)
    sched = probe_factory(broker, "scheduler")
    mark = user_probe.mark()
    command(sched, "water_heater_north", "off", id="a")
    user_probe.on_topic(relay_state("water_heater_north"), lambda m: m.json()["switch_count"] == 1, since=mark)
    command(sched, "water_heater_north", "on", id="b")
    user_probe.on_topic(relay_state("water_heater_north"), lambda m: m.json()["switch_count"] == 2, since=mark)
    assert agent.stop() == 0
    wear = json.loads((cfg.parent / "state" / "relay_agent.json").read_text())
    assert wear["outputs"]["relay"]["water_heater_north"]["switch_count"] == 2
    mark = user_probe.mark()
    start_agent(service_factory, cfg, user_probe)
    st = user_probe.on_topic(relay_state("water_heater_north"), since=mark).json()
    assert st["switch_count"] == 2 and st["reason"]["code"] == "boot"
    command(sched, "water_heater_north", "off", id="c")
    user_probe.on_topic(relay_state("water_heater_north"), lambda m: m.json()["switch_count"] == 3, since=mark)


def test_sigterm_puts_outputs_in_safe_states_by_the_fallback_rule(config_factory, service_factory,
                                                                  user_probe, probe_factory, broker):
    spare = {"pin": 19, "boot_state": "off", "safe_state": "off", "min_on_s": 600, "min_off_s": 0,
             "max_lease_s": 60}
    cfg = config_factory(fast(relays={"spare": spare, "pool_pump": {"min_off_s": 600}}))
    agent = start_agent(service_factory, cfg, user_probe)
    sched = probe_factory(broker, "scheduler")
    command(sched, "water_heater_north", "off")
    command(sched, "spare", "on")
    command(sched, "pool_pump", "off")
    drm_command(sched, 2)
    wait_until(lambda: on(cfg) == {**on(cfg), "water_heater_north": False, "spare": True, "pool_pump": False,
                                   "aircon.drm2": True}, 5, what="commands applied")
    mark = user_probe.mark()
    agent.kill(signal.SIGTERM)
    assert agent.proc.returncode == 0
    p = on(cfg)
    assert p["water_heater_north"] is True  # safe on, min_off 0: back on
    assert p["spare"] is False  # safe off: off at once although min_on (600 s) is not served
    assert p["pool_pump"] is False  # safe on, but min_off (600 s) not served: stays off, held
    assert (p["aircon.drm2"], p["aircon.drm3"]) == (False, False)  # DRM 0
    st = {n: user_probe.last(relay_state(n)).json() for n in ("water_heater_north", "spare", "pool_pump")}
    assert st["water_heater_north"]["reason"]["code"] == "safe:shutdown"
    assert st["spare"]["reason"]["code"] == "safe:shutdown" and st["spare"]["level"] == "off"
    assert st["pool_pump"]["pending"]["reason"]["code"] == "hold:min_off"
    assert user_probe.last(dred_state()).json()["reason"]["code"] == "safe:shutdown"
    user_probe.on_topic("circuitq/relay_agent/status", lambda m: m.text == "offline", since=mark)


def test_second_instance_is_refused_by_the_lock_and_touches_no_pin(config_factory, service_factory,
                                                                    user_probe, probe_factory, broker):
    cfg = config_factory(fast())
    first = start_agent(service_factory, cfg, user_probe)
    command(probe_factory(broker, "scheduler"), "pool_pump", "off")
    wait_until(lambda: not on(cfg)["pool_pump"], 30)
    before = (cfg.parent / "state" / "run" / "gpio.json").read_text()
    second = service_factory("relay_agent", cfg)
    second.proc.wait(10)
    assert second.proc.returncode == 3
    assert "another relay_agent" in second.log() and f"pid {first.proc.pid}" in second.log()
    assert (cfg.parent / "state" / "run" / "gpio.json").read_text() == before
    assert first.alive()


def test_sighup_from_a_closed_terminal_is_a_shutdown_with_safe_states(config_factory, service_factory,
                                                                       user_probe, probe_factory, broker):
    """Started by hand in an ssh session that drops, the agent gets SIGHUP, whose default is to
    die on the spot: pins left as they are and no lease enforced by anyone."""
    cfg = config_factory(fast())
    agent = start_agent(service_factory, cfg, user_probe)
    command(probe_factory(broker, "scheduler"), "pool_pump", "off", lease_s=60)
    wait_until(lambda: not on(cfg)["pool_pump"], 30, what="command applied")
    agent.kill(signal.SIGHUP)
    assert agent.proc.returncode == 0
    assert on(cfg)["pool_pump"] is True  # safe on, min_off 0
    assert user_probe.last(relay_state("pool_pump")).json()["reason"]["code"] == "safe:shutdown"
