"""Helpers shared by the ecobee agent's end-to-end tests."""
from __future__ import annotations

import time

from circuitq import topics

from .conftest import NAME

BASE = "circuitq"
SHED = topics.ECOBEE_SHED.topic(BASE, thermostat=NAME)
STATE = topics.ECOBEE_STATE.topic(BASE, thermostat=NAME)
ACTIVITY = topics.ACTIVITY.topic(BASE)
ERROR = topics.ERROR.topic(BASE)
ALERT = topics.ALERT.topic(BASE)


def wait(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def shed(probe, on=True, lease_s=30, id="s1", reason="dryer running", retain=False):
    probe.publish(SHED, {"shed": on, "reason": reason, "lease_s": lease_s, "id": id}, retain=retain)


def state(user_probe, pred=lambda s: True, timeout=10, since=0) -> dict:
    """The next live state (retained copies may come from an earlier test's agent)."""
    return user_probe.on_topic(STATE, lambda m: not m.retain and pred(m.json()), timeout=timeout, since=since).json()
