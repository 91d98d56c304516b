"""From the plan to what each planned load does now, with its reason code and the numbers.

Codes (docs/planner.md):
  needed:hot_water  the tank is estimated at its reserve: heat now, whatever the price
  needed:runtime    the day's hours no longer fit in what is left of the window
  needed:comfort    the room is at the edge of its band: the shed ends
  planned:solar     running on forecast or measured solar surplus
  planned:cheap     running in one of the cheapest slots before the need
  planned:finish    a heater finishing its cycle (its thermostat still calls): no cheaper heat is planned later
  planned:guard     a heater kept ready at the usual draw times (not in a peak): a draw bigger
                    than planned is answered at once, up to GUARD_KWH
  planned:wait      not now: the next planned run and why
  planned:done      today's hours are done (a runtime load)
  planned:shed      a thermostat held off: the same work is cheaper later
  planned:run       a thermostat left alone: no cheaper hour within the room's coast time
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .comfort import decide_shed
from .state import starts_today

LIVE_SOLAR_SHARE = 0.6  # heat on measured surplus once it covers this share of the element
LIVE_SOLAR_MIN_KWH = 0.5  # ... and the tank is at least this short
MIN_START_KWH = 1.0  # a heater off is not started for a run planned to deliver less than this,
# unless its tank is near its reserve
FINISH_RATIO = 1.1  # a heating cycle runs to its end while the price is this close to the day's lowest
DAY_STARTS = 11  # starts a day for anything but a need: with one kept for a need, at most 24
# relay operations a day (a relay rated for 100,000 operations lasts over ten years)
OPTIONAL_STARTS = 8  # after this many relay starts in a day, a tank starts only for runs worth
# twice MIN_START_KWH and for its needs (the wear budget: 24 operations a day)
GUARD_PRICE_RATIO = 1.5  # the guard spends only at prices within 1.5 x the day's cheapest
GUARD_KWH = 1.0  # a heater kept ready at the usual draw times heats at most this much per stretch
GUARD_STEP_H = 1 / 60  # the verdicts' cadence (once a minute), for counting the guard's energy
GUARD_DAY = timedelta(hours=24)  # the guard's peak test: dearer than this span's median
FINISH_AHEAD_H = 12  # ... or no dearer than the tank's next planned run within this many hours


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str  # need | run | wait
    code: str
    text: str
    until: datetime | None = None
    holds_place: bool = False  # run: keeps its big-load place while idle (heat is expected now)


def verdicts(ps, st, now: datetime) -> dict[str, Verdict]:
    plan = ps.plan
    out = {}
    cur = plan.slot_at(now)
    if cur is None:
        cur = 0
    for name in ps.tanks:
        out[name] = _tank(ps, st, name, plan, cur, now)
    for name in ps.runtime:
        out[name] = _runtime(st, name, plan, cur, now)
    for name in ps.zones:
        out[name] = _zone(ps, st, name, plan, cur, now)
    return out


def _hhmm(st, t: datetime | None, now: datetime) -> str:
    return st.policy.calendars.hhmm(t, now)


def _price(plan, i: int, cur: str) -> str:
    return f"{plan.imp[i]:.3f} {cur}/kWh"


def _tank(ps, st, name, plan, cur: int, now: datetime) -> Verdict:
    tank = ps.tanks[name]
    lt = st.loads[name]
    hw = st.policy.loads[name].cfg.hot_water
    full, deficit = tank.full_kwh, tank.cautious_kwh
    s = plan.loads[name]
    reserve = s.reserve[cur] if s.reserve else hw.reserve * full  # higher around the usual draw times
    state = (f"tank about {tank.deficit_kwh:.1f} kWh short of full ({full:.1f} kWh), "
             f"planned as up to {deficit:.1f} short")
    currency = st.policy.tariff.currency if st.policy.tariff else ""
    if full - deficit <= reserve:
        return Verdict("need", "needed:hot_water", f"{state}: at its reserve of {reserve:.1f} kWh, heating now")
    if tank.big_draw and lt.permitted:  # heating on and on since a draw: finish, even over the cap
        return Verdict("need", "needed:hot_water", f"{state}: heated {tank.spell_kwh:.1f} kWh without "
                       f"stopping since a big draw, so it heats until full")
    # heating: its element draws with its relay on (also right after a restart, before this
    # scheduler has permitted anything itself)
    heating = (lt.permitted is not False and lt.relay_level != "off" and lt.power_w is not None
               and lt.power_w >= 0.3 * tank.element_w)
    if heating and not s.on[cur] and plan.imp[cur] <= _finish_price(plan, name, cur):
        # its thermostat still calls: the tank is short for certain, and stopping now would
        # leave it part-heated until a later run that costs no less (and spend two relay
        # operations, and risk that run being late)
        return Verdict("run", "planned:finish", f"finishing its heating at {_price(plan, cur, currency)} "
                       f"(its thermostat still calls); {state}", None, True)
    busy = bool(s.reserve) and s.reserve[cur] >= max(s.reserve) - 1e-9 and min(s.reserve) < max(s.reserve)
    dear = plan.imp[cur] > GUARD_PRICE_RATIO * min(plan.imp) + 1e-9  # where the guard does not keep it ready
    if heating and busy and dear and lt.permitted and not s.on[cur]:
        # a draw is under way at the household's usual time, at the start of a dear stretch
        # (a peak) with no heating planned: what was drawn is refilled now, so a bath that
        # follows finds a full tank (the thermostat stops it when full: it costs that much)
        return Verdict("run", "planned:finish", f"finishing its heating at {_price(plan, cur, currency)}: its "
                       f"thermostat still calls at the usual draw time; {state}", None, True)
    started = starts_today(ps, name)
    if not lt.permitted and started >= DAY_STARTS:  # the wear budget: only a need starts it now
        return Verdict("wait", "planned:wait", f"{started} starts today, its budget for the day (at most "
                       f"{2 * (DAY_STARTS + 1)} relay operations; the last start is kept for a need); {state}",
                       None)
    spare_starts = started < OPTIONAL_STARTS
    if s.on[cur] and not lt.permitted and not heating:
        run_kwh = sum(s.kwh[i] for i in range(cur, _run_end_index(plan, name, cur) + 1))
        small = run_kwh < (MIN_START_KWH if spare_starts else 2 * MIN_START_KWH)
        if small and full - deficit > reserve + MIN_START_KWH:
            s = None  # a start this small is not worth two relay operations: it joins a later run
    if s is not None and s.on[cur]:
        end = _run_end(plan, name, cur)
        hold = s.kwh[cur] > 0.05 or heating  # a bridged gap keeps permission, not the place
        if plan.from_solar(name, cur):
            return Verdict("run", "planned:solar", f"heating on solar ({plan.solar_w[cur]:.0f} W forecast) "
                           f"until {_hhmm(st, end, now)}; {state}", end, hold)
        return Verdict("run", "planned:cheap", f"heating at {_price(plan, cur, currency)}, the cheapest before "
                       f"it is needed, until {_hhmm(st, end, now)}; {state}", end, hold)
    # insurance, so within the optional starts only once the heater is off
    guard = _guard(ps, name, tank, s, plan, cur, lt, heating) if lt.permitted or spare_starts else None
    if guard is not None:
        return Verdict("run", "planned:guard", f"{guard}; {state}", plan.ends[cur])
    live = _live_surplus(st)
    running_live = ps.solar_run.get(name, False)
    need_share = LIVE_SOLAR_SHARE * (0.6 if running_live else 1.0)  # hysteresis once started
    if (live is not None and live >= need_share * tank.element_w and deficit >= LIVE_SOLAR_MIN_KWH
            and plan.exp[cur] < min(plan.imp)):
        ps.solar_run[name] = True
        return Verdict("run", "planned:solar", f"heating on measured solar surplus ({live:.0f} W); {state}")
    ps.solar_run[name] = False
    nxt = plan.next_on(name, cur + 1)
    if nxt is None:
        return Verdict("wait", "planned:wait", f"no heating needed in the next {st.policy.sched.planner.horizon_h:g} h; "
                       f"{state}", None)
    why = "on solar" if plan.from_solar(name, nxt) else f"at {_price(plan, nxt, currency)}"
    return Verdict("wait", "planned:wait", f"next heating {_hhmm(st, plan.starts[nxt], now)} {why}; {state}, "
                   f"keeps at least {reserve:.1f} kWh until then", plan.starts[nxt])


def _guard(ps, name, tank, s, plan, cur: int, lt, heating: bool) -> str | None:
    """Around the household's usual draw times, at a price that is not a peak, the heater
    stays permitted: a permitted full tank costs nothing, and after a draw bigger than the
    plan foresaw (guests, a bath and three showers) its upper element restores the top of
    the tank at once. Up to GUARD_KWH per stretch; the rest waits for the cheap hours."""
    if s is None or not s.reserve or s.reserve[cur] < max(s.reserve) - 1e-9:
        ps.guard_kwh.pop(name, None)  # outside the usual draw times: a new stretch next time
        return None
    day = [plan.imp[i] for i in range(cur, len(plan.imp)) if plan.starts[i] < plan.starts[cur] + GUARD_DAY]
    if plan.imp[cur] > min(sorted(day)[len(day) // 2], GUARD_PRICE_RATIO * min(day)) + 1e-9:
        return None  # dearer than the day's median or well above its cheapest: the reserve covers it
    used = ps.guard_kwh.get(name, 0.0)
    if heating and lt.power_w is not None:
        used += lt.power_w * GUARD_STEP_H / 1000  # verdicts are made once a minute
        ps.guard_kwh[name] = used
    if used >= GUARD_KWH and not heating:  # a spell under way goes on: if it is a big draw,
        return None                        # it turns into needed:hot_water (tank.big_draw)
    return (f"ready for the usual draws: permitted so a bigger draw than planned is answered at once "
            f"(up to {GUARD_KWH:g} kWh at {plan.imp[cur]:.3f}/kWh, {used:.1f} used)")


def _finish_price(plan, name: str, cur: int) -> float:
    """A heating cycle goes on at up to this price: the day's lowest (with FINISH_RATIO), or
    what the next planned run of this tank will pay, if that comes within FINISH_AHEAD_H."""
    p = FINISH_RATIO * min(plan.imp)
    nxt = plan.next_on(name, cur + 1)
    if nxt is not None and (plan.starts[nxt] - plan.starts[cur]).total_seconds() <= FINISH_AHEAD_H * 3600:
        share = min(1.0, plan.surplus_kwh[nxt] / max(plan.loads[name].kwh[nxt], 0.01))
        p = max(p, share * plan.exp[nxt] + (1 - share) * plan.imp[nxt])
    return p


def _run_end_index(plan, name: str, i: int) -> int:
    on = plan.loads[name].on
    while i + 1 < len(on) and on[i + 1]:
        i += 1
    return i


def _run_end(plan, name: str, i: int) -> datetime:
    return plan.ends[_run_end_index(plan, name, i)]


def _live_surplus(st) -> float | None:
    """Watts the house is exporting now (production above consumption), if measured."""
    if not (st.solar.fresh and st.curb.fresh) or st.solar_w is None or st.consumption_w is None:
        return None
    planned = sum(st.loads[n].power_w or 0.0 for n in st.planner.tanks)
    return st.solar_w - (st.consumption_w - planned)


def _runtime(st, name, plan, cur: int, now: datetime) -> Verdict:
    pol = st.policy
    lp, lt = pol.loads[name], st.loads[name]
    rt = lp.cfg.runtime
    cals = pol.calendars
    today = now.astimezone(pol.tz).date()
    done_h = lt.runtime_s / 3600 if lt.runtime_day == today else 0.0
    currency = pol.tariff.currency if pol.tariff else ""
    if done_h >= rt.hours - 1e-3:
        nxt = plan.next_on(name, cur)
        return Verdict("wait", "planned:done", f"ran {done_h:.1f} h today, its {rt.hours:g} h; next run "
                       f"{_hhmm(st, plan.starts[nxt] if nxt is not None else None, now)}",
                       plan.starts[nxt] if nxt is not None else cals.day_end(now))
    inside, end = cals.status(rt.window, now)
    if inside:
        end = min(end or cals.day_end(now), cals.day_end(now))
        left_h = ((end - now).total_seconds() - cals.overlap_s(lp.cfg.block, now, end)) / 3600
        need_h = rt.hours - done_h
        if need_h >= left_h - rt.margin_min / 60:
            return Verdict("need", "needed:runtime", f"needs {need_h:.1f} h more before {_hhmm(st, end, now)}, "
                           f"{left_h:.1f} h left, less a {rt.margin_min:g} min margin (target {rt.hours:g} h a day)")
    s = plan.loads[name]
    if s.on[cur]:
        end = _run_end(plan, name, cur)
        how = "on solar" if plan.from_solar(name, cur) else f"at {_price(plan, cur, currency)}"
        code = "planned:solar" if plan.from_solar(name, cur) else "planned:cheap"
        return Verdict("run", code, f"running {how} until {_hhmm(st, end, now)}; {done_h:.1f} of "
                       f"{rt.hours:g} h done today", end, True)
    nxt = plan.next_on(name, cur + 1)
    when = plan.starts[nxt] if nxt is not None else None
    return Verdict("wait", "planned:wait", f"next run {_hhmm(st, when, now)}; {done_h:.1f} of {rt.hours:g} h "
                   f"done today", when)


def _zone(ps, st, name, plan, cur: int, now: datetime) -> Verdict:
    pol = st.policy
    lp, lt = pol.loads[name], st.loads[name]
    zone = ps.zones[name]
    released = zone.released_at is not None and now - zone.released_at < timedelta(minutes=lp.cfg.guarantee_min)
    if released:  # forced like the release itself: the queue may not shed it again meanwhile
        until = zone.released_at + timedelta(minutes=lp.cfg.guarantee_min)
        return Verdict("need", "needed:comfort", f"room recovering after a shed until {_hhmm(st, until, now)}",
                       until)

    def cheapest_within(hours: float):
        end = now + timedelta(hours=hours)
        best = min((i for i in range(cur, len(plan.starts)) if plan.starts[i] < end),
                   key=lambda i: plan.imp[i], default=cur)
        return plan.imp[best], _hhmm(st, plan.starts[best], now)

    kind, text = decide_shed(zone, lp.cfg.comfort, now, lt.indoor_c, lt.indoor_at, plan.imp[cur],
                             cheapest_within, lt.permitted is False)
    if kind == "need":
        if lt.permitted is False:
            zone.released_at = now
        return Verdict("need", "needed:comfort", text,
                       now + timedelta(minutes=lp.cfg.guarantee_min))
    if kind == "shed":
        return Verdict("wait", "planned:shed", text, plan.ends[cur])
    return Verdict("run", "planned:run", text, plan.ends[cur])
