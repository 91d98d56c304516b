"""Faults around the relay agent: the scheduler dies (kill -9, its will says offline), the broker
dies (kill -9) and comes back on the same port, and no broker at all at start-up (boot levels
are on the pins before any connection)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from sim.broker import free_port
from tests.conftest import ROOT

from .helpers import (command, drm_command, dred_state, fast, on, relay_state, start_agent,
                      wait_until)


def test_scheduler_killed_sends_every_output_to_its_safe_state(config_factory, service_factory,
                                                                probe_factory, own_broker, secrets):
    cfg = config_factory(fast(), broker_=own_broker)
    user = probe_factory(own_broker, "user")
    user.subscribe("circuitq/#")
    start_agent(service_factory, cfg, user)
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.relay_agent.fake_scheduler", str(own_broker.port), "pool_pump", "off", "60"],
        cwd=ROOT, env={**os.environ, "SCHEDULER_PASSWORD": secrets.mqtt_users["scheduler"]},
        stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout.readline().strip() == "ready"
        drm_command(probe_factory(own_broker, "scheduler"), 3)
        wait_until(lambda: not on(cfg)["pool_pump"] and on(cfg)["aircon.drm3"], 30, what="commands applied")
        mark = user.mark()
        t0 = time.monotonic()
        fake.kill()  # SIGKILL: no goodbye; the broker publishes the will
        fake.wait(5)
    finally:
        if fake.poll() is None:
            fake.kill()
    wait_until(lambda: on(cfg)["pool_pump"] and not on(cfg)["aircon.drm3"], 30, what="safe states")
    assert time.monotonic() - t0 < 3  # long before the 60 s leases would have run out
    st = user.on_topic(relay_state("pool_pump"), lambda m: m.json()["level"] == "on", since=mark).json()
    assert st["reason"]["code"] == "safe:scheduler_offline"
    dred = user.on_topic(dred_state(), lambda m: m.json()["mode"] == 0, since=mark).json()
    assert dred["reason"]["code"] == "safe:scheduler_offline" and dred["relays"] == {"drm2": "off", "drm3": "off"}


def test_broker_killed_safe_after_grace_then_reconnects_and_republishes(config_factory, service_factory,
                                                                         probe_factory, own_broker):
    cfg = config_factory(fast(relay_agent={"broker_grace_s": 2}), broker_=own_broker)
    user = probe_factory(own_broker, "user")
    user.subscribe("circuitq/#")
    agent = start_agent(service_factory, cfg, user)
    sched = probe_factory(own_broker, "scheduler")
    command(sched, "pool_pump", "off", lease_s=60)
    drm_command(sched, 2, lease_s=60)
    wait_until(lambda: not on(cfg)["pool_pump"] and on(cfg)["aircon.drm2"], 30, what="commands applied")
    port = own_broker.port
    own_broker.kill()
    t0 = time.monotonic()
    time.sleep(1.0)
    assert not on(cfg)["pool_pump"] and on(cfg)["aircon.drm2"], "went safe before broker_grace_s"
    wait_until(lambda: on(cfg)["pool_pump"] and not on(cfg)["aircon.drm2"], 30, what="safe after grace")
    assert 1.8 < time.monotonic() - t0 < 4.5
    own_broker.restart()
    assert own_broker.port == port
    user2 = probe_factory(own_broker, "user")
    user2.subscribe("circuitq/#")
    st = user2.on_topic(relay_state("pool_pump"),
                        lambda m: m.json()["reason"]["code"] == "safe:broker_lost", timeout=10).json()
    assert st["level"] == "on" and st["commanded"] is None
    assert user2.on_topic(dred_state(), lambda m: m.json()["reason"]["code"] == "safe:broker_lost").json()["mode"] == 0
    user2.on_topic("circuitq/relay_agent/status", lambda m: m.text == "online")
    command(probe_factory(own_broker, "scheduler"), "pool_pump", "off", lease_s=60)  # obeys again
    wait_until(lambda: not on(cfg)["pool_pump"], 30, what="command after reconnect")
    assert agent.alive()


def test_boot_levels_are_on_the_pins_before_any_broker_connection(config_factory, service_factory):
    overrides = fast(mqtt={"port": free_port()},  # nothing listens there
                     relay_agent={"broker_grace_s": 2.5},
                     relays={"pool_pump": {"boot_state": "off", "safe_state": "on"}},
                     drm_outputs={"aircon": {"boot_mode": 2}})
    cfg = config_factory(overrides)
    agent = service_factory("relay_agent", cfg)
    first = wait_until(lambda: len(on(cfg)) == 5 and on(cfg), 30, step=0.005, what="all pins set up")
    t0 = time.monotonic()
    assert first["pool_pump"] is False and first["water_heater_north"] is True
    assert (first["aircon.drm2"], first["aircon.drm3"]) == (True, False)  # DRM2 from boot
    time.sleep(1.0)
    assert on(cfg) == first and agent.alive()
    # Never connected for broker_grace_s: every output to its safe state.
    wait_until(lambda: on(cfg)["pool_pump"] and not on(cfg)["aircon.drm2"], 30, what="safe states")
    assert time.monotonic() - t0 > 1.0
    assert "connected to" not in agent.log()


def test_stalled_loop_watchdog_goes_safe_and_exits_nonzero(config_factory, user_probe, probe_factory,
                                                          broker, tmp_path):
    """docker restarts only exited processes: a hung agent must put outputs safe and exit."""
    cfg = config_factory(fast(relay_agent={"watchdog_s": 1}))
    mark = user_probe.mark()
    with open(tmp_path / "stall.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tests.relay_agent.stall_agent", "--config", str(cfg)],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        user_probe.on_topic(dred_state(), since=mark)
        sched = probe_factory(broker, "scheduler")
        command(sched, "pool_pump", "off", lease_s=60)
        drm_command(sched, 3, lease_s=60)
        wait_until(lambda: not on(cfg)["pool_pump"] and on(cfg)["aircon.drm3"], 30, what="commands applied")
        mark = user_probe.mark()
        t0 = time.monotonic()
        command(sched, "water_heater_north", "off", id="hang")  # the loop hangs holding its lock
        assert proc.wait(10) == 70
        assert time.monotonic() - t0 < 6  # watchdog_s 1 + at most 2 s waiting for the lock
        p = on(cfg)
        assert p["pool_pump"] and not p["aircon.drm3"] and p["water_heater_north"]
        st = user_probe.on_topic(relay_state("pool_pump"), lambda m: m.json()["level"] == "on", since=mark).json()
        assert st["reason"]["code"] == "safe:watchdog"
        user_probe.on_topic("circuitq/relay_agent/status", lambda m: m.text == "offline", since=mark)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "main loop stalled" in (tmp_path / "stall.log").read_text()
