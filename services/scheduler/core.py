"""The decision core: decide(now, state, event) -> (state, commands). No I/O, no clock.

Every event (a reading, an override, a timer) re-evaluates every load; the work per event
is a few dict lookups per load (calendars are cached until their next boundary), so a
month of minute data replays in seconds. `state.next_wake` says when to call again with a
Tick if nothing else happens (window boundary, hold end, lease renewal, override expiry).

The state is updated in place and returned (copying it per event would cost more than
deciding); keep a `copy.deepcopy` yourself if you need snapshots.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from circuitq.timefmt import clock_text

from . import drm, outputs, planner, sensing
from . import model as m
from .policy import LoadPolicy, new_state  # noqa: F401  (re-exported for callers)
from .queue import allocate

MS = timedelta(milliseconds=1)  # a source is stale just after its deadline: wake then
APPLY = {
    m.Reading: sensing.on_reading,
    m.Solar: sensing.on_solar,
    m.SourceHealth: sensing.on_health,
    m.CollectorStatus: sensing.on_status,
    m.AgentOnline: sensing.on_agent_online,
    m.RelayFeedback: sensing.on_relay,
    m.ThermostatFeedback: sensing.on_thermostat,
    m.DrmFeedback: sensing.on_drm_feedback,
    m.PriceSeries: sensing.on_prices,
    m.SolarForecast: sensing.on_forecast,
    m.TankTemp: sensing.on_tank_temp,
    m.Tick: lambda st, now, ev, out: None,
}


def decide(now: datetime, st: m.State, event) -> tuple[m.State, list]:
    # in UTC: `end - now` with both in site.timezone would be a wall-clock difference, an
    # hour off on DST days (runtime plans, holds); any aware `now` is accepted
    now = now.astimezone(timezone.utc)
    out: list = []
    for ev in (event.events if type(event) is m.Batch else (event,)):
        if type(ev) is m.Override:
            apply_override(st, now, ev, out)
        else:
            APPLY[type(ev)](st, now, ev, out)
    evaluate(st, now, out)
    return st, out


def apply_override(st: m.State, now: datetime, ev: m.Override, out: list) -> None:
    """An already validated override (see overrides.parse): record it and say so."""
    when = f" until {clock_text(ev.until, now, st.policy.tz)}" if ev.until else ""
    if ev.target == "drm":
        d = st.drm[ev.name]
        d.override, d.until = (None, None) if ev.mode == "auto" else (int(ev.mode), ev.until)
        out.append(m.ActivityLine(f"drm {ev.name}", f"{ev.source} set {str(ev.mode).upper()}{when}"))
    else:
        lt = st.loads[ev.name]
        lt.mode, lt.until = ev.mode, (None if ev.mode == "auto" else ev.until)
        out.append(m.ActivityLine(ev.name, f"{ev.source} set {ev.mode.upper()}{when}"))
        if st.planner is not None:
            st.planner.replan = True  # the user's hours are taken out of (or put into) the plan
    st.dirty = True


def classify(st: m.State, lp: LoadPolicy, lt: m.LoadRt, now: datetime, curb_ok: bool) -> tuple:
    """What the policy tables say about one controllable load, before the queue (the reason
    as its catalogue key and numbers, reasons.py)."""
    if lt.mode != "auto":
        on = lt.mode == "on"
        return ("override", on, f"override:{lt.mode}", ("override", lt.mode, lt.until), lt.until)
    for rule in lp.force_rules:
        v = rule(st, lp, lt, now)
        if v is not None:
            return ("forced",) + v
    rules = lp.block_rules
    if not curb_ok:
        since = sensing.stale_since(st.curb)
        behaviour = lp.cfg.stale
        if behaviour == "off":
            return ("blocked", "fallback:off", ("fallback:off", since), None)
        if behaviour == "on":
            return ("forced", "fallback:on", ("fallback:on", since), None)
        if behaviour == "hold" and lt.permitted is not None:  # none yet (start-up): as `windows`
            if lt.permitted:
                return ("forced", "fallback:hold", ("fallback:hold", since, True), None)
            return ("blocked", "fallback:hold", ("fallback:hold", since, False), None)
        rules = lp.window_rules
    for rule in rules:
        v = rule(st, lp, lt, now)
        if v is not None:
            return ("blocked",) + v
    v = st.planner.decisions.get(lp.name) if st.planner is not None and curb_ok else None
    if v is not None and v.kind == "run":  # the plan's run, queued by priority like any other
        return ("eligible", v.code, v.text, v.until, v.holds_place)
    return ("eligible",)


def evaluate(st: m.State, now: datetime, out: list) -> None:
    pol = st.policy
    wake: list = []
    sensing.account_runtime(st, now)
    curb_ok = sensing.freshness(st.curb, now, pol.reading_timeout, pol.frozen, pol.fresh_again)
    sensing.freshness(st.solar, now, pol.solar_timeout, pol.solar_timeout, pol.fresh_again)
    outputs.stale_alerts(st, now, out)
    for src, timeout, frozen in ((st.curb, pol.reading_timeout, pol.frozen),
                                 (st.solar, pol.solar_timeout, pol.solar_timeout)):
        t = sensing.stale_deadline(src, timeout, frozen)
        if t is not None:
            wake.append(t + MS)
        t = sensing.fresh_again_at(src, pol.fresh_again)
        if t is not None:
            wake.append(t)
    for name, lt in st.loads.items():  # override expiry: re-evaluated right here, at once
        if lt.until is not None and now >= lt.until:
            out.append(m.ActivityLine(name, f"override {lt.mode.upper()} ended; automatic again"))
            lt.mode, lt.until = "auto", None
            st.dirty = True
    sensing.update_running(st, now, wake)
    planner.update(st, now, wake, out)

    # start-up: decide once the retained readings are in (or the grace is over), so that a
    # first command is not contradicted milliseconds later by a reading still in flight
    commanding = now >= st.boot_at + pol.grace or (
        st.curb.at is not None and (st.solar.at is not None or not pol.uses_solar or pol.solar_from_curb))
    if not commanding:  # start-up: retained readings are on their way; decide on them
        st.next_wake = st.boot_at + pol.grace
        st.last_eval = now
        return
    wants = {}
    for name, lp in pol.by_priority:
        lt = st.loads[name]
        lt.next_change = None
        if lp.controllable:
            wants[name] = w = classify(st, lp, lt, now, curb_ok)
            lt.want = w[0]
    decisions = allocate(st, now, wants, curb_ok)
    cal_next = {}  # each calendar's next boundary: a wake-up, and a load's next_change
    for name in pol.used_calendars:
        cal_next[name] = nxt = pol.calendars.status(name, now)[1]
        if nxt is not None:
            wake.append(nxt)
    outputs.apply(st, now, decisions, out, wake, True, cal_next)
    drm.evaluate(st, now, out, wake, True)

    if st.dirty:
        out.append(m.Persist())
        st.dirty = False
    st.last_eval = now
    ahead = [t for t in wake if t > now]
    st.next_wake = min(ahead) if ahead else None
