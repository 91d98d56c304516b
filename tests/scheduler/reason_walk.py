"""Walking the reason catalogue (services/scheduler/reasons.py): each scenario drives the real
core into one reason and checks its text against the numbers in the state that produced it."""
from __future__ import annotations

import math
import re

from circuitq.timefmt import clock_text
from services.scheduler.reasons import REASONS, text

def walks(*keys):
    """Mark a scenario as the walk of these catalogue keys (a test checks that every key of the
    catalogue is walked by some scenario)."""
    def mark(fn):
        fn.walks = keys
        return fn
    return mark


def clock(sim, when) -> str:
    """A time as the texts say it: local clock time, the zone where ambiguous."""
    return clock_text(when, sim.now, sim.st.policy.tz)


def watts(x: float) -> str:
    """A measured power as the texts say it (rounded down)."""
    return f"{math.floor(x)} W"


def code_matches(code: str, pattern: str) -> bool:
    alts = [re.escape(p.strip()).replace(r"<mode>", "(on|off)").replace(r"<N>", "[0-3]")
            for p in pattern.split("|")]
    alts = [re.sub(r"<[^>]+>", ".+", a) for a in alts]
    return any(re.fullmatch(a, code) for a in alts)


def said(sim, name: str, key: str, drm: bool = False) -> str:
    """The text of a load's (or DRM output's) reason, after checking that it is `key` with a
    code of the catalogue's pattern, and that the text is the one its why makes now."""
    rt = sim.st.drm[name] if drm else sim.st.loads[name]
    assert rt.why and rt.why[0] == key, (name, rt.code, rt.why)
    assert code_matches(rt.code, REASONS[key].code), (rt.code, REASONS[key].code)
    assert rt.text == text(rt.why, sim.now, sim.st.policy.tz)
    return rt.text
