"""Rules 1-3 and 7 on the pure core: priority queue, observed loads, demand discovery,
anti-chatter. Each scenario runs minute readings through decide() with an injected clock."""
from datetime import timedelta

import pytest

from .harness import Sim, at, config, observed, relay

START = at("2026-07-01T12:00")
WHN, WHS, POOL = "water_heater_north", "water_heater_south", "pool_pump"


def three(max_running=1, **sched):
    return config({WHN: relay(50), WHS: relay(40), POOL: relay(10)},
                  scheduler={"max_running": max_running, **sched})


@pytest.mark.parametrize("max_running, max_w, expect_on", [
    (1, None, {WHN}),                 # only the top priority runs
    (2, None, {WHN, WHS}),            # two at once
    (3, 6500, {WHN, POOL}),           # budget: 4500 + 4500 > 6500, so the 1500 W pump fits instead
])
def test_priority_slots_and_watt_budget(max_running, max_w, expect_on):
    sched = {"max_running": max_running} | ({"max_w": max_w} if max_w else {})
    sim = Sim(config({WHN: relay(50, nominal_w=4500), WHS: relay(40, nominal_w=4500),
                      POOL: relay(10, nominal_w=1500)}, scheduler=sched), START)
    sim.demand = {WHN: 4500, WHS: 4500, POOL: 1500}
    sim.run(3600)
    assert sim.on() == expect_on
    for name in {WHN, WHS, POOL} - expect_on:
        assert sim.code(name) == "queued"
        assert "queued behind" in sim.st.loads[name].text or "watt budget" in sim.st.loads[name].text


def test_tie_goes_to_the_load_that_waited_longest():
    cfg = config({WHN: relay(40), WHS: relay(40)}, scheduler={"max_running": 1})
    sim = Sim(cfg, START)
    sim.demand = {WHN: 4000, WHS: 4000}
    sim.run(600)
    first = next(iter(sim.on()))
    other = ({WHN, WHS} - {first}).pop()
    # the incumbent keeps its slot while it draws (no preemption on a tie) ...
    sim.run(3600)
    assert sim.on() == {first}
    # ... and when it is satisfied the waiter gets the slot next
    sim.demand[first] = 0
    sim.run(600)
    assert sim.permitted(other)
    assert sim.st.loads[other].running


def test_observed_load_makes_lower_priority_loads_yield_with_debounce_and_hysteresis():
    cfg = config({"kitchen": observed(100, 4000, hysteresis_w=500, debounce_s=120), WHN: relay(50),
                  "dryer": observed(5, 350)}, scheduler={"max_running": 1})
    sim = Sim(cfg, START)
    sim.demand = {WHN: 4500}
    sim.run(600)
    assert sim.permitted(WHN)
    sim.observed["kitchen"] = 4500  # one spike shorter than the debounce: nothing happens
    sim.run(60)
    sim.observed["kitchen"] = 100
    sim.run(300)
    assert sim.permitted(WHN) and not sim.st.loads["kitchen"].running
    sim.observed["kitchen"] = 4500  # the oven for real
    sim.run(300)
    assert not sim.permitted(WHN)
    assert sim.code(WHN) == "queued" and "kitchen (~4500 W)" in sim.st.loads[WHN].text
    # noisy readings between 3500 and 4000 W stay "running" (hysteresis): no flapping
    for i in range(30):
        sim.observed["kitchen"] = 3600 if i % 2 else 3950
        sim.run(60)
    assert not sim.permitted(WHN)
    sim.observed["kitchen"] = 200
    sim.run(600)
    assert sim.permitted(WHN)
    # a lower-priority observed load (dryer) does not stop the water heater
    sim.observed["dryer"] = 3000
    sim.run(600)
    assert sim.permitted(WHN) and sim.st.loads["dryer"].running
    assert len(sim.relay_switches(WHN)) == 3  # on, off, on


def test_demand_discovery_gives_the_slot_away_and_priority_decides_on_restart():
    sim = Sim(three(settle_s=120), START)
    sim.demand = {WHN: 0, WHS: 4500, POOL: 1500}  # north's thermostat is satisfied
    sim.run(119)
    assert sim.on() == {WHN}
    sim.run(120)
    assert sim.code(WHN) == "permitted:idle"
    assert sim.on() == {WHN, WHS}  # north is still allowed to start
    sim.run(1800)
    assert sim.on() == {WHN, WHS} and not sim.permitted(POOL)
    sim.demand[WHN] = 4500  # north calls for heat: it outranks south, which yields
    sim.run(180)
    assert sim.permitted(WHN) and sim.st.loads[WHN].running
    assert not sim.permitted(WHS)


def test_two_starts_never_stack():
    sim = Sim(three(max_running=3, settle_s=120), START)
    sim.demand = {WHN: 4500, WHS: 4500, POOL: 1500}
    sim.run(3600)
    starts = sorted(t for r in (WHN, WHS, POOL) for t, s in sim.relay_switches(r) if s == "on")
    assert len(starts) == 3
    gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 120


def test_policy_min_on_and_min_off_hold():
    cfg = config({"kitchen": observed(100, 4000), WHN: relay(50, min_on_s=900, min_off_s=600)})
    sim = Sim(cfg, START)
    sim.demand = {WHN: 4500}
    sim.run(120)
    assert sim.permitted(WHN)
    sim.observed["kitchen"] = 5000
    sim.run(300)  # 7 min after it started: held by its 15 min minimum run time
    assert sim.permitted(WHN) and sim.code(WHN) == "holding:min_on"
    assert sim.st.loads[WHN].next_change == START + __import__("datetime").timedelta(seconds=900)
    sim.run(600)
    assert not sim.permitted(WHN)
    off_at = sim.relay_switches(WHN)[-1][0]
    sim.observed["kitchen"] = 0
    sim.run(240)
    assert sim.code(WHN) == "waiting:min_off"
    sim.run(600)
    back = sim.relay_switches(WHN)[-1]
    assert back[1] == "on" and (back[0] - off_at).total_seconds() >= 600


def test_noisy_load_around_its_threshold_does_not_chatter():
    cfg = config({"dryer": observed(100, 350, hysteresis_w=150, debounce_s=60), WHN: relay(50)})
    sim = Sim(cfg, START, step_s=10)
    sim.demand = {WHN: 4500}
    import random
    rng = random.Random(7)
    for _ in range(360):  # an hour of readings every 10 s, the dryer tumbling 250-450 W
        sim.observed["dryer"] = rng.uniform(250, 450)
        sim.run(10)
    assert len(sim.relay_switches(WHN)) <= 3


def test_noisy_watts_at_the_budget_do_not_chatter():
    # max_w 6000: a dryer at 1500 W and the heater at 4500 W sit right at the budget; the
    # meter wobbles +-100 W. The heater, once running, must not be queued out and back in.
    cfg = config({"dryer": observed(70, 350, hysteresis_w=150), WHN: relay(50, nominal_w=4500)},
                 scheduler={"max_running": 2, "max_w": 6000})
    sim = Sim(cfg, START)
    wobble = lambda now: 100 if now.minute % 2 else -100  # noqa: E731
    sim.observed["dryer"] = lambda now: 1500 + wobble(now)
    sim.demand = {WHN: lambda now, lt: 4500 + wobble(now)}
    sim.run(6 * 3600)
    assert [s for _, s in sim.relay_switches(WHN)] == ["on"]
    sim.observed["dryer"] = 2500  # well over the budget (beyond the hysteresis): it yields
    sim.run(600)
    assert not sim.permitted(WHN) and "watt budget" in sim.st.loads[WHN].text


def test_a_load_drawing_power_with_its_relay_off_raises_an_alert():
    from services.scheduler import model as m
    cfg = config({"kitchen": observed(100, 4000), WHN: relay(50, meter_check_min=10)})
    sim = Sim(cfg, START)
    sim.observed["kitchen"] = 5000
    sim.run(120)
    assert not sim.permitted(WHN)
    sim.event(m.RelayFeedback(WHN, "off"))
    sim.observed[WHN] = 4500  # ... but the water heater's circuit still draws: welded contactor
    sim.run(9 * 60)
    assert not [a for a in sim.alerts() if a.key.startswith("meter:")]
    sim.run(2 * 60)
    alert = next(a for a in sim.alerts() if a.key == "meter:water_heater_north")
    assert "4500 W" in alert.message and alert.priority == 2
    sim.observed[WHN] = 0
    sim.run(120)
    assert [a.resolved for a in sim.alerts() if a.key.startswith("meter:")] == [False, True]


def test_a_load_that_stops_drawing_frees_its_slot_only_after_the_settle_time():
    sim = Sim(three(settle_s=120), START)
    sim.demand = {WHN: 4500, WHS: 4500}
    sim.run(600)
    assert sim.on() == {WHN}
    sim.demand[WHN] = 0  # its thermostat is satisfied
    sim.run(60)  # the next reading shows it
    stop = sim.st.loads[WHN].quiet_since
    assert stop is not None and not sim.st.loads[WHN].running
    sim.run_until(stop + timedelta(seconds=110))
    assert sim.on() == {WHN}
    sim.run(20)
    assert sim.code(WHN) == "permitted:idle" and sim.permitted(WHS)
    started = next(t for t, s in sim.relay_switches(WHS) if s == "on")
    assert timedelta(seconds=120) <= started - stop <= timedelta(seconds=121)


def test_the_relay_start_budget_is_respected_by_policy():
    """A dryer that goes on and off every few minutes would cycle the water heater; the relay
    allows 4 starts an hour, so the scheduler never asks for a fifth."""
    cfg = config({"dryer": observed(100, 350), WHN: relay(50)})
    cfg.relays[WHN].max_starts_per_hour = 4
    sim = Sim(cfg, START)
    sim.demand = {WHN: 4500}
    for i in range(24):  # two hours of a dryer tumbling 5 min on, 5 min off
        sim.observed["dryer"] = 2500 if i % 2 else 0
        sim.run(300)
    starts = [t for t, s in sim.relay_switches(WHN) if s == "on"]
    for t in starts:
        assert sum(1 for u in starts if t <= u < t + timedelta(hours=1)) <= 4
    assert any("waiting:start_budget" in a for a in sim.activity())


def test_the_start_history_kept_for_the_wear_budget_stays_an_hour_long():
    # a load permitted and blocked every few minutes for days: only the last hour is kept
    cfg = config({"dryer": observed(100, 350), WHN: relay(50), "hp": {"kind": "thermostat", "priority": 40,
                  "block_when": [{"load": "dryer"}]}}, scheduler={"max_running": 3})
    sim = Sim(cfg, START)
    sim.demand = {WHN: 4500, "hp": 2000}
    sim.observed["dryer"] = lambda now: 1000 if now.minute % 10 < 5 else 0
    sim.run(2 * 86400)
    assert len(sim.st.loads["hp"].starts) <= 6 and len(sim.st.loads[WHN].starts) <= 6
