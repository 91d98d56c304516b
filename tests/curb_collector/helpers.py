"""Predicates and waits shared by the curb_collector tests."""
from __future__ import annotations

import time

from circuitq import topics

B = "circuitq"
READING = topics.CURB_READING.topic(B)
HEALTH = topics.CURB_HEALTH.topic(B)
STATUS = topics.STATUS.topic(B, service="curb_collector")
ALERT = topics.ALERT.topic(B)


def live(topic, pred=lambda d: True):
    """A message published while we listen (not a retained one left by an earlier test)."""
    return lambda m: m.topic == topic and not m.retain and pred(m.json())


def health(state):
    return live(HEALTH, lambda d: d["state"] == state)


def after(probe, msg) -> int:
    """Index just past `msg`: what comes later was caused by what we saw."""
    with probe.cond:
        return probe.messages.index(msg) + 1


def eventually(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
