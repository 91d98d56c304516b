"""What the replay did, in numbers: per load, per DRM output, alerts, speed (docs/replay.md).

Everything is computed from the change logs of ReplayResult: a load's (permitted, running,
reason) holds from one change to the next, the last one until the last sample.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from services.scheduler.calendars import Calendars

from .replay_engine import ReplayResult

H = 3600.0  # seconds per hour


def segments(log: list[tuple], end: datetime):
    """(start, stop, permitted, running, code) for each stretch of a change log."""
    for i, (t, permitted, running, code) in enumerate(log):
        stop = log[i + 1][0] if i + 1 < len(log) else end
        if stop > t:
            yield t, stop, permitted, running, code


def _overlap_s(a: datetime, b: datetime, spans) -> float:
    return sum(max(0.0, (min(b, e) - max(a, s)).total_seconds()) for s, e in spans)


def _days(cals: Calendars, a: datetime, b: datetime):
    """(local date, day start, day end) for each local day touching [a, b)."""
    d = a.astimezone(cals.tz).date()
    while True:
        day0 = datetime.combine(d, datetime.min.time(), tzinfo=cals.tz)
        day1 = datetime.combine(d + timedelta(days=1), datetime.min.time(), tzinfo=cals.tz)
        if day0 >= b:
            return
        yield d, day0, day1
        d += timedelta(days=1)


def load_summary(res: ReplayResult, name: str, cals: Calendars) -> dict:
    cfg = res.cfg.loads[name]
    permitted_s = running_s = 0.0
    starts = permits = 0
    blocked: Counter = Counter()
    longest_off = off_run = 0.0
    was_running, was_permitted = None, None
    for a, b, permitted, running, code in segments(res.loads[name], res.end):
        dt = (b - a).total_seconds()
        if permitted:
            permitted_s += dt
            off_run = 0.0
            permits += was_permitted is False
        else:  # None: the first seconds before the first decision count as off (as the core does)
            blocked[code or "start-up"] += dt
            off_run += dt
            longest_off = max(longest_off, off_run)
        if running:
            running_s += dt
            starts += was_running is False
        was_running, was_permitted = running, bool(permitted)
    out = {
        "kind": cfg.kind, "priority": cfg.priority,
        "hours_permitted": round(permitted_s / H, 3), "hours_running": round(running_s / H, 3),
        "starts": starts, "permits": permits,
        "longest_off_h": round(longest_off / H, 3), "max_off_h": cfg.max_off_h,
        "max_off_ok": None if cfg.max_off_h is None else longest_off / H <= cfg.max_off_h + 1 / 60,
        "blocked_h": {c: round(s / H, 3) for c, s in blocked.most_common()},
        "runtime": _runtime(res, name, cals) if cfg.runtime else None,
    }
    return out


def _runtime(res: ReplayResult, name: str, cals: Calendars) -> dict:
    """Hours running per local day against `runtime.hours`, and why a day fell short."""
    rt = res.cfg.loads[name].runtime
    days = []
    segs = list(segments(res.loads[name], res.end))
    for d, day0, day1 in _days(cals, res.start, res.end):
        window = [(max(s, day0), min(e, day1)) for s, e in cals.spans(rt.window, d) if s < day1 and e > day0]
        window_s = sum((e - s).total_seconds() for s, e in window)
        covered_s = _overlap_s(res.start, res.end, window)
        ran_s, why, idle_s = 0.0, Counter(), 0.0
        for a, b, permitted, running, code in segs:
            if b <= day0 or a >= day1:
                continue
            if running:
                ran_s += (min(b, day1) - max(a, day0)).total_seconds()
            inside = _overlap_s(a, b, window)
            if inside and not permitted:
                why[code or "start-up"] += inside
            elif inside and not running:
                idle_s += inside
        hours = ran_s / H
        entry = {"date": d.isoformat(), "hours": round(hours, 3), "target_h": rt.hours}
        if covered_s + 60 < window_s:
            entry["met"] = None if hours < rt.hours else True
            entry["why"] = f"partial day: the data covers {covered_s / H:.1f} h of its {rt.window} window"
        elif hours + 1 / 60 >= rt.hours:  # within a minute: decisions fall on minute readings
            entry["met"], entry["why"] = True, ""
        else:
            parts = [f"{c} {s / H:.1f} h" for c, s in why.most_common(3)]
            if idle_s >= 60:
                parts.append(f"permitted but drawing nothing {idle_s / H:.1f} h (the recorded circuit was idle)")
            entry["met"] = False
            entry["why"] = f"in its {rt.window} window: " + (", ".join(parts) or "nothing recorded")
        days.append(entry)
    return {"target_h": rt.hours, "window": rt.window, "days": days}


def summarize(res: ReplayResult, config_path: str = "", data_path: str = "") -> dict:
    cals = Calendars(res.cfg.scheduler.calendars, res.cfg.site.tz, res.cfg.site.country,
                     res.cfg.site.subdivision)
    ok = res.start is not None
    controllable = [n for n, c in res.cfg.loads.items() if c.kind != "observed"]
    observed = [n for n, c in res.cfg.loads.items() if c.kind == "observed"]
    out = {
        "config": str(config_path), "data": str(data_path),
        "mode": "as-recorded" if res.as_recorded else "what-if",
        "from": res.start.isoformat() if ok else None, "to": res.end.isoformat() if ok else None,
        "hours": round((res.end - res.start).total_seconds() / H, 3) if ok else 0.0,
        "rows": res.rows, "skipped_rows": res.skipped, "errors": res.errors, "warnings": res.warnings,
        "loads": {n: load_summary(res, n, cals) for n in controllable} if ok else {},
        "observed": {}, "drm": {},
        "alerts": {"count": len(res.alerts), "by_key": dict(Counter(k for _, k, _ in res.alerts))},
        "decisions": res.decisions, "elapsed_s": round(res.elapsed_s, 3),
        "decisions_per_s": round(res.decisions / res.elapsed_s) if res.elapsed_s else None,
        "core_decisions_per_s": round(res.decisions / res.core_s) if res.core_s else None,
    }
    for n in observed if ok else ():
        full = load_summary(res, n, cals)
        out["observed"][n] = {k: full[k] for k in ("hours_running", "starts")}
    for name, log in res.drm.items() if ok else ():
        modes: Counter = Counter()
        for i, (t, mode) in enumerate(log):
            stop = log[i + 1][0] if i + 1 < len(log) else res.end
            modes["start-up" if mode is None else f"DRM{mode}"] += (stop - t).total_seconds()
        out["drm"][name] = {"mode_h": {k: round(s / H, 3) for k, s in sorted(modes.items()) if s > 0},
                            "changes": max(0, len(log) - 2)}
    return out
