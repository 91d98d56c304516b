"""Rule 1-3 and 7: who gets the `max_running` slots (and the watt budget), with holds.

Input: each controllable load's class from the rule tables — ("override", on?, code, text,
until), ("forced", code, text, until), ("eligible",) or ("blocked", code, text, until).
Output: name -> (permitted, code, text, until).

Phase A places what does not queue: overrides, forced loads and loads held on by their
minimum run time. Phase B walks observed running loads and eligible loads by priority
(higher first), incumbents before newcomers of the same priority, then the longest waiter.
A permitted load that has drawn nothing for `settle_s` is idle: it stays permitted but its
slot goes to the next load (demand discovery). New starts are one per `settle_s`.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from . import model as m

HOUR = timedelta(hours=1)
OBSERVED_FIRST = 10_000  # planner on: observed loads rank above every controllable load

Decision = tuple[bool, str, str, "datetime | None"]


def allocate(st: m.State, now: datetime, wants: dict, curb_ok: bool) -> dict[str, Decision]:
    pol = st.policy
    cals = pol.calendars
    slots = pol.sched.max_running if curb_ok else 1  # stale: one load at a time
    budget = pol.sched.max_w if curb_ok else None
    keep = pol.sched.max_w_hysteresis_w  # an incumbent is queued out only above budget + keep
    res: dict[str, Decision] = {}
    occupants: list[str] = []
    watts = 0.0

    def load_w(name: str) -> float:
        lt, c = st.loads[name], pol.loads[name].cfg
        if lt.running and lt.power_w:
            return lt.power_w
        return c.nominal_w if c.nominal_w is not None else c.running_w

    def idle(lt: m.LoadRt, name: str) -> bool:
        """Permitted, and has drawn nothing for settle_s (since permitted or since it stopped).
        A relay's unknown power (its circuit in no recent reading) is not nothing: it keeps
        its slot (a thermostat says itself whether it runs)."""
        if not (curb_ok and lt.permitted and not lt.running):
            return False
        if lt.power_w is None and pol.loads[name].kind != "thermostat":
            return False
        quiet = m.quiet_for_since(lt)
        return quiet is not None and now - quiet >= pol.settle

    def take(name: str) -> None:
        nonlocal watts
        occupants.append(name)
        watts += load_w(name)

    def grant(name: str, code: str, text: str, until) -> None:
        """Permit a load, subject to its minimum off time and the gap between starts."""
        lp, lt = pol.loads[name], st.loads[name]
        if not lt.permitted:
            if lt.off_since is not None and now < lt.off_since + lp.min_off:
                t = lt.off_since + lp.min_off
                res[name] = (False, "waiting:min_off", f"minimum off time until {cals.hhmm(t, now)}, "
                             f"then: {text}", t)
                return
            if lp.max_starts_per_hour:  # never ask the relay agent for a start it would refuse
                while lt.starts and now - lt.starts[0] >= HOUR:
                    lt.starts.popleft()
                if len(lt.starts) >= lp.max_starts_per_hour:
                    t = lt.starts[0] + HOUR
                    res[name] = (False, "waiting:start_budget", f"{lp.max_starts_per_hour} starts in the "
                                 f"last hour (relay wear budget) until {cals.hhmm(t, now)}, then: {text}", t)
                    return
            gap_until = st.last_grant_at + pol.settle if st.last_grant_at is not None else None
            if gap_until is not None and now < gap_until:
                res[name] = (False, "waiting:start_gap", f"another load started; next start at "
                             f"{cals.hhmm(gap_until, now)} (settle {pol.sched.settle_s:g} s)", gap_until)
                return
            st.last_grant_at = now
        res[name] = (True, code, text, until)

    held: list = []
    forced_queued: dict = {}
    # ---- phase A: overrides, forced, minimum run time holds (wants come highest priority
    # first, so of two forced starts due at once the more important one goes first)
    for name, w in wants.items():
        lt = st.loads[name]
        if w[0] == "override":
            res[name] = w[1:]
            if w[1] and not lt.permitted:  # a user's start counts: the next one waits settle_s
                st.last_grant_at = now
            if w[1] and not idle(lt, name):  # its slot from the start, not only once it draws (as forced)
                take(name)
        elif w[0] == "forced" and w[1] != "forced:guarantee" \
                and pol.loads[name].cfg.forced_priority is not None:
            forced_queued[name] = w  # competes in phase B at its forced_priority
        elif w[0] == "forced":
            grant(name, w[1], w[2], w[3])  # a guarantee too: two due at once start settle_s apart
            if not idle(lt, name) and not w[1].startswith("fallback:"):  # stale on/hold: outside the queue
                take(name)
        elif lt.permitted and lt.permitted_since is not None and not lt.by_override \
                and now < lt.permitted_since + pol.loads[name].min_on:  # a user's ON ends when it ends
            t = lt.permitted_since + pol.loads[name].min_on
            if w[0] == "blocked":  # it would stop now, but has not run its minimum time
                res[name] = (True, "holding:min_on", f"minimum run time until {cals.hhmm(t, now)}, "
                             f"then: {w[2]}", t)
            else:  # keeps its slot; below we say whether it is only the hold that keeps it
                res[name] = (True, lt.code, lt.text, None)
                held.append((name, t))
            if not idle(lt, name):
                take(name)
        elif w[0] == "blocked":
            res[name] = (False, w[1], w[2], w[3])

    # ---- phase B: the queue
    cands = []
    for name, lp in pol.loads.items():
        lt = st.loads[name]
        if name in res:
            continue
        if not lp.controllable:
            if curb_ok and lt.running and lp.cfg.counts:
                # with the planner, the cap is a promise: what nobody controls takes its place
                # first; the rule engine keeps CircuitQueueing's priorities among all loads
                first = OBSERVED_FIRST if pol.planned else 0
                cands.append((-lp.cfg.priority - first, 0, 0.0, name))
        elif name in wants:  # eligible, or forced at its forced_priority
            incumbent = bool(lt.permitted) and (curb_ok or now - lt.permitted_since < pol.rotate)
            # a load rotated out (stale mode) goes to the back of the line
            waited = (now if lt.permitted and not incumbent else lt.off_since or st.boot_at).timestamp()
            prio = lp.cfg.forced_priority if name in forced_queued else lp.cfg.priority
            w = wants[name]
            if len(w) > 4 and w[4]:  # the plan placed this run here, within the big-load cap:
                # it ranks just above the most important controllable load (so before what the
                # plan did not place), and observed loads compare with it by their priority
                prio = pol.top_priority + 0.5 + prio / 1000
            if curb_ok:
                cands.append((-prio, 0 if incumbent else 1, waited, name))
            else:  # blind: nobody knows who needs it, so loads take turns, longest waiter first
                cands.append((0 if incumbent else 1, waited, -lp.cfg.priority, name))
    cands.sort()
    for _, _, _, name in cands:
        lp, lt = pol.loads[name], st.loads[name]
        if not lp.controllable:
            take(name)  # it runs whether we like it or not
            continue
        forced = forced_queued.get(name)
        w = wants.get(name, ())
        holds = len(w) > 4 and w[4]  # a planned run expecting heat now keeps its place while idle:
        # its tank's thermostat may call at any moment, and handing the place to another load
        # would put three on at once, or cost relay operations to undo
        if idle(lt, name) and not forced and not holds:
            res[name] = (True, "permitted:idle", f"permitted; drawing nothing for {pol.sched.settle_s:g} s, "
                         "so its slot is free", None)
            continue
        room = budget + (keep if lt.permitted else 0.0) if budget is not None else None
        if len(occupants) < slots and (room is None or watts + load_w(name) <= room):
            text = ("no fresh Curb data: time windows only, one load at a time" if not curb_ok
                    else f"permitted (priority {lp.cfg.priority})")
            if forced:
                grant(name, forced[1], forced[2], forced[3])
            elif len(wants.get(name, ())) > 1:  # the plan's run: its own reason and end
                w = wants[name]
                grant(name, w[1], w[2], w[3])
            else:
                grant(name, "permitted" if curb_ok else "fallback:windows", text, None)
            take(name)
        else:
            why = _behind(st, occupants, len(occupants) >= slots, budget, watts)
            if not curb_ok:  # blind: say why only one runs, and that its turn comes
                why = (f"no fresh Curb data: time windows only, one load at a time, taking turns every "
                       f"{pol.sched.data.stale_rotate_min:g} min; {why}")
            if forced:  # its own need, and what outranks it
                why = f"{forced[2]}, but {why} (forced priority {lp.cfg.forced_priority})"
            res[name] = (False, "queued", why, None)
    for name, t in held:  # would it lose its slot but for its minimum run time?
        prio = pol.loads[name].cfg.priority
        above = [n for n in occupants if pol.loads[n].cfg.priority > prio]
        waiting = [n for n, r in res.items() if r[1] == "queued" and pol.loads[n].cfg.priority > prio]
        if waiting or len(above) >= slots:
            res[name] = (True, "holding:min_on", f"minimum run time until {cals.hhmm(t, now)}, then: "
                         + _behind(st, above or waiting, True, budget, watts), t)
    return res


def _behind(st: m.State, occupants: list[str], full: bool, budget, watts: float) -> str:
    names = []
    for n in occupants:
        w = st.loads[n].power_w
        names.append(f"{n} ({w:.0f} W)" if st.loads[n].running and w else n)
    why = f"queued behind {', '.join(names)}" if full else f"watt budget {budget:.0f} W (in use {watts:.0f} W)"
    return why
