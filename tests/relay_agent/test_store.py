"""state_dir/relay_agent.json is read before any pin is set up: whatever is in it (an older
version, a hand edit, another tool), the agent must start, apply its boot levels and enforce
leases. A file that crashed the constructor would leave the pins at their last levels with
no lease enforcement at all, restart after restart."""
from __future__ import annotations

import json

import pytest

from circuitq.clock import FakeClock
from circuitq.config import load_config
from services.relay_agent import store
from services.relay_agent.core import Now
from services.relay_agent.fleet import Fleet
from tests.conftest import EXAMPLE

CFG = load_config(EXAMPLE, env={})
GOOD = {"value": "off", "switch_count": 7, "since": "2026-06-01T11:00:00+00:00",
        "events": ["2026-06-01T11:30:00+00:00"], "operations": {"relay": 7}}
BAD_ENTRIES = {
    "naive since": {**GOOD, "since": "2026-06-01T11:00:00"},
    "naive since, same level": {**GOOD, "value": "on", "since": "2026-06-01T11:00:00"},
    "naive event": {**GOOD, "events": ["2026-06-01T11:30:00"]},
    "list value": {**GOOD, "value": ["off"]},
    "dict value": {**GOOD, "value": {"on": 1}},
    "events not a list": {**GOOD, "events": "2026-06-01T11:30:00+00:00"},
    "events null": {**GOOD, "events": None},
    "negative count": {**GOOD, "switch_count": -3},
    "entry not an object": [1, 2],
}


def load_fleet(tmp_path, data):
    path = tmp_path / "relay_agent.json"
    path.write_text(json.dumps(data))
    clock = FakeClock()
    return Fleet(CFG, Now(clock.monotonic(), clock.now()), store.load(path))


@pytest.mark.parametrize("what", sorted(BAD_ENTRIES))
def test_a_bad_entry_is_ignored_and_the_others_are_kept(tmp_path, what):
    fleet = load_fleet(tmp_path, {"version": 1, "outputs": {"relay": {
        "pool_pump": BAD_ENTRIES[what], "water_heater_north": GOOD}}})
    assert fleet.cores["relay"]["water_heater_north"].switch_count == 8  # 7 + booting on from off
    pump = fleet.cores["relay"]["pool_pump"]
    assert pump.switch_count >= 0 and pump.value == CFG.relays["pool_pump"].boot_state


@pytest.mark.parametrize("outputs", [[1], "x", {"relay": [1]}, {"relay": "x"}, {"drm": {"aircon": {"value": True}}}])
def test_badly_shaped_file_starts_fresh_instead_of_crashing(tmp_path, outputs):
    fleet = load_fleet(tmp_path, {"version": 1, "outputs": outputs})
    assert fleet.values()["relay"] == {n: rc.boot_state for n, rc in CFG.relays.items()}


def test_ntp_step_between_save_and_restart_does_not_forget_the_last_hour(tmp_path):
    """A Pi without an RTC starts with a stale clock and NTP steps it hours forward. Restarted
    within the same boot, the agent must still see its starts of the last real hour: the
    monotonic clock (system-wide, same boot) is the truth; wall time only across a reboot."""
    from datetime import timedelta

    from circuitq.config.relays import RelayConfig
    from services.relay_agent.core import OutputCore
    from services.relay_agent.fleet import relay_limits

    clock = FakeClock()
    rc = RelayConfig(pin=5, min_on_s=0, min_off_s=300, max_starts_per_hour=1, boot_state="off")
    limits = relay_limits(rc)
    r = OutputCore("pump", limits, "on", "off", Now(clock.monotonic(), clock.now()))
    clock.advance(300)  # min_off from boot
    t0 = clock.monotonic()
    assert r.command(Now(t0, clock.now()), "on", 60, "a").new == "on"
    clock.advance(30)
    assert r.command(Now(clock.monotonic(), clock.now()), "off", 60, "b").new == "off"
    saved = Now(clock.monotonic(), clock.now() + timedelta(hours=3))  # NTP stepped before the save
    path = tmp_path / "relay_agent.json"
    store.save(path, {"relay": {"pump": r.wear(saved)}}, saved, "boot-A")

    later = Now(saved.mono + 10, saved.wall + timedelta(hours=2, seconds=10))  # and again, +2 h
    wear = store.load(path, later, "boot-A")["relay"]["pump"]
    r2 = OutputCore("pump", limits, "on", "off", later, wear)
    assert r2.command(later, "on", 60, "c") is None
    assert r2.pending.code == "hold:max_starts"
    assert r2.pending.eligible_at == pytest.approx(t0 + 3600)
    assert r2.since == pytest.approx(t0 + 30)  # min_off counts from the real switch, 40 s ago

    # Another boot: the monotonic clock restarted, so wall time is all there is.
    other = store.load(path, later, "boot-B")["relay"]["pump"]
    # By wall time the last start is over an hour old: the restart rule may go back to the
    # safe state ("on") at once.
    rebooted = OutputCore("pump", limits, "on", "off", later, other)
    assert (rebooted.value, rebooted.cause) == ("on", "safe:restart")
