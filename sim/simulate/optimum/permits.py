"""From the MILP's slots to the per-minute permits the runner plays.

A tank is permitted only for the minutes its plan heats in a slot (from the slot's start),
not the whole slot: the real tank heats at full power whenever it is permitted and below its
thermostat, so a whole-slot permit would take more heat, earlier, than planned. Permitted
minutes never take more heat than the plan's slot (the tank's content stays at or above the
MILP's, which is what keeps the draws hot), and a tank that needs less simply draws less.
Short gaps and runs are then widened to the relay's minimum off/on times (more permit, never
less, so the same holds).
"""
from __future__ import annotations

import numpy as np


def expand(minutes: np.ndarray, lengths: np.ndarray, right: np.ndarray | None = None) -> np.ndarray:
    """Per-minute permits: the first minutes[k] minutes of each slot k (the last ones where
    right[k])."""
    offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if right is not None:
        offset = np.where(np.repeat(right, lengths), np.repeat(lengths, lengths) - 1 - offset, offset)
    return offset < np.repeat(minutes, lengths)


def place(minutes: dict[str, np.ndarray], right: dict[str, np.ndarray], lengths: np.ndarray,
          room: np.ndarray) -> dict[str, np.ndarray]:
    """Per-minute permits of the tanks' partial slots, placed where the big-load cap has room.

    minutes[load][k]: minutes to permit in slot k; right[load][k]: prefer the slot's end (the
    next slot's run follows), else its start. room: places left under max_running in each
    minute (observed loads and the pool already counted). The MILP keeps the slot's total
    duty under the cap, so the minutes fit whenever it did not pay to break it."""
    room = room.astype(float).copy()
    ends = np.cumsum(lengths)
    out = {name: np.zeros(int(ends[-1]), dtype=bool) for name in minutes}
    for k, (a, b) in enumerate(zip(ends - lengths, ends)):
        for name, mins in minutes.items():
            m = int(mins[k])
            if m == 0:
                continue
            s = _block(room[a:b] > 0, m, bool(right[name][k]))
            out[name][a + s:a + s + m] = True
            room[a + s:a + s + m] -= 1
    return out


def _block(free: np.ndarray, m: int, from_end: bool) -> int:
    """Offset of m consecutive minutes in a slot: the one nearest the preferred edge that is
    free all through, else the one with the most free minutes (one block: one relay start)."""
    n = len(free)
    if m >= n:
        return 0
    sums = np.convolve(free.astype(int), np.ones(m, int), mode="valid")  # free minutes per offset
    order = np.arange(n - m + 1)[::-1] if from_end else np.arange(n - m + 1)
    return int(order[np.argmax(sums[order])])


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the runs of True."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def hold_min_times(permit: np.ndarray, min_on_s: float, min_off_s: float) -> np.ndarray:
    """Close every off gap shorter than min_off (between two runs), then lengthen every run
    shorter than min_on: the relay agent would hold the relay that long anyway."""
    out = permit.copy()
    off_min = int(np.ceil(min_off_s / 60))
    on_min = int(np.ceil(min_on_s / 60))
    starts, ends = runs(out)
    for a, b in zip(ends[:-1], starts[1:]):
        if b - a < off_min:
            out[a:b] = True
    starts, ends = runs(out)
    for a, b in zip(starts, ends):
        if b - a < on_min:
            out[a:min(len(out), a + on_min)] = True
    return out


def hold_max_off(permit: np.ndarray, max_off_h: float, min_on_s: float, on_before: bool) -> np.ndarray:
    """Permit min_on minutes (at least one) wherever the relay would otherwise stay off longer
    than max_off_h: the guarantee the MILP keeps with a slot it plans to heat nothing in."""
    out = permit.copy()
    limit = int(max_off_h * 60)
    burst = max(1, int(np.ceil(min_on_s / 60)))
    last_on = 0 if on_before else -1  # minute after the last permitted minute
    k = 0
    n = len(out)
    while k < n:
        if out[k]:
            last_on = k + 1
        elif k - last_on + 1 > limit:  # minute k would make the stretch too long
            out[k:min(n, k + burst)] = True
            last_on = min(n, k + burst)
            k = last_on
            continue
        k += 1
    return out
