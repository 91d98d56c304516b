"""Every reason the rule engine can give (services/scheduler/reasons.py), each produced by the
real core and its text checked against the numbers of the state that produced it: overrides,
stale data, forced and blocked loads here; the queue, observed loads and DRM outputs in
test_reasons_queue_drm.py. A reason added to the catalogue without a walk here fails."""
from __future__ import annotations

import importlib
import inspect
import re
import sys
from datetime import timedelta

from services.scheduler import model as m
from services.scheduler.reasons import PLANNER_CODES, REASONS

from . import test_reasons_queue_drm
from .harness import Sim, at, config, observed, relay
from .reason_walk import clock, code_matches, said, walks, watts

NOW = at("2026-07-01T12:00")
WHN, WHS, POOL = "water_heater_north", "water_heater_south", "pool_pump"
DAY = {"day": [{"start": "06:00", "end": "20:00"}]}


def test_every_reason_of_the_catalogue_is_walked_and_planner_codes_are_listed():
    walked = set()
    for mod in (sys.modules[__name__], test_reasons_queue_drm):
        walked.update(k for fn in vars(mod).values() if inspect.isfunction(fn) for k in getattr(fn, "walks", ()))
    assert walked == set(REASONS), (set(REASONS) - walked, walked - set(REASONS))
    verdicts = importlib.import_module("services.scheduler.planner.verdicts")
    planner_codes = set(re.findall(r'"((?:needed|planned):[a-z_]+)"', inspect.getsource(verdicts)))
    assert len(planner_codes) >= 8 and planner_codes <= set(PLANNER_CODES), (  # listed in its docstring
        planner_codes - set(PLANNER_CODES))
    assert all(not code_matches(c, s.code) for c in PLANNER_CODES for s in REASONS.values())


@walks("override")
def test_override():
    sim = Sim(config({WHN: relay(50)}), NOW)
    sim.demand = {WHN: 4500}
    sim.run(120)
    sim.override(WHN, "off", minutes=90)
    lt = sim.st.loads[WHN]
    assert lt.until == sim.now + timedelta(minutes=90)
    assert said(sim, WHN, "override") == f"OFF by a user until {clock(sim, lt.until)}"


def stale_house():
    return config({"kitchen": observed(100, 4000), WHN: relay(50), WHS: relay(40), POOL: relay(10, stale="off"),
                   "hp": {"kind": "thermostat", "thermostat": "heat_pump_south", "priority": 60, "stale": "hold"}},
                  scheduler={"max_running": 2, "data": {"reading_timeout_s": 300}})


@walks("fallback:off", "fallback:hold", "fallback:windows", "queued/stale")
def test_stale_curb_data():
    sim = Sim(stale_house(), NOW)
    sim.demand = {WHN: 4500, WHS: 4500, POOL: 1500}
    sim.run(600)
    assert sim.permitted("hp")
    sim.feeding = False
    sim.run(600)
    since = clock(sim, sim.st.curb.stale_since)
    assert sim.st.curb.stale_since == sim.st.curb.at + timedelta(seconds=300, milliseconds=1)
    assert said(sim, POOL, "fallback:off") == f"no fresh Curb data since {since}: off until it returns"
    assert said(sim, "hp", "fallback:hold") == f"no fresh Curb data since {since}: kept on as it was until it returns"
    on, off = (WHN, WHS) if sim.permitted(WHN) else (WHS, WHN)
    assert said(sim, on, "fallback:windows") == f"no fresh Curb data since {since}: time windows only, one load at a time"
    assert said(sim, off, "queued/stale") == (f"no fresh Curb data since {since}: time windows only, one load at "
                                              f"a time, taking turns every 60 min; queued behind {on}; 1 at a time")


@walks("fallback:on")
def test_stale_curb_data_on():
    sim = Sim(config({WHN: relay(50, stale="on")}, scheduler={"data": {"reading_timeout_s": 300}}), NOW)
    sim.run(300)
    sim.feeding = False
    sim.run(600)
    since = clock(sim, sim.st.curb.stale_since)
    assert said(sim, WHN, "fallback:on") == f"no fresh Curb data since {since}: on until it returns"


@walks("fallback:off/solar")
def test_stale_solar_data():
    gate = {"window": "day", "threshold_w": 1000}
    sim = Sim(config({WHN: relay(50, solar=gate, stale="off")},
                     scheduler={"calendars": DAY, "data": {"solar_timeout_s": 300}}), NOW, solar=5000)
    sim.run(600)
    sim.solar = None  # the Curb goes on; production stops
    sim.run(600)
    assert sim.st.curb.fresh and not sim.st.solar.fresh
    assert said(sim, WHN, "fallback:off/solar") == (f"no fresh solar data since {clock(sim, sim.st.solar.stale_since)}: "
                                                    "off until it returns")


@walks("forced:guarantee")
def test_guarantee():
    always = {"always": [{"start": "00:00", "end": "00:00"}]}
    sim = Sim(config({WHN: relay(50, block=["always"], max_off_h=1, guarantee_min=30)},
                     scheduler={"calendars": always}), NOW)
    sim.run(3600 + 60)
    lt = sim.st.loads[WHN]
    assert sim.permitted(WHN) and lt.last_on == NOW and lt.guarantee_until == NOW + timedelta(hours=1, minutes=30)
    assert said(sim, WHN, "forced:guarantee") == (f"off since {clock(sim, lt.last_on)}, its 1 h limit: "
                                                  f"permitted until {clock(sim, lt.guarantee_until)}")


@walks("forced:window", "blocked:window", "blocked:outside")
def test_calendar_windows_with_the_zone_where_a_clock_time_is_ambiguous():
    cals = {"night": [{"start": "00:00", "end": "06:00"}], "shower": [{"start": "05:00", "end": "06:00"}],
            "day": [{"start": "08:00", "end": "20:00"}]}
    cfg = config({WHN: relay(50, block=["night"]), WHS: relay(40, force=["shower"]), POOL: relay(10, only=["day"])},
                 scheduler={"calendars": cals, "max_running": 3}, site={"timezone": "America/New_York"})
    # 2026-11-01, 00:30 EDT: clocks fall back at 02:00; the night ends at 06:00 EST
    sim = Sim(cfg, at("2026-11-01T04:30"))
    sim.run(60)
    night_end = at("2026-11-01T11:00")  # 06:00 EST
    assert sim.st.loads[WHN].next_change == night_end
    assert said(sim, WHN, "blocked:window") == "'night' hours until 06:00 EST"
    assert said(sim, POOL, "blocked:outside") == "outside its hours (day) until 08:00 EST"
    sim.run_until(at("2026-11-01T10:10"))  # 05:10 EST
    assert said(sim, WHS, "forced:window") == "forced on in 'shower' hours until 06:00"


@walks("forced:runtime")
def test_runtime_target():
    # the pool waits behind the heater until its 2 h no longer fit before 20:00 (15 min margin)
    cfg = config({WHN: relay(50), POOL: relay(10, runtime={"hours": 2, "window": "day", "margin_min": 15})},
                 scheduler={"calendars": DAY})
    sim = Sim(cfg, at("2026-07-01T17:00"))
    sim.demand = {WHN: 4500, POOL: 1500}
    sim.run(3600)
    lt, t = sim.st.loads[POOL], sim.st.last_eval
    end = at("2026-07-01T20:00")
    need_h, free_h = 2 - lt.runtime_s / 3600, (end - t).total_seconds() / 3600
    assert sim.permitted(POOL) and free_h - need_h <= 0.25
    assert said(sim, POOL, "forced:runtime") == (
        f"needs {need_h:.1f} h more before {clock(sim, end)} (target 2 h a day); "
        f"{free_h:.1f} h left outside its blocks, 15 min kept as margin")


@walks("blocked:solar")
def test_solar_gate_quotes_one_average_for_every_load_of_the_moment():
    gate = {"window": "day", "threshold_w": 5000, "hysteresis_w": 300}
    cfg = config({WHN: relay(50, solar=gate), WHS: relay(40, solar=gate)},
                 scheduler={"calendars": DAY, "max_running": 2})
    sim = Sim(cfg, NOW, solar=3000)
    sim.run(600)

    def avg():
        return sim.st.solar_sum / len(sim.st.solar_samples)

    def expect():
        return (f"solar {watts(avg())} (10-min average); it starts from 5000 W and runs on down to 4700 W; "
                "solar window ends 20:00")
    assert said(sim, WHN, "blocked:solar") == expect() and said(sim, WHS, "blocked:solar") == expect()
    sim.solar = 6000
    sim.run(900)
    assert sim.permitted(WHN) and sim.permitted(WHS)
    seen = []  # after each decision: the average it used, and what both heaters' retained states say

    def retained(name):
        return [c.state["reason"]["text"] for _, c in sim.cmds(m.PublishLoad) if c.load == name][-1]
    event = sim.event
    sim.event = lambda ev: (event(ev), seen.append((avg(), sim.code(WHN), retained(WHN), retained(WHS))))[0]
    sim.solar = 4000  # the 10-min average falls a minute at a time: the gate closes under 4700 W
    sim.run(900)
    closed = [(a, n, s) for a, code, n, s in seen if code == "blocked:solar"]
    assert closed and 4000 < closed[0][0] < 4700
    for a, north, south in closed:  # each moment's figure, the same in both, never an older one
        assert north == south == (f"solar {watts(a)} (10-min average); it starts from 5000 W and runs on down "
                                  "to 4700 W; solar window ends 20:00")


@walks("blocked:load")
def test_blocked_while_another_load_runs_and_while_its_stop_is_not_yet_counted():
    cfg = config({"heat_pump_north": observed(90, 2800, debounce_s=120),
                  "hp": {"kind": "thermostat", "thermostat": "heat_pump_south", "priority": 80,
                         "block_when": [{"load": "heat_pump_north"}]}}, scheduler={"max_running": 2})
    sim = Sim(cfg, NOW)
    sim.observed["heat_pump_north"] = 3500
    sim.run(300)
    assert said(sim, "hp", "blocked:load") == "heat_pump_north running (at or over 2700 W)"
    sim.observed["heat_pump_north"] = 0  # a running load's stop counts once it held 120 s
    sim.run(60)
    north = sim.st.loads["heat_pump_north"]
    assert north.running and north.pending_level is False
    assert said(sim, "hp", "blocked:load") == (
        f"heat_pump_north running; under its 2700 W since {clock(sim, north.pending_since)}, "
        f"counted as stopped if that holds until {clock(sim, north.pending_since + timedelta(seconds=120))}")


@walks("blocked:circuits")
def test_blocked_by_circuits_over_a_limit_with_hysteresis_and_debounce():
    cond = {"circuits": ["kitchen", "dryer"], "above_w": 3000, "hysteresis_w": 200}
    sim = Sim(config({"kitchen": observed(1, 4000), "dryer": observed(5, 350),
                      WHN: relay(50, block_when=[cond], debounce_s=120)}), NOW)
    sim.demand = {WHN: 4500}
    sim.observed.update(kitchen=3300, dryer=400)
    sim.run(300)
    assert said(sim, WHN, "blocked:circuits") == "kitchen + dryer at 3700 W, limit 3000 W"
    sim.observed.update(kitchen=2500, dryer=400)  # under the limit, not under it less the hysteresis
    sim.run(300)
    assert said(sim, WHN, "blocked:circuits") == (
        "kitchen + dryer at 2900 W, limit 3000 W: blocked until under 2800 W (200 W hysteresis)")
    sim.observed.update(kitchen=500, dryer=0)
    sim.run(60)
    since = sim.st.loads[WHN].cond_pending[0][1]
    assert said(sim, WHN, "blocked:circuits") == (
        f"kitchen + dryer at 500 W, under 2800 W since {clock(sim, since)}; counted as clear if that holds "
        f"until {clock(sim, since + timedelta(seconds=120))}")
