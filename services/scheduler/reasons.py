"""Every reason the rule engine gives, in one catalogue: the code a tool reads and the sentence
a person reads, made from the numbers of the rule that decided.

A rule says why as a tuple, `(key, *args)`: the catalogue key and the numbers, names and times
it used, in the order its sentence takes them. `text(why, now, tz)` makes the sentence; the
core makes it only when the why changes, and republishes a load's retained state whenever its
why changes, numbers included. So a text never quotes a figure the decision did not use, two
loads quoting the solar average quote the same figure, and none quotes one from an hour ago.
A rule does not quote a measurement that moves every reading unless the decision hangs on it
(the solar average against a gate, circuits against a limit): `power_w` carries the watts.

Measured watts are shown rounded down (1499.7 W under a 1500 W gate reads 1499 W, never
1500 W); times are local clock times with the zone where the time alone is ambiguous
(circuitq.timefmt). The planner's verdicts (planner/verdicts.py) arrive as finished sentences
and pass through as they are; PLANNER_CODES lists their codes.
"""
from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Callable

from circuitq.timefmt import clock_text


@dataclass(frozen=True, slots=True)
class Spec:
    key: str
    code: str  # as published; <calendar>, <load>, <mode>, <N>: filled in by the rule
    means: str  # when the rule engine gives it
    fmt: Callable[..., str]  # (say, *args) -> the sentence


REASONS: dict[str, Spec] = {}

def _planner_codes() -> dict[str, str]:
    """The planner's codes and meanings as its verdicts module lists them (its docstring)."""
    verdicts = importlib.import_module(f"{__package__}.planner.verdicts")  # the package re-exports
    codes: dict[str, str] = {}
    last = None
    for line in (verdicts.__doc__ or "").splitlines():
        m = re.match(r"\s+((?:needed|planned):[a-z_]+)\s+(.*)", line)
        if m:
            last = m.group(1)
            codes[last] = m.group(2)
        elif last and line.startswith("    ") and line.strip():
            codes[last] += " " + line.strip()
        else:
            last = None
    return codes


PLANNER_CODES = _planner_codes()  # the planner's own: sentences it makes itself


def reason(key: str, code: str, means: str):
    def add(fmt):
        REASONS[key] = Spec(key, code, means, fmt)
        return fmt
    return add


def w(x: float) -> str:
    """A measured power, rounded down: a figure under a limit never reads as the limit."""
    return f"{math.floor(x)} W"


def lim(x: float) -> str:
    """A configured power (threshold, limit) as configured."""
    return f"{x:.0f} W" if x == int(x) else f"{x:.1f} W"


class Say:
    """What a sentence needs besides its numbers: `now` and the site's zone."""
    __slots__ = ("now", "tz")

    def __init__(self, now: datetime, tz: tzinfo):
        self.now, self.tz = now, tz

    def __call__(self, when: datetime | None) -> str:
        return clock_text(when, self.now, self.tz)

    def text(self, why) -> str:
        return why if type(why) is str else REASONS[why[0]].fmt(self, *why[1:])


def text(why, now: datetime, tz: tzinfo) -> str:
    if type(why) is str:  # a planner verdict's own sentence
        return why
    return REASONS[why[0]].fmt(Say(now, tz), *why[1:])


# ------------------------------------------------------------------ overrides and stale data

@reason("override", "override:<mode>", "a user's ON or OFF (until it ends, or further notice)")
def _(say, mode, until):
    return f"{mode.upper()} by a user until {say(until)}"


def _since(say, since) -> str:
    return f"since {say(since)}" if since is not None else "since start-up"


@reason("fallback:off", "fallback:off", "no fresh Curb data; the load's `stale: off`")
def _(say, since):
    return f"no fresh Curb data {_since(say, since)}: off until it returns"


@reason("fallback:on", "fallback:on", "no fresh Curb data; the load's `stale: on`")
def _(say, since):
    return f"no fresh Curb data {_since(say, since)}: on until it returns"


@reason("fallback:hold", "fallback:hold", "no fresh Curb data; the load's `stale: hold` keeps it as it was")
def _(say, since, on):
    return f"no fresh Curb data {_since(say, since)}: kept {'on' if on else 'off'} as it was until it returns"


@reason("fallback:off/solar", "fallback:off", "no fresh solar data inside its solar window; `stale: off`")
def _(say, since):
    return f"no fresh solar data {_since(say, since)}: off until it returns"


@reason("fallback:windows", "fallback:windows", "no fresh Curb data: permitted by its time windows alone")
def _(say, since):
    return f"no fresh Curb data {_since(say, since)}: time windows only, one load at a time"


# ------------------------------------------------------------------ forced

@reason("forced:guarantee", "forced:guarantee", "off max_off_h: permitted, top of the queue, for guarantee_min")
def _(say, max_off_h, last_on, until):
    return f"off since {say(last_on)}, its {max_off_h:g} h limit: permitted until {say(until)}"


@reason("forced:window", "forced:<calendar>", "inside one of its `force` calendars")
def _(say, name, until):
    return f"forced on in '{name}' hours" + (f" until {say(until)}" if until else "")


@reason("forced:runtime", "forced:runtime", "its daily runtime no longer fits in what is left of its window")
def _(say, need_h, end, target_h, free_h, margin_min):
    return (f"needs {need_h:.1f} h more before {say(end)} (target {target_h:g} h a day); "
            f"{free_h:.1f} h left outside its blocks, {margin_min:g} min kept as margin")


# ------------------------------------------------------------------ blocked

@reason("blocked:outside", "blocked:outside", "outside every one of its `only` calendars")
def _(say, names, until):
    return f"outside its hours ({', '.join(names)}) until {say(until)}"


@reason("blocked:window", "blocked:<calendar>", "inside one of its `block` calendars")
def _(say, name, until):
    return f"'{name}' hours" + (f" until {say(until)}" if until else "")


@reason("blocked:solar", "blocked:solar", "inside its solar window, the rolling production average is short")
def _(say, avg, minutes, opens_w, hysteresis_w, window_end):
    # one sentence whether the gate just closed or never opened: both figures of the rule
    return (f"solar {w(avg)} ({minutes:g}-min average); it starts from {lim(opens_w)} and runs on down to "
            f"{lim(opens_w - hysteresis_w)}; solar window ends {say(window_end)}")


@reason("blocked:load", "blocked:<load>", "a load it must not run beside is running (debounced)")
def _(say, load, thermostat, off_w, under_since, stop_at):
    if stop_at is not None:
        return (f"{load} running; under its {lim(off_w)} since {say(under_since)}, "
                f"counted as stopped if that holds until {say(stop_at)}")
    return f"{load} running" + (" (its thermostat says so)" if thermostat else f" (at or over {lim(off_w)})")


@reason("blocked:circuits", "blocked:circuits", "circuits it must not run beside draw over a limit (debounced)")
def _(say, circuits, total, above_w, hysteresis_w, under_since, release_at):
    head = f"{' + '.join(circuits)} at {w(total)}"
    if release_at is not None:
        return (f"{head}, under {lim(above_w - hysteresis_w)} since {say(under_since)}; counted as clear "
                f"if that holds until {say(release_at)}")
    if total >= above_w:
        return f"{head}, limit {lim(above_w)}"
    return (f"{head}, limit {lim(above_w)}: blocked until under {lim(above_w - hysteresis_w)} "
            f"({lim(hysteresis_w)} hysteresis)")


# ------------------------------------------------------------------ the queue

@reason("waiting:min_off", "waiting:min_off", "would start, but its minimum off time is not served")
def _(say, off_since, min_off_s, until, then):
    return (f"off since {say(off_since)}, minimum off time {min_off_s:g} s until {say(until)}, "
            f"then: {say.text(then)}")


@reason("waiting:start_budget", "waiting:start_budget", "would start, but its relay's starts an hour are spent")
def _(say, n, until, then):
    return (f"{n} starts in the last hour (relay wear budget) until {say(until)}, "
            f"then: {say.text(then)}")


@reason("waiting:start_gap", "waiting:start_gap", "would start, but another load started less than settle_s ago")
def _(say, last_start, settle_s, until, then):
    return (f"another load started at {say(last_start)}; next start at {say(until)} "
            f"(settle {settle_s:g} s), then: {say.text(then)}")


@reason("holding:min_on", "holding:min_on", "kept on until it has run its minimum time")
def _(say, since, min_on_s, until, then):
    return (f"on since {say(since)}, minimum run time {min_on_s:g} s until {say(until)}, "
            f"then: {say.text(then)}")


@reason("permitted", "permitted", "a place in the queue (and the watt budget) is free for it")
def _(say, priority, place, places):
    return f"permitted (priority {priority}, place {place} of {places})"


@reason("permitted:idle", "permitted:idle", "permitted but not running for settle_s: its place goes on")
def _(say, quiet_since, settle_s):
    return (f"permitted; not running since {say(quiet_since)} (over {settle_s:g} s), "
            "so its place in the queue is free")


def _behind(say, names) -> str:
    return ", ".join(f"{n} (~{x:.0f} W)" if x else n for n, x in names)


@reason("queued", "queued", "every place is taken by loads before it")
def _(say, names, places):
    return f"queued behind {_behind(say, names)}; {places} at a time"


@reason("queued/budget", "queued", "the watt budget has no room for it")
def _(say, budget_w, keep_w, in_use_w, need_w):
    keep = f" (+{lim(keep_w)}: it was on)" if keep_w else ""
    return f"watt budget {lim(budget_w)}{keep}: {w(in_use_w)} in use, it needs {w(need_w)}"


@reason("queued/stale", "queued", "no fresh Curb data: one load at a time, taking turns")
def _(say, since, rotate_min, why):
    return (f"no fresh Curb data {_since(say, since)}: time windows only, one load at a time, "
            f"taking turns every {rotate_min:g} min; {say.text(why)}")


@reason("queued/forced", "queued", "forced, but queued at its forced_priority behind loads before it")
def _(say, forced, forced_priority, why):
    return f"{say.text(forced)}, but {say.text(why)} (forced priority {forced_priority})"


# ------------------------------------------------------------------ observed loads

@reason("observed:running", "observed:running", "an observed load drawing at least its running threshold")
def _(say, off_w, under_since, stop_at):
    if stop_at is not None:
        return (f"observed only: running; under its {lim(off_w)} since {say(under_since)}, "
                f"counted as stopped if that holds until {say(stop_at)}")
    return f"observed only: running (at or over {lim(off_w)})"


@reason("observed:idle", "observed:idle", "an observed load under its running threshold, or not measured")
def _(say, on_w, over_since, start_at, measured):
    if not measured:
        return "observed only: not counted as running: no fresh reading of its circuit"
    if start_at is not None:
        return (f"observed only: idle; at or over its {lim(on_w)} since {say(over_since)}, "
                f"counted as running if that holds until {say(start_at)}")
    return f"observed only: idle (under its {lim(on_w)} running threshold)"


# ------------------------------------------------------------------ DRM outputs

@reason("drm:override", "override", "a user's DRM mode")
def _(say, mode, until):
    return f"set to DRM{mode} by a user until {say(until)}"


@reason("drm:stale", "fallback:stale", "no fresh or an invalid production reading: the stale mode")
def _(say, invalid, mode):
    return f"{'invalid production reading' if invalid else 'no fresh production data'}: DRM{mode}"


@reason("drm:step", "solar:drm<N>", "production under a step's threshold")
def _(say, prod, mode, below_w):
    return f"production {w(prod)}, under {lim(below_w)}: DRM{mode}"


@reason("drm:step_held", "solar:drm<N>", "production over a step's threshold, but not by its hysteresis yet")
def _(say, prod, mode, below_w, hysteresis_w):
    return (f"production {w(prod)}: DRM{mode} until production reaches {lim(below_w + hysteresis_w)} "
            f"({lim(below_w)} + {lim(hysteresis_w)} hysteresis)")


@reason("drm:normal", "solar:drm0", "production at or over every step's threshold")
def _(say, prod, below_w):
    return f"production {w(prod)}, at or over {lim(below_w)}: normal operation"


@reason("drm:queue", "queue:<load code>", "its `kind: drm` load is not permitted: blocked_drm_mode")
def _(say, mode, load, why):
    return f"DRM{mode}: {load} {say.text(why)}"


@reason("drm:holding", "holding:min_dwell | holding:max_changes", "a mode change the output would hold: "
        "the wish stays the applied mode until it may change")
def _(say, current, at, hold, want, why):
    return f"stays DRM{current} until {say(at)} ({say.text(hold)}), then DRM{want}: {say.text(why)}"


@reason("drm:dwell", "(inside drm:holding)", "the output's min_dwell_s since its last change")
def _(say, changed_at, dwell_s):
    return f"it changed mode at {say(changed_at)} and stays in a mode at least {dwell_s:g} s"


@reason("drm:step_dwell", "(inside drm:holding)", "the policy's min_dwell_s between solar steps")
def _(say, changed_at, dwell_s):
    return f"a solar step holds at least {dwell_s:g} s; the last began {say(changed_at)}"


@reason("drm:changes", "(inside drm:holding)", "the output's max_changes_per_hour")
def _(say, n):
    return f"{n} mode changes in the last hour (relay wear budget)"
