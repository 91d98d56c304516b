"""Shared bits of the relay agent's end-to-end tests: fast limits, pin reading, waiting."""
from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from circuitq import topics
from sim.fleet import deep_update

BASE = "circuitq"
RELAYS = ("water_heater_north", "water_heater_south", "pool_pump")
NO_LIMITS = {"min_on_s": 0, "min_off_s": 0, "max_starts_per_hour": 100, "max_lease_s": 60}


def fast(**extra) -> dict:
    """Config overrides: no switching limits, short grace, quick reconnects (deep-merged)."""
    base = {
        "mqtt": {"reconnect_min_s": 0.1, "reconnect_max_s": 0.5, "keepalive_s": 5},
        "relay_agent": {"broker_grace_s": 2, "watchdog_s": 5},
        "relays": {n: dict(NO_LIMITS) for n in RELAYS},
        "drm_outputs": {"aircon": {"min_dwell_s": 0, "max_changes_per_hour": 100, "max_lease_s": 60}},
    }
    return deep_update(base, extra)


def sim_file(cfg_path: Path) -> Path:
    return Path(yaml.safe_load(Path(cfg_path).read_text())["relay_agent"]["sim_state_file"])


def pins(cfg_path: Path) -> dict:
    """{pin name: {"bcm", "level", "active_low", "on"}} from the sim backend's JSON file."""
    return json.loads(sim_file(cfg_path).read_text())["pins"]


def on(cfg_path: Path) -> dict[str, bool]:
    return {n: p["on"] for n, p in pins(cfg_path).items()}


def wait_until(pred, timeout: float = 30.0, step: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except (FileNotFoundError, KeyError, ValueError) as exc:
            last_exc = exc
        time.sleep(step)
    raise TimeoutError(f"{what} not reached in {timeout}s ({last_exc})")


def relay_cmd(name: str) -> str:
    return topics.RELAY_COMMAND.topic(BASE, relay=name)


def relay_state(name: str) -> str:
    return topics.RELAY_STATE.topic(BASE, relay=name)


def dred_cmd(name: str = "aircon") -> str:
    return topics.DRED_COMMAND.topic(BASE, output=name)


def dred_state(name: str = "aircon") -> str:
    return topics.DRED_STATE.topic(BASE, output=name)


def command(probe, name: str, state: str, lease_s: float = 30, id: str = "t") -> None:
    probe.publish(relay_cmd(name), {"state": state, "lease_s": lease_s, "id": id})


def drm_command(probe, mode: int, lease_s: float = 30, id: str = "d", name: str = "aircon") -> None:
    probe.publish(dred_cmd(name), {"mode": mode, "lease_s": lease_s, "id": id})


def start_agent(service_factory, cfg_path, probe, env=None):
    """Start the agent and wait until it has published every state (it is subscribed then).

    Only live messages count: the shared test broker still holds the retained states of an
    earlier test's agent, which a new subscriber receives flagged as retained.
    """
    mark = probe.mark()
    proc = service_factory("relay_agent", cfg_path, env)
    live = lambda m: not m.retain  # noqa: E731
    for n in yaml.safe_load(Path(cfg_path).read_text())["relays"]:
        probe.on_topic(relay_state(n), live, since=mark, timeout=10)
    probe.on_topic(dred_state(), live, since=mark, timeout=10)
    return proc
