"""From decisions to commands: relay/shed commands with renewed leases, retained load
states, activity lines and alerts (starvation warnings, stale data)."""
from __future__ import annotations

from datetime import datetime, timedelta

from . import model as m
from .reasons import text as reason_text

HOUR = timedelta(hours=1)
# A lease is renewed at the first decision a third of it after the last command, and a timer
# wakes the core for it half-way at the latest: readings (every minute) normally renew it, so
# five outputs' renewals do not each cost a decision between readings, and a lease still
# has half its length left when renewed without any reading.
RENEW_WAKE = 1.5  # x renew (lease/3): lease/2


def apply(st: m.State, now: datetime, decisions: dict, out: list, wake: list, commanding: bool,
          cal_next: dict) -> None:
    """cal_next: each calendar in use -> its next boundary (None: none within a week)."""
    pol = st.policy
    settle = pol.settle
    fresh = st.curb.fresh
    for name, lp in pol.loads.items():
        lt = st.loads[name]
        if not lp.controllable:
            # a change that has not yet held for debounce_s: since when, and when it counts
            pend = lt.pending_level is not None
            due = lt.pending_since + lp.debounce if pend else None
            since = lt.pending_since if pend else None
            if lt.running:
                p, code, why = True, "observed:running", ("observed:running", lp.off_w, since, due)
            else:
                measured = lt.power_w is not None and fresh
                p, code, why = True, "observed:idle", ("observed:idle", lp.on_w, since, due, measured)
            until = None
        else:
            p, code, why, until = decisions[name]
        if why != lt.why:  # the sentence is made when the reason or its numbers change
            lt.why, lt.text = why, reason_text(why, now, pol.tz)
        text = lt.text
        if p and lt.by_override and lt.mode == "auto" and lt.permitted:
            lt.by_override = False  # the policy kept it on after the user's ON: its min_on holds again
        if p != lt.permitted:
            if lt.permitted and not p:
                lt.last_on = now
            if p:
                lt.permitted_since = now
                if lp.max_starts_per_hour:  # the relay's wear budget: the last hour's starts only
                    lt.starts.append(now)
                    while now - lt.starts[0] >= HOUR:
                        lt.starts.popleft()
                lt.by_override = lt.mode == "on"
                lt.blocked_for.clear()
                if lt.warned:
                    lt.warned = False
                    out.append(m.AlertMsg(f"starved:{name}", f"{name} permitted again",
                                          f"{name}: {text}", 0, resolved=True))
            else:
                lt.off_since = now
            st.dirty = st.dirty or lp.controllable
        if p != lt.permitted or code != lt.code or lt.since is None:
            lt.since = now
            if lp.controllable or lt.code:  # observed: say when it starts and stops
                out.append(m.ActivityLine(name, f"{'ON' if p else 'OFF'} ({code}): {text}"
                                          if lp.controllable else text))
        lt.permitted, lt.code = p, code
        nc = until if until is not None and until > now else None
        t = lt.next_change
        if t is not None and t > now and (nc is None or t < nc):
            nc = t
        t = lt.until
        if t is not None and t > now and (nc is None or t < nc):
            nc = t
        if lt.mode == "auto" and until is None:  # e.g. a permitted load: when a block window begins
            for cal in lp.calendars:
                t = cal_next[cal]
                if t is not None and t > now and (nc is None or t < nc):
                    nc = t
        lt.next_change = nc
        if nc is not None:
            wake.append(nc)
        if lp.controllable:
            quiet = m.quiet_for_since(lt) if p and not lt.running else None
            if quiet is not None and now < quiet + settle:
                wake.append(quiet + settle)  # demand discovery: idle after settle_s
            if p and not fresh and lt.permitted_since is not None:
                wake.append(lt.permitted_since + pol.rotate)  # stale: equals take turns
            if commanding:
                _command(st, lp, lt, now, out, wake)
            if not p and lp.cfg.max_off_h is not None:  # what _starvation looks at, checked first
                _starvation(st, lp, lt, now, out, wake)
            if lp.kind == "relay" and lp.cfg.meter_check_min and (
                    lt.mismatch_since is not None or (fresh and not p and lt.running)):
                _meter_check(st, lp, lt, now, out, wake)  # only when there is something to check
        _publish(st, lp, lt, now, out)


def _command(st, lp, lt: m.LoadRt, now: datetime, out: list, wake: list) -> None:
    renew = lp.renew  # a third of the lease actually asked for (capped by the relay's max_lease_s)
    if lp.kind == "relay":
        want = "on" if lt.permitted else "off"
        if lt.cmd_state != want or now >= lt.cmd_at + renew:
            out.append(m.RelayCmd(lp.target, want, lp.lease_s))
            lt.cmd_state, lt.cmd_at = want, now
        wake.append(lt.cmd_at + renew * RENEW_WAKE)
    elif lp.kind == "thermostat":
        shed = not lt.permitted
        if lt.cmd_state != shed or (shed and now >= lt.cmd_at + renew):
            out.append(m.ShedCmd(lp.target, shed, lt.text if shed else "", lp.lease_s))
            lt.cmd_state, lt.cmd_at = shed, now
        if shed:
            wake.append(lt.cmd_at + renew * RENEW_WAKE)


def _starvation(st, lp, lt: m.LoadRt, now: datetime, out: list, wake: list) -> None:
    """Rule 6: warn `warn_before_h` before the off limit, naming what blocked it."""
    c = lp.cfg
    if c.max_off_h is None or lt.permitted or lt.last_on is None:
        return
    warn_at = lt.last_on + timedelta(hours=max(0.0, c.max_off_h - c.warn_before_h))
    if now < warn_at:
        wake.append(warn_at)
        return
    limit = lt.last_on + timedelta(hours=c.max_off_h)
    if now < limit:
        wake.append(limit)
    if lt.warned:
        return
    lt.warned = True
    top = sorted(lt.blocked_for.items(), key=lambda kv: -kv[1])[:3]
    causes = ", ".join(f"{code} {s / 3600:.1f} h" for code, s in top) or "nothing recorded"
    off_h = (now - lt.last_on).total_seconds() / 3600
    cals = st.policy.calendars
    out.append(m.AlertMsg(
        f"starved:{lp.name}", f"{lp.name} off {off_h:.1f} h",
        f"{lp.name} has been off {off_h:.1f} h (limit {c.max_off_h:g} h, forced on at "
        f"{cals.hhmm(limit, now)}). Blocked by: {causes}. Now: {lt.text}", 1))


def _meter_check(st, lp, lt: m.LoadRt, now: datetime, out: list, wake: list) -> None:
    """Every switch checked against the circuit meter: a load that keeps drawing power while
    its relay is commanded and read back off has a welded contact or is wired around it."""
    bad = st.curb.fresh and not lt.permitted and lt.running and lt.relay_level != "on"
    if not bad:
        if lt.mismatch_alerted:
            out.append(m.AlertMsg(f"meter:{lp.name}", f"{lp.name} follows its relay again",
                                  f"{lp.name} no longer draws power with its relay off.", 0, resolved=True))
        lt.mismatch_since, lt.mismatch_alerted = None, False
        return
    if lt.mismatch_since is None:
        lt.mismatch_since = now
    due = lt.mismatch_since + timedelta(minutes=lp.cfg.meter_check_min)
    if now < due:
        wake.append(due)
    elif not lt.mismatch_alerted:
        lt.mismatch_alerted = True
        out.append(m.AlertMsg(
            f"meter:{lp.name}", f"{lp.name} draws power with its relay off",
            f"{lp.name} has drawn {lt.power_w or 0:.0f} W for {lp.cfg.meter_check_min:g} min while relay "
            f"{lp.target} is off: welded contact, a bypass, or the wrong circuit mapped?", 2))


def _publish(st, lp, lt: m.LoadRt, now: datetime, out: list) -> None:
    w = lt.power_w if st.curb.fresh else None
    # the reason with its numbers: a text never quotes a figure older than the decision's
    # (reasons.py keeps measurements that move every reading out of texts that do not hang on
    # them); the load's own watts count in steps of 50 W
    sig = (lt.mode, lt.permitted, lt.running, lt.code, lt.why, lt.until,
           lt.next_change, None if w is None else round(w / 50),
           lt.relay_level, lt.relay_since, lt.relay_pending)
    if sig == lt.published:
        return
    lt.published = sig
    off_h = None
    if lp.controllable and not lt.permitted and lt.last_on is not None:
        off_h = round((now - lt.last_on).total_seconds() / 3600, 2)
    out.append(m.PublishLoad(lp.name, {
        "mode": lt.mode, "permitted": bool(lt.permitted), "running": lt.running, "power_w": w,
        "reason": {"code": lt.code, "text": lt.text}, "until": lt.until,
        "next_change": lt.next_change, "since": lt.since, "priority": lp.cfg.priority,
        "off_hours": off_h if lp.controllable else None,
        "runtime_today_h": round(lt.runtime_s / 3600, 2) if lp.cfg.runtime else None,
        "actual": relay_actual(lp, lt)}))


def relay_actual(lp, lt: m.LoadRt) -> dict | None:
    """A relay load's relay as the relay agent reports it (LoadState.actual): the wish and
    the hardware in one topic."""
    if lp.kind != "relay":
        return None
    pending = None
    if lt.relay_pending is not None:
        state, code, text, at = lt.relay_pending
        pending = {"state": state, "reason": {"code": code, "text": text}, "eligible_at": at}
    return {"relay": lp.target, "level": lt.relay_level, "since": lt.relay_since, "pending": pending}


def stale_alerts(st: m.State, now: datetime, out: list) -> None:
    """Rule 9: say once when a source goes stale and once when it is back."""
    for key, src in (("curb", st.curb), ("solar", st.solar)):
        if src.at is None and now - st.boot_at < st.policy.reading_timeout:
            continue
        if not (st.policy.uses_solar if key == "solar" else st.policy.uses_curb):
            continue  # start-up: not stale before it could have arrived
        if not src.fresh and not src.alerted:
            src.alerted = True
            what = ("every load on its stale behaviour (default: time windows only, one at a time)"
                    if key == "curb" else "solar gates open per stale behaviour; DRM to its stale mode")
            out.append(m.AlertMsg(f"stale:{key}", f"{key} data stale", f"No fresh {key} data: {what}.", 0))
            out.append(m.ActivityLine("scheduler", f"{key} data stale: {what}"))
        elif src.fresh and src.alerted:
            src.alerted = False
            out.append(m.AlertMsg(f"stale:{key}", f"{key} data back", f"{key} data is fresh again.", 0,
                                  resolved=True))
            out.append(m.ActivityLine("scheduler", f"{key} data fresh again"))
