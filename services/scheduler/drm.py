"""Rule 10: DRM modes for an AS/NZS 4755 output from solar production (dreadpi, improved).

Steps are thresholds in watts, most restrictive first: below 400 W -> DRM2, below 700 W ->
DRM3, else 0. Rising to a less restrictive step needs threshold + hysteresis. Stale, missing
or invalid production -> stale_mode (DRM0, as dreadpi). A `kind: drm` load that is not
permitted by the queue adds its blocked_drm_mode; the more restrictive of the two wins.

One owner for each timing rule: the relay agent holds any mode change until the output has
spent min_dwell_s in its mode and within max_changes_per_hour; that hold is the safety net.
The scheduler plans with the same limits, counted from the change the relay agent reports
(its `since`), and never asks for a change it knows would be held: until the output may
change, its wish stays the mode the output asserts and its reason says when the next one
comes. So the applied mode is always the current wish, never a previous one served late.
A solar step change also waits the policy's own min_dwell_s (the longer of the two).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from . import model as m
from .outputs import RENEW_WAKE
from .reasons import text as reason_text

# DRM1 stops the compressor, DRM2 caps it at 50 %, DRM3 at 75 %, 0 is normal.
RESTRICTIVENESS = {0: 0, 3: 1, 2: 2, 1: 3}
HOUR = timedelta(hours=1)
# Asked this much after the relay agent's limit ends: its clock and ours (two processes,
# maybe two hosts) and the message's trip must not turn the request into a hold.
MARGIN = timedelta(seconds=1)
UNCONFIRMED = timedelta(seconds=10)  # a change asked for and not yet reported applied


def step_index(steps, w: float, current: int | None, hyst: float) -> int:
    """Index into steps (len(steps) = normal). Falling is immediate, rising needs +hyst."""
    plain = sum(1 for s in steps if w >= s.below_w)
    if current is None or plain <= current:
        return plain
    return max(current, sum(1 for s in steps if w >= s.below_w + hyst))


def change_allowed_at(st: m.State, name: str, d: m.DrmRt, now: datetime, solar: bool):
    """(when the output may change mode, why not before: a reasons.py why) or None if it may
    change now."""
    out, dp = st.policy.cfg.drm_outputs[name], st.policy.sched.drm[name]
    holds = []
    # the output's last change as the relay agent reports it, or the last change we asked for;
    # before its first report the output may have started (in its boot mode) when we did, and
    # when the agent comes online it may have just restarted (a retained report is then old)
    starts = (d.feedback_since, d.changed_at, d.agent_at, st.boot_at if d.feedback is None else None)
    if d.changed_at is not None and d.mode is not None and d.feedback != d.mode:
        # our last change is not reported applied yet (a busy host, a slow trip): the output's
        # dwell starts when it applies it, so wait for its report (it makes us decide again),
        # or for UNCONFIRMED beyond our ask if it never comes
        starts += (d.changed_at + UNCONFIRMED,)
    last = max((t for t in starts if t is not None), default=None)
    if last is not None and out.min_dwell_s > 0:
        holds.append((last + timedelta(seconds=out.min_dwell_s) + MARGIN, ("drm:dwell", last, out.min_dwell_s)))
    if solar and d.changed_at is not None and dp.min_dwell_s > 0:  # the policy's own calm
        holds.append((d.changed_at + timedelta(seconds=dp.min_dwell_s),
                      ("drm:step_dwell", d.changed_at, dp.min_dwell_s)))
    while d.changes and now - d.changes[0] >= HOUR:
        d.changes.popleft()
    n = out.max_changes_per_hour
    if len(d.changes) >= n:
        holds.append((d.changes[-n] + HOUR + MARGIN, ("drm:changes", n)))
    due = [h for h in holds if h[0] > now]
    return max(due, key=lambda h: h[0]) if due else None


def _want(st: m.State, name: str, dp, d: m.DrmRt, now: datetime):
    """What the policy asks for now: (mode, code, why, next_change, step level or None)."""
    w = st.solar_w
    fresh = st.solar.fresh and not st.solar_invalid and w is not None
    if d.override is not None:
        return d.override, "override", ("drm:override", d.override, d.until), d.until, None
    if not fresh:
        return dp.stale_mode, "fallback:stale", ("drm:stale", st.solar_invalid, dp.stale_mode), None, None
    steps = dp.steps
    lvl = step_index(steps, w, d.level, dp.hysteresis_w)
    if lvl >= len(steps):
        return 0, "solar:drm0", ("drm:normal", w, steps[-1].below_w if steps else 0.0), None, lvl
    mode, below = steps[lvl].mode, steps[lvl].below_w
    if w >= below:  # over this step's threshold, kept here until it clears the hysteresis
        return mode, f"solar:drm{mode}", ("drm:step_held", w, mode, below, dp.hysteresis_w), None, lvl
    return mode, f"solar:drm{mode}", ("drm:step", w, mode, below), None, lvl


def evaluate(st: m.State, now: datetime, out: list, wake: list, commanding: bool) -> None:
    pol = st.policy
    for name, dp in pol.sched.drm.items():
        d = st.drm[name]
        if d.until is not None and now >= d.until:
            out.append(m.ActivityLine(f"drm {name}", f"override DRM{d.override} ended; automatic again"))
            d.override, d.until = None, None
            st.dirty = True
        want, code, why, nxt, lvl = _want(st, name, dp, d, now)
        lname = pol.drm_loads.get(name)
        if lname is not None and d.override is None and st.loads[lname].permitted is False:
            blocked = pol.loads[lname].cfg.blocked_drm_mode
            if RESTRICTIVENESS[blocked] > RESTRICTIVENESS[want]:
                want, code, why = blocked, "queue:" + st.loads[lname].code, \
                    ("drm:queue", blocked, lname, st.loads[lname].why)
        current = d.mode if d.mode is not None else d.feedback
        assumed = current is None  # nothing asked, nothing reported yet: the output's boot mode
        if assumed:
            current = pol.cfg.drm_outputs[name].boot_mode
        mode = want
        if want != current and want != d.feedback:  # back to what is applied: free
            hold = change_allowed_at(st, name, d, now, code.startswith("solar:"))
            if hold is not None:
                at, held_by = hold
                mode, nxt = current, at
                why = ("drm:holding", current, at, held_by, want, why)
                code = "holding:" + ("max_changes" if held_by[0] == "drm:changes" else "min_dwell")
                wake.append(at)
        if mode == want:
            d.level = lvl
            assumed = False
        if why != d.why:  # the sentence is made when the reason or its numbers change
            d.why, d.text = why, reason_text(why, now, pol.tz)
        if assumed:  # held at the boot mode we only assume: nothing to assert, nothing to count
            d.code, d.next_change = code, nxt
            _publish(name, d, code, nxt, st.solar_w, out)
            continue
        if mode != d.mode:
            if d.mode is not None:
                out.append(m.ActivityLine(f"drm {name}", f"DRM{d.mode} -> DRM{mode}: {d.text}"))
                d.changed_at = now
            d.mode, d.since = mode, now
        d.code, d.next_change = code, nxt
        if commanding:
            lease, renew = pol.drm_lease[name], pol.drm_renew[name]
            if d.cmd_mode != mode or d.cmd_at is None or now >= d.cmd_at + renew:
                out.append(m.DrmCmd(name, mode, lease))
                d.cmd_mode, d.cmd_at = mode, now
            wake.append(d.cmd_at + renew * RENEW_WAKE)  # renewed by readings, by lease/2 at the latest
        if d.until is not None:
            wake.append(d.until)
        _publish(name, d, code, nxt, st.solar_w, out, mode)


def _publish(name: str, d: m.DrmRt, code: str, nxt, w, out: list, mode=None) -> None:
    mode = mode if mode is not None else d.mode if d.mode is not None else d.feedback
    # the reason with its numbers: the production its text quotes is the production published
    sig = (mode, code, d.why, d.override, d.until, nxt, None if w is None else round(w / 50),
           d.feedback, d.feedback_since, d.feedback_pending)
    if mode is None or sig == d.published:
        return
    d.published = sig
    out.append(m.PublishDrm(name, {
        "mode": "override" if d.override is not None else "auto", "drm_mode": mode,
        "reason": {"code": code, "text": d.text}, "production_w": w, "until": d.until,
        "next_change": nxt, "since": d.since or d.feedback_since, "actual": actual(name, d)}))


def actual(name: str, d: m.DrmRt) -> dict:
    """The output as the relay agent reports it (DrmLoadState.actual)."""
    pending = None
    if d.feedback_pending is not None:
        mode, pcode, ptext, at = d.feedback_pending
        pending = {"state": str(mode), "reason": {"code": pcode, "text": ptext}, "eligible_at": at}
    return {"output": name, "drm_mode": d.feedback, "since": d.feedback_since, "pending": pending}
