"""Rule 10: DRM modes for an AS/NZS 4755 output from solar production (dreadpi, improved).

Steps are thresholds in watts, most restrictive first: below 400 W -> DRM2, below 700 W ->
DRM3, else 0. Rising to a less restrictive step needs threshold + hysteresis; any change
waits min_dwell_s after the last one. Stale, missing or invalid production -> stale_mode
(DRM0, as dreadpi) at once. A `kind: drm` load that is not permitted by the queue adds its
blocked_drm_mode; the more restrictive of the two wins.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from . import model as m

# DRM1 stops the compressor, DRM2 caps it at 50 %, DRM3 at 75 %, 0 is normal.
RESTRICTIVENESS = {0: 0, 3: 1, 2: 2, 1: 3}


def step_index(steps, w: float, current: int | None, hyst: float) -> int:
    """Index into steps (len(steps) = normal). Falling is immediate, rising needs +hyst."""
    plain = sum(1 for s in steps if w >= s.below_w)
    if current is None or plain <= current:
        return plain
    return max(current, sum(1 for s in steps if w >= s.below_w + hyst))


def evaluate(st: m.State, now: datetime, out: list, wake: list, commanding: bool) -> None:
    pol = st.policy
    cals = pol.calendars
    for name, dp in pol.sched.drm.items():
        d = st.drm[name]
        if d.until is not None and now >= d.until:
            out.append(m.ActivityLine(f"drm {name}", f"override DRM{d.override} ended; automatic again"))
            d.override, d.until = None, None
            st.dirty = True
        w = st.solar_w
        fresh = st.solar.fresh and not st.solar_invalid and w is not None
        if d.override is not None:
            mode, code = d.override, "override"
            text = f"set to DRM{d.override} by a user until {cals.hhmm(d.until, now)}"
            nxt = d.until
        elif not fresh:
            mode, code, nxt = dp.stale_mode, "fallback:stale", None
            text = ("invalid production reading" if st.solar_invalid else "no fresh production data") + \
                f": DRM{dp.stale_mode}"
            d.level = None
        else:
            lvl = step_index(dp.steps, w, d.level, dp.hysteresis_w)
            nxt = None
            if d.level is not None and lvl != d.level and d.since is not None \
                    and now < d.since + timedelta(seconds=dp.min_dwell_s):
                nxt = d.since + timedelta(seconds=dp.min_dwell_s)
                wake.append(nxt)
                lvl = d.level
            d.level = lvl
            mode = dp.steps[lvl].mode if lvl < len(dp.steps) else 0
            code = f"solar:drm{mode}"
            text = (f"production {w:.0f} W below {dp.steps[lvl].below_w:.0f} W" if lvl < len(dp.steps)
                    else f"production {w:.0f} W: normal operation")
            if nxt is not None:
                text += f" (held until {cals.hhmm(nxt, now)}: minimum dwell)"
        lname = pol.drm_loads.get(name)
        if lname is not None and d.override is None and st.loads[lname].permitted is False:
            blocked = pol.loads[lname].cfg.blocked_drm_mode
            if RESTRICTIVENESS[blocked] > RESTRICTIVENESS[mode]:
                mode, code, text = blocked, "queue:" + st.loads[lname].code, \
                    f"DRM{blocked}: {lname} {st.loads[lname].text}"
        if mode != d.mode:
            if d.mode is not None:
                out.append(m.ActivityLine(f"drm {name}", f"DRM{d.mode} -> DRM{mode}: {text}"))
            d.mode, d.since = mode, now
        d.code, d.text, d.next_change = code, text, nxt
        if commanding:
            lease, renew = pol.drm_lease[name], pol.drm_renew[name]
            if d.cmd_mode != mode or d.cmd_at is None or now >= d.cmd_at + renew:
                out.append(m.DrmCmd(name, mode, lease))
                d.cmd_mode, d.cmd_at = mode, now
            wake.append(d.cmd_at + renew)
        if d.until is not None:
            wake.append(d.until)
        sig = (d.mode, code, d.override, d.until, nxt, None if w is None else round(w / 50))
        if sig != d.published:
            d.published = sig
            out.append(m.PublishDrm(name, {
                "mode": "override" if d.override is not None else "auto", "drm_mode": mode,
                "reason": {"code": code, "text": text}, "production_w": w, "until": d.until,
                "next_change": nxt, "since": d.since}))
