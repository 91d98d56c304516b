"""Is a Curb snapshot new, not new yet, or stale? (pure: takes `now`)

- `fresh`: its own timestamp moved forward and is at most max_lag_s old;
- `unchanged`: same timestamp as the last one published and still within max_lag_s
  (Curb averages over a minute; polling twice in one minute sees the same one);
- `stale`: older than max_lag_s, whether or not it moved (a frozen value is not fresh).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Verdict = Literal["fresh", "unchanged", "stale"]


@dataclass(frozen=True)
class Freshness:
    verdict: Verdict
    age_s: float  # now - the reading's own timestamp; never negative (hub clock ahead)


def classify(ts: datetime, now: datetime, last_ts: datetime | None, max_lag_s: float) -> Freshness:
    age = max(0.0, (now - ts).total_seconds())
    if age > max_lag_s:
        return Freshness("stale", age)
    if last_ts is not None and ts <= last_ts:
        return Freshness("unchanged", age)
    return Freshness("fresh", age)


@dataclass(frozen=True)
class RepollDecision:
    repoll: bool  # poll again after repoll_s instead of publishing yet
    publish_stale: bool


def after_stale(repolls_done: int, repoll_max: int, declared: bool) -> RepollDecision:
    """CircuitQueueing re-polled every 5 s, up to 9 times, before giving up on a stale reading.

    Once a stale episode has been declared (budget spent), later polls publish it at once
    rather than spending the budget again every poll_s (no burst of requests each minute).
    """
    if not declared and repolls_done < repoll_max:
        return RepollDecision(True, False)
    return RepollDecision(False, True)


def live_due(now_s: float, last_pub_s: float | None, last: dict[str, float], new: dict[str, float],
             every_s: float, delta_w: float) -> bool:
    """Publish a live reading every `every_s`, or at once when a mapped circuit moved by
    `delta_w` or more (a dryer starting should not wait for the next tick)."""
    if last_pub_s is None or now_s - last_pub_s >= every_s or set(new) != set(last):
        return True
    return any(abs(new[k] - last[k]) >= delta_w for k in new)
