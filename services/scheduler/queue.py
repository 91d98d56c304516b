"""Rule 1-3 and 7: who gets the `max_running` slots (and the watt budget), with holds.

Input: each controllable load's class from the rule tables — ("override", on?, code, why,
until), ("forced", code, why, until), ("eligible",) or ("blocked", code, why, until).
Output: name -> (permitted, code, why, until); `why` is the reason's catalogue key and the
numbers the queue used (reasons.py), or the rule's own why it passes on.

Phase A places what does not queue: overrides, forced loads and loads held on by their
minimum run time. Phase B walks observed running loads and eligible loads by priority
(higher first), incumbents before newcomers of the same priority, then the longest waiter.
A permitted load that has drawn nothing for `settle_s` is idle: it stays permitted but its
slot goes to the next load (demand discovery). New starts are one per `settle_s`.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from . import model as m
from .sensing import stale_since

HOUR = timedelta(hours=1)
OBSERVED_FIRST = 10_000  # planner on: observed loads rank above every controllable load

Decision = tuple[bool, str, "tuple | str", "datetime | None"]


def allocate(st: m.State, now: datetime, wants: dict, curb_ok: bool) -> dict[str, Decision]:
    pol = st.policy
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

    def grant(name: str, code: str, text, until) -> None:
        """Permit a load, subject to its minimum off time and the gap between starts (`text`:
        the why it is permitted for, quoted after 'then:' while it waits)."""
        lp, lt = pol.loads[name], st.loads[name]
        # unknown after a restart, with its output reading on: permitting it starts nothing
        already_on = lt.permitted is None and lt.relay_level == "on"
        if not lt.permitted and not already_on:
            if lt.off_since is not None and now < lt.off_since + lp.min_off:
                t = lt.off_since + lp.min_off
                res[name] = (False, "waiting:min_off", ("waiting:min_off", lt.off_since,
                                                        lp.min_off.total_seconds(), t, text), t)
                return
            if lp.max_starts_per_hour:  # never ask the relay agent for a start it would refuse
                while lt.starts and now - lt.starts[0] >= HOUR:
                    lt.starts.popleft()
                if len(lt.starts) >= lp.max_starts_per_hour:
                    t = lt.starts[0] + HOUR
                    res[name] = (False, "waiting:start_budget",
                                 ("waiting:start_budget", lp.max_starts_per_hour, t, text), t)
                    return
            gap_until = st.last_grant_at + pol.settle if st.last_grant_at is not None else None
            if gap_until is not None and now < gap_until:
                res[name] = (False, "waiting:start_gap", ("waiting:start_gap", st.last_grant_at,
                                                          pol.sched.settle_s, gap_until, text), gap_until)
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
                res[name] = (True, "holding:min_on", ("holding:min_on", lt.permitted_since,
                                                      pol.loads[name].min_on.total_seconds(), t, w[2]), t)
            else:  # keeps its slot; below we say whether it is only the hold that keeps it.
                # A plan's run says why it runs now (its tank's figures of now), not why it started
                res[name] = (True, w[1], w[2], None) if len(w) > 2 else (True, lt.code, lt.why, None)
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
            res[name] = (True, "permitted:idle", ("permitted:idle", m.quiet_for_since(lt), pol.sched.settle_s),
                         None)
            continue
        room = budget + (keep if lt.permitted else 0.0) if budget is not None else None
        if len(occupants) < slots and (room is None or watts + load_w(name) <= room):
            text = (("fallback:windows", stale_since(st.curb)) if not curb_ok
                    else ("permitted", lp.cfg.priority, len(occupants) + 1, slots))
            if forced:
                grant(name, forced[1], forced[2], forced[3])
            elif len(wants.get(name, ())) > 1:  # the plan's run: its own reason and end
                w = wants[name]
                grant(name, w[1], w[2], w[3])
            else:
                grant(name, "permitted" if curb_ok else "fallback:windows", text, None)
            take(name)
        else:
            why = _behind(st, occupants, slots, room, budget, watts, load_w(name))
            if not curb_ok:  # blind: say why only one runs, and that its turn comes
                why = ("queued/stale", stale_since(st.curb), pol.sched.data.stale_rotate_min, why)
            if forced:  # its own need, and what outranks it
                why = ("queued/forced", forced[2], lp.cfg.forced_priority, why)
            res[name] = (False, "queued", why, None)
    for name, t in held:  # would it lose its slot but for its minimum run time?
        prio = pol.loads[name].cfg.priority
        above = [n for n in occupants if pol.loads[n].cfg.priority > prio]
        waiting = [n for n, r in res.items() if r[1] == "queued" and pol.loads[n].cfg.priority > prio]
        if waiting or len(above) >= slots:
            lt = st.loads[name]
            res[name] = (True, "holding:min_on", ("holding:min_on", lt.permitted_since,
                                                  pol.loads[name].min_on.total_seconds(), t,
                                                  _behind(st, above or waiting, slots)), t)
    return res


def _behind(st: m.State, occupants: list[str], slots: int, room=None, budget=None, watts: float = 0.0,
            need_w: float = 0.0) -> tuple:
    """Why a load is queued: the places are taken (by whom), or the watt budget is short."""
    if len(occupants) < slots and room is not None:
        return ("queued/budget", budget, room - budget, watts, need_w)
    # each running one's watts to 50 W, as its own retained state counts them: the place is
    # the reason, the watts only say which loads are big, so they do not move the text every reading
    names = tuple((n, round(st.loads[n].power_w / 50) * 50 if st.loads[n].running and st.loads[n].power_w
                   else None) for n in occupants)
    return ("queued", names, slots)
