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
