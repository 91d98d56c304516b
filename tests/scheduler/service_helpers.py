"""Config overrides and topic names for the scheduler's tests against the real broker."""
from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from circuitq import topics
from sim.fleet import deep_update

BASE = "circuitq"
NO_LIMITS = {"min_on_s": 0, "min_off_s": 0, "max_starts_per_hour": 100, "max_lease_s": 60}
ALWAYS = [{"start": "00:00", "end": "00:00"}]


def fast_house(**extra) -> dict:
    """The example house with test-friendly durations; the north water heater's policy is
    'off all day' (calendar `always`), so an ON override is visible against it."""
    over = {
        "mqtt": {"reconnect_min_s": 0.1, "reconnect_max_s": 0.5, "keepalive_s": 5},
        "relay_agent": {"broker_grace_s": 5, "watchdog_s": 5},
        "relays": {n: dict(NO_LIMITS) for n in ("water_heater_north", "water_heater_south", "pool_pump")},
        "drm_outputs": {"aircon": {"min_dwell_s": 0, "max_changes_per_hour": 100, "max_lease_s": 60}},
        # fresh_again_s 0: another test's old retained reading must not hold back fresh data
        "scheduler": {"startup_grace_s": 0.3, "lease_s": 30, "settle_s": 1, "data": {"fresh_again_s": 0},
                      "calendars": {"always": ALWAYS}},
        "loads": {"water_heater_north": {"block": ["always"], "force": [], "min_on_s": 0, "min_off_s": 0}},
    }
    return deep_update(over, extra)


def load_state(name: str) -> str:
    return topics.LOAD_STATE.topic(BASE, load=name)


def load_set(name: str) -> str:
    return topics.LOAD_SET.topic(BASE, load=name)


def relay_state(name: str) -> str:
    return topics.RELAY_STATE.topic(BASE, relay=name)


def pins_on(cfg_path: Path) -> dict[str, bool]:
    """{pin name: on?} from the relay agent's sim backend file."""
    f = Path(yaml.safe_load(Path(cfg_path).read_text())["relay_agent"]["sim_state_file"])
    return {n: p["on"] for n, p in json.loads(f.read_text())["pins"].items()}


def wait_until(pred, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except (FileNotFoundError, KeyError, ValueError):
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{what} not reached in {timeout}s")
