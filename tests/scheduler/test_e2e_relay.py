"""End to end with the real broker and the real relay agent: a phone on the `user` account
turns the north water heater ON against a policy that wants it off; the relay follows;
when the override ends the relay returns to what the policy wants, at once."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from .service_helpers import fast_house, load_set, load_state, pins_on, relay_state, wait_until

WHN = "water_heater_north"


def test_phone_override_drives_the_relay_and_expiry_returns_it_to_policy(
        config_factory, service_factory, user_probe):
    cfg = config_factory(fast_house())
    mark = user_probe.mark()
    service_factory("relay_agent", cfg)
    service_factory("scheduler", cfg)
    # policy: off all day ('always' block window). The relay boots on (boot_state) and is switched off.
    user_probe.on_topic(load_state(WHN), lambda m: m.json()["reason"]["code"] == "blocked:always",
                        since=mark, timeout=15)
    user_probe.on_topic(relay_state(WHN), lambda m: m.json()["level"] == "off", since=mark, timeout=10)
    wait_until(lambda: pins_on(cfg)[WHN] is False, what="pin off")

    # the phone: ON for 30 minutes
    mark = user_probe.mark()
    t0 = time.monotonic()
    user_probe.publish(load_set(WHN), {"mode": "on", "minutes": 30})
    st = user_probe.on_topic(load_state(WHN), lambda m: m.json()["mode"] == "on", since=mark).json()
    assert st["permitted"] and st["reason"]["code"] == "override:on"
    until = datetime.fromisoformat(st["until"])
    assert timedelta(minutes=29) < until - datetime.now(timezone.utc) <= timedelta(minutes=30)
    rs = user_probe.on_topic(relay_state(WHN), lambda m: m.json()["level"] == "on", since=mark).json()
    assert rs["commanded"] == "on" and rs["lease_until"]
    assert time.monotonic() - t0 < 2.0
    wait_until(lambda: pins_on(cfg)[WHN] is True, what="pin on")

    # the same phone shortens it: ON until three seconds from now (the override's `until` form)
    end = datetime.now(timezone.utc) + timedelta(seconds=3)
    mark = user_probe.mark()
    user_probe.publish(load_set(WHN), {"mode": "on", "until": end.isoformat()})
    user_probe.on_topic(load_state(WHN), lambda m: m.json()["until"] and
                        abs((datetime.fromisoformat(m.json()["until"]) - end).total_seconds()) < 0.01, since=mark)
    assert pins_on(cfg)[WHN] is True

    # expiry: re-evaluated at that moment, the relay goes back to what the policy wants
    st = user_probe.on_topic(load_state(WHN), lambda m: m.json()["mode"] == "auto", since=mark, timeout=8).json()
    late_s = (datetime.now(timezone.utc) - end).total_seconds()
    assert -0.05 < late_s < 1.0
    assert st["reason"]["code"] == "blocked:always" and not st["permitted"] and st["until"] is None
    user_probe.on_topic(relay_state(WHN), lambda m: m.json()["level"] == "off", since=mark, timeout=3)
    wait_until(lambda: pins_on(cfg)[WHN] is False, timeout=3, what="pin off again")
