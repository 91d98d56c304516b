"""Turning inputs into facts: data freshness, debounced running, rolling solar, runtime."""
from __future__ import annotations

import math
from datetime import datetime

from . import model as m

# ------------------------------------------------------------------ applying events


def on_reading(st: m.State, now: datetime, ev: m.Reading, out: list) -> None:
    src = st.curb
    if src.ts != ev.ts:
        src.ts_changed_at = now
    src.at, src.ts, src.flagged_stale = now, ev.ts, ev.stale
    pol = st.policy
    circuits = ev.circuits
    if not all(map(math.isfinite, circuits.values())):  # JSON NaN/Infinity: not a measurement
        circuits = {c: w for c, w in circuits.items() if math.isfinite(w)}
    seen = st.circuit_seen
    seen.update(dict.fromkeys(circuits, now))
    # A circuit missing from one reading is not 0 W (a kitchen at 6 kW would "stop" and let a
    # water heater start): keep its last value until it has been missing reading_timeout_s.
    missing = st.circuits.keys() - circuits.keys()
    kept = {c: w for c, w in st.circuits.items()
            if c in missing and now - seen.get(c, now) <= pol.reading_timeout} if missing else None
    st.circuits = {**kept, **circuits} if kept else circuits
    for circuit, names in pol.by_circuit.items():
        w = st.circuits.get(circuit)
        for n in names:
            st.loads[n].power_w = w
    if ev.consumption_w is not None and math.isfinite(ev.consumption_w):
        st.consumption_w = ev.consumption_w
    if pol.solar_from_curb and ev.production_w is not None:
        on_solar(st, now, m.Solar(ev.production_w, ev.ts, ev.stale), out)


def on_solar(st: m.State, now: datetime, ev: m.Solar, out: list) -> None:
    src = st.solar
    # dreadpi: invalid production (negative, NaN, infinite) -> DRM0; a NaN would also poison
    # the rolling sum for good (and crash rounding)
    if ev.w is None or not 0 <= ev.w < math.inf or ev.ts is None:
        st.solar_invalid = True
        return
    st.solar_invalid = False
    if src.ts != ev.ts:
        src.ts_changed_at = now
    src.at, src.ts, src.flagged_stale = now, ev.ts, ev.stale
    st.solar_w = ev.w
    samples = st.solar_samples
    if not samples or ev.ts > samples[-1][0]:
        samples.append((ev.ts, ev.w))
        st.solar_sum += ev.w
    horizon = ev.ts - st.policy.solar_avg
    while samples and samples[0][0] < horizon:
        st.solar_sum -= samples.popleft()[1]


def solar_average(st: m.State) -> float | None:
    n = len(st.solar_samples)
    return st.solar_sum / n if n else None


def on_health(st: m.State, now: datetime, ev: m.SourceHealth, out: list) -> None:
    getattr(st, ev.source).health_ok = ev.ok


def on_status(st: m.State, now: datetime, ev: m.CollectorStatus, out: list) -> None:
    getattr(st, ev.source).online = ev.online


# Which load kinds each output agent serves (DRM outputs live on the relay agent).
AGENT_KINDS = {"relay_agent": ("relay",), "ecobee_agent": ("thermostat",)}


def on_agent_online(st: m.State, now: datetime, ev: m.AgentOnline, out: list) -> None:
    """Re-send its standing commands now rather than at the next renewal (up to lease/2 late):
    a command published while the agent was restarting reached nobody."""
    kinds = AGENT_KINDS.get(ev.agent, ())
    for lp in st.policy.loads.values():
        if lp.kind in kinds:
            st.loads[lp.name].cmd_state = None
    if ev.agent == "relay_agent":
        for d in st.drm.values():
            d.cmd_mode = None
            d.agent_at = now  # a restarted agent holds its boot mode for its dwell (drm.py)


def on_relay(st: m.State, now: datetime, ev: m.RelayFeedback, out: list) -> None:
    for lp in st.policy.loads.values():
        if lp.kind == "relay" and lp.target == ev.relay:
            lt = st.loads[lp.name]
            lt.relay_level, lt.relay_since, lt.relay_pending = ev.level, ev.since, ev.pending
            # The minimum times count from when the relay really switched (the agent may have
            # held the change): so the next wish is one the agent will not have to hold.
            if ev.since is not None and ev.level == "off" and lt.permitted is False \
                    and lt.off_since is not None and ev.since > lt.off_since:
                lt.off_since = ev.since
            if ev.since is not None and ev.level == "on" and lt.permitted \
                    and lt.permitted_since is not None and ev.since > lt.permitted_since:
                lt.permitted_since = ev.since


def on_thermostat(st: m.State, now: datetime, ev: m.ThermostatFeedback, out: list) -> None:
    for lp in st.policy.loads.values():
        if lp.kind == "thermostat" and lp.target == ev.name:
            lt = st.loads[lp.name]
            lt.thermo_running = ev.running and ev.connected
            if ev.indoor_c is not None and math.isfinite(ev.indoor_c) and ev.connected:
                lt.indoor_c, lt.indoor_at = ev.indoor_c, now


def on_prices(st: m.State, now: datetime, ev: m.PriceSeries, out: list) -> None:
    from circuitq.tariff import SeriesPoint
    if st.policy.tariff is None:
        return
    st.policy.tariff.set_series([SeriesPoint(*p) for p in ev.points])
    if st.planner is not None:
        st.planner.replan = True


def on_forecast(st: m.State, now: datetime, ev: m.SolarForecast, out: list) -> None:
    if st.planner is not None:
        st.planner.forecast = sorted(ev.points)
        st.planner.replan = True


def on_tank_temp(st: m.State, now: datetime, ev: m.TankTemp, out: list) -> None:
    ps = st.planner
    if ps is None or ev.load not in ps.tanks:
        return
    hw = st.policy.loads[ev.load].cfg.hot_water
    ps.tanks[ev.load].sensor(now, ev.temp_c, hw.setpoint_c, hw.inlet_c)


def on_drm_feedback(st: m.State, now: datetime, ev: m.DrmFeedback, out: list) -> None:
    d = st.drm.get(ev.output)
    if d is None:
        return
    if d.feedback is not None and ev.mode != d.feedback and ev.since is not None:
        d.changes.append(ev.since)  # the output's change budget, counted as the relay agent does
    d.feedback, d.feedback_since, d.feedback_pending = ev.mode, ev.since, ev.pending


# ------------------------------------------------------------------ freshness


def freshness(src: m.Source, now: datetime, timeout, frozen, again) -> bool:
    """Fresh: a reading received and timestamped within `timeout`, its timestamp still moving,
    not flagged stale by the collector, the collector online and healthy. After a stale spell
    (not at start-up) that must hold `again` first: a source flapping at its age limit must
    not flap the house (fallback, alerts) with every reading."""
    ok = (src.at is not None and src.ts is not None and now - src.at <= timeout
          and now - src.ts <= timeout and now - src.ts_changed_at <= frozen
          and not src.flagged_stale and src.online and src.health_ok)
    if not ok:
        src.fresh_since = None
    elif src.fresh_since is None:
        src.fresh_since = now
    fresh = ok and (src.fresh or not src.ever_fresh or now - src.fresh_since >= again)
    if fresh:
        src.ever_fresh = True
        src.stale_since = None
    elif src.stale_since is None:
        src.stale_since = now
    src.fresh = fresh
    return fresh


def stale_since(src: m.Source):
    """Since when a source has been stale, for texts; None: it never was fresh (start-up)."""
    return src.stale_since if src.ever_fresh else None


def stale_deadline(src: m.Source, timeout, frozen):
    """When fresh data goes stale if nothing new arrives (a wake-up for the timer)."""
    if not src.fresh:
        return None
    return min(src.at + timeout, src.ts + timeout, src.ts_changed_at + frozen)


def fresh_again_at(src: m.Source, again):
    """When data that is fresh again after a stale spell starts to count (a wake-up)."""
    return src.fresh_since + again if src.fresh_since is not None and not src.fresh else None


# ------------------------------------------------------------------ running


def update_running(st: m.State, now: datetime, wake: list) -> None:
    """Threshold with hysteresis and debounce: a level must hold `debounce_s` to count."""
    fresh = st.curb.fresh
    for name, lp in st.policy.loads.items():
        lt = st.loads[name]
        w = lt.power_w if fresh else None
        if w is None:
            level = False
        elif lt.running:
            level = w >= lp.off_w
        else:
            level = w >= lp.on_w
        level = level or lt.thermo_running
        if level == lt.running:
            lt.pending_level = None
            continue
        if lt.pending_level != level:
            lt.pending_level, lt.pending_since = level, now
        due = lt.pending_since + lp.debounce
        if now >= due or not fresh:  # no data: nothing to debounce, it is simply unknown
            lt.running, lt.pending_level = level, None
            if not level:
                lt.quiet_since = now
        else:
            wake.append(due)


def account_runtime(st: m.State, now: datetime) -> None:
    """Seconds run today (local day) for loads with a runtime target; also the block clocks."""
    last = st.last_eval
    dt = (now - last).total_seconds() if last is not None and now > last else 0.0
    day = None
    for name, lp in st.policy.loads.items():
        lt = st.loads[name]
        if dt and lt.permitted is False and lt.code:
            lt.blocked_for[lt.code] = lt.blocked_for.get(lt.code, 0.0) + dt
        if lp.cfg.runtime is None:
            continue
        if day is None:
            day = now.astimezone(st.policy.tz).date()
        if lt.runtime_day != day:
            lt.runtime_day, lt.runtime_s = day, 0.0
        # measured running counts; without a circuit reading (Curb stale, or this circuit missing
        # from the readings for reading_timeout_s: a dead CT), a permitted relay counts
        if lt.running or (lt.permitted and (not st.curb.fresh or lt.power_w is None)):
            lt.runtime_s += dt
