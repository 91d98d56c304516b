"""The replay loop: recorded samples through the REAL scheduler core, no broker, no services.

Per sample: first every timer the core asked for (`state.next_wake`) before the sample's
time, as the live service's EventLoop would fire them; then one `decide` with the sample
(`Batch([Solar, Reading])`). The sample's own timestamp is `now` (the live service decides
when the reading arrives, typically a few seconds later).

What-if (default): a controllable load's own circuit shows what the REAL controller let it
draw back then. Replayed as-is, this config would "see" those loads run whenever the old
controller allowed them. So each load draws its recorded power only while THIS config
permits it (0 W otherwise; a `kind: drm` load is scaled by its output's DRM cap). Demand
that this config would have shifted to other hours is not invented: a load permitted when
the recording shows it idle stays idle. `as_recorded=True` feeds the data unchanged.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from circuitq.config import CircuitqConfig
from services.scheduler import model as m
from services.scheduler.core import decide
from services.scheduler.policy import new_state

from .replay_input import RowError, Sample

# Share of its power a DRM-controlled appliance may draw in each mode (AS/NZS 4755:
# DRM1 compressor off, DRM2 at most 50 %, DRM3 at most 75 %, DRM0 normal).
DRM_POWER_CAP = {0: 1.0, 3: 0.75, 2: 0.5, 1: 0.0}
MAX_ERRORS_KEPT = 50  # messages kept for the summary; every skipped row is still counted


@dataclass
class ReplayResult:
    cfg: CircuitqConfig
    as_recorded: bool
    start: datetime | None = None  # first replayed sample
    end: datetime | None = None  # last replayed sample (the replay stops there)
    rows: int = 0  # samples replayed
    skipped: int = 0  # bad or out-of-order rows
    errors: list[str] = field(default_factory=list)  # the first MAX_ERRORS_KEPT messages
    warnings: list[str] = field(default_factory=list)
    # load -> change log [(t, permitted, running, reason code)], one entry per change
    loads: dict[str, list[tuple]] = field(default_factory=dict)
    drm: dict[str, list[tuple]] = field(default_factory=dict)  # output -> [(t, DRM mode)]
    series: list[tuple] = field(default_factory=list)  # (ts, production W | None, circuits total W)
    activity: list[tuple] = field(default_factory=list)  # (t, subject, message)
    alerts: list[tuple] = field(default_factory=list)  # (t, key, title): raised, not resolved
    decisions: int = 0
    elapsed_s: float = 0.0  # the whole replay, reading the file included
    core_s: float = 0.0  # inside decide() only
    circuits_seen: set = field(default_factory=set)
    gaps: list[tuple] = field(default_factory=list)  # (last sample, next sample) > reading_timeout_s apart


def run_replay(cfg: CircuitqConfig, rows: Iterable[Sample | RowError], as_recorded: bool = False,
               start: datetime | None = None, end: datetime | None = None,
               on_error=None) -> ReplayResult:
    """Replay `rows` (from replay_input) between `start` (inclusive) and `end` (exclusive)."""
    res = ReplayResult(cfg, as_recorded)
    st = None
    pol = None
    last_sig: dict[str, tuple] = {}
    last_drm: dict[str, int | None] = {}
    t_start = time.perf_counter()

    def skip(msg: str) -> None:
        res.skipped += 1
        if len(res.errors) < MAX_ERRORS_KEPT:
            res.errors.append(msg)
        if on_error is not None:
            on_error(msg)

    def step(now: datetime, event) -> None:
        nonlocal st
        t0 = time.perf_counter()
        st, cmds = decide(now, st, event)
        res.core_s += time.perf_counter() - t0
        res.decisions += 1
        for c in cmds:
            kind = type(c)
            if kind is m.ActivityLine:
                res.activity.append((now, c.subject, c.message))
            elif kind is m.AlertMsg and not c.resolved:
                res.alerts.append((now, c.key, c.title))
        for name, lt in st.loads.items():
            sig = (lt.permitted, lt.running, lt.code)
            if sig != last_sig[name]:
                last_sig[name] = sig
                res.loads[name].append((now,) + sig)
        for name, d in st.drm.items():
            if d.mode != last_drm[name]:
                last_drm[name] = d.mode
                res.drm[name].append((now, d.mode))

    for item in rows:
        if isinstance(item, RowError):
            skip(str(item))
            continue
        s = item
        if (start is not None and s.ts < start) or (end is not None and s.ts >= end):
            continue
        if res.end is not None and s.ts <= res.end:
            skip(f"line {s.line}: timestamp {s.ts.isoformat()} is not after the previous row's "
                 f"{res.end.isoformat()} (rows must be in time order; duplicates are skipped)")
            continue
        if res.end is not None and s.ts - res.end > pol.reading_timeout:  # the core goes stale here
            res.gaps.append((res.end, s.ts))
        if st is None:
            st = new_state(cfg, s.ts)
            pol = st.policy
            res.start = s.ts
            res.loads = {n: [(s.ts, None, False, "")] for n in st.loads}
            res.drm = {n: [(s.ts, None)] for n in st.drm}
            last_sig = {n: (None, False, "") for n in st.loads}
            last_drm = {n: None for n in st.drm}
        while st.next_wake is not None and st.next_wake < s.ts:  # timers between readings
            step(st.next_wake, m.Tick())
        circuits = s.circuits if as_recorded else what_if(st, s.circuits)
        events = []
        if s.production_w is not None and not pol.solar_from_curb:
            events.append(m.Solar(s.production_w, s.ts, s.stale))
        events.append(m.Reading(circuits, s.ts, s.stale, s.production_w))
        step(s.ts, m.Batch(events))
        res.series.append((s.ts, s.production_w, sum(circuits.values())))
        res.circuits_seen.update(circuits)
        res.rows += 1
        res.end = s.ts
    res.elapsed_s = time.perf_counter() - t_start
    if st is not None:
        _warn_missing(res, st)
    return res


def what_if(st: m.State, circuits: dict[str, float]) -> dict[str, float]:
    """The recorded circuits, with each controllable load's own circuit limited to what this
    config permits (its permission as decided before this sample)."""
    out = None
    pol = st.policy
    for name, lp in pol.loads.items():
        if not lp.controllable or lp.circuit not in circuits:
            continue
        lt = st.loads[name]
        if lp.kind == "drm":
            mode = st.drm[lp.target].mode if lp.target in st.drm else None
            factor = DRM_POWER_CAP.get(mode, 1.0) if mode is not None else 1.0
        else:
            factor = 0.0 if lt.permitted is False else 1.0  # None: before the first decision
        if factor != 1.0:
            if out is None:
                out = dict(circuits)
            out[lp.circuit] = circuits[lp.circuit] * factor
    return circuits if out is None else out


def _warn_missing(res: ReplayResult, st: m.State) -> None:
    pol = st.policy
    for name, lp in pol.loads.items():
        if lp.circuit not in res.circuits_seen:
            res.warnings.append(f"no data for circuit {lp.circuit!r}: load {name} never reads as running")
    known = set(res.cfg.curb.circuits if res.cfg.curb else ()) | {lp.circuit for lp in pol.loads.values()}
    for c in sorted(res.circuits_seen - known):
        res.warnings.append(f"column {c!r} is not a circuit of this config: it only adds to the total")
    if res.gaps:
        longest = max(res.gaps, key=lambda g: g[1] - g[0])
        res.warnings.append(f"{len(res.gaps)} gap(s) in the data longer than reading_timeout_s, replayed as "
                            f"stale Curb data; the longest {(longest[1] - longest[0]).total_seconds() / 3600:.1f} h "
                            f"from {longest[0].astimezone(pol.tz):%Y-%m-%d %H:%M}")
    has_solar = any(p is not None for _, p, _ in res.series)
    if pol.uses_solar and not has_solar:
        res.warnings.append("no production_w in the data: solar gates follow each load's stale "
                            "behaviour and DRM outputs sit in their stale mode")
