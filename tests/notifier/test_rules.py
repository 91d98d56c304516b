"""The shipped alert rules (config/example.yaml, CircuitQueueing's set) over scripted readings.

Pure: an injected clock, no broker. Each case is (rule, metric readings by local minute,
expected events by local minute).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from circuitq.config import load_config
from circuitq.config.notifier import RuleConfig
from services.notifier.rules import evaluate

ROOT = Path(__file__).resolve().parents[2]
CFG = load_config(ROOT / "config" / "example.yaml", env={})
RULES = CFG.notifier.rules
TZ = CFG.site.tz
DAY = datetime(2026, 6, 3, tzinfo=TZ)  # a Wednesday


def at(hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return DAY + timedelta(hours=h, minutes=m)


def every_minute(start: str, end: str, value: float) -> list[tuple[datetime, float]]:
    t, stop, out = at(start), at(end), []
    while t <= stop:
        out.append((t, value))
        t += timedelta(minutes=1)
    return out


def run(rules: dict[str, RuleConfig], metric: str, readings) -> list[tuple[str, str, str]]:
    """Feed readings; return (local HH:MM, 'fire'|'resolve', message) per alert."""
    state, events = {}, []
    for when, value in readings:
        state, alerts = evaluate(when.astimezone(ZoneInfo("UTC")), rules, TZ, state, {metric: value})
        events += [(when.strftime("%H:%M"), "resolve" if a.resolved else "fire", a.message) for a in alerts]
    return events


CASES = [
    # rule, metric, readings, expected [(HH:MM, kind)]
    ("production_zero", "production",
     every_minute("10:00", "10:19", 0.0) + every_minute("10:20", "10:22", 1500.0),
     [("10:15", "fire"), ("10:20", "resolve")]),
    ("production_zero", "production", every_minute("10:00", "10:40", 14.0), []),  # night-like noise
    ("production_zero", "production", every_minute("20:00", "21:00", 0.0), []),   # after dark
    ("production_zero", "production",  # one non-zero reading restarts the 15 minutes
     every_minute("10:00", "10:10", 0.0) + [(at("10:11"), -22.0)] + every_minute("10:12", "10:27", 0.0),
     [("10:27", "fire")]),
    ("garage_light", "circuit.garage", [(at("12:00"), 250.0), (at("12:01"), 260.0), (at("12:05"), 60.0)],
     [("12:00", "fire"), ("12:05", "resolve")]),
    ("garage_light", "circuit.garage", [(at("12:00"), 200.0)], []),  # "above" is strict
    ("house_high", "consumption", [(at("18:00"), 11900.0), (at("18:01"), 12500.0), (at("18:02"), 9000.0)],
     [("18:01", "fire"), ("18:02", "resolve")]),
    ("pool_pump_off", "circuit.pool_pump",
     every_minute("10:00", "10:06", 0.0) + [(at("10:30"), 1100.0)],
     [("10:05", "fire"), ("10:30", "resolve")]),
    ("pool_pump_off", "circuit.pool_pump", every_minute("08:00", "09:59", 0.0), []),
    ("pool_pump_off", "circuit.pool_pump", every_minute("15:00", "18:00", 0.0), []),
    ("pool_pump_off", "circuit.pool_pump",  # still off when the window closes: no "resolved"
     every_minute("14:50", "15:30", 0.0), [("14:55", "fire")]),
    ("dryer_long", "circuit.dryer", every_minute("13:00", "14:14", 4800.0), []),
    ("dryer_long", "circuit.dryer", every_minute("13:00", "14:20", 4800.0) + [(at("14:21"), 0.0)],
     [("14:15", "fire"), ("14:21", "resolve")]),
    ("dryer_long", "circuit.dryer",  # two 60-minute loads are not one long one
     every_minute("13:00", "14:00", 4800.0) + [(at("14:01"), 5.0)] + every_minute("14:02", "15:00", 4800.0),
     []),
    ("dryer_long", "circuit.dryer",  # no readings 13:31-13:49: the 75 minutes start again
     every_minute("13:00", "13:30", 4800.0) + every_minute("13:50", "15:04", 4800.0), []),
    ("dryer_long", "circuit.dryer",
     every_minute("13:00", "13:30", 4800.0) + every_minute("13:40", "14:15", 4800.0), [("14:15", "fire")]),
    ("bedroom_1_high", "circuit.bedroom_1", [(at("21:00"), 650.0), (at("21:10"), 300.0)],
     [("21:00", "fire"), ("21:10", "resolve")]),
    ("bedroom_1_high", "circuit.bedroom_1", [(at("21:00"), 550.0)], []),
    ("bedroom_2_high", "circuit.bedroom_2", [(at("21:00"), 550.0)], [("21:00", "fire")]),
]


@pytest.mark.parametrize("rule,metric,readings,expected", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_shipped_rule(rule, metric, readings, expected):
    events = run({rule: RULES[rule]}, metric, readings)
    assert [(t, k) for t, k, _ in events] == expected


def test_messages_carry_the_numbers():
    events = run({"dryer_long": RULES["dryer_long"]}, "circuit.dryer",
                 every_minute("13:00", "14:15", 4800.0))
    assert events[-1][2] == "The dryer has been on since 13:00 (75 min)."
    events = run({"garage_light": RULES["garage_light"]}, "circuit.garage", [(at("12:00"), 251.4)])
    assert events[0][2] == "Small garage consumption is 251 W."


def test_every_circuitqueueing_rule_is_shipped():
    assert {r.metric for r in RULES.values()} >= {
        "production", "circuit.garage", "consumption", "circuit.pool_pump", "circuit.dryer",
        "circuit.bedroom_1", "circuit.bedroom_2"}


def test_weekdays_and_a_window_across_midnight():
    rule = RuleConfig(metric="circuit.kitchen", above=3000, between="22:00-06:00",
                      days=["sat", "sun"], title="Oven left on at night")
    sat = datetime(2026, 6, 6, tzinfo=TZ)  # Saturday
    utc = ZoneInfo("UTC")
    fired = []
    for when in (DAY + timedelta(hours=23), sat + timedelta(hours=21), sat + timedelta(hours=23)):
        _, alerts = evaluate(when.astimezone(utc), {"oven": rule}, TZ, {}, {"circuit.kitchen": 3500.0})
        fired.append(bool(alerts))
    assert fired == [False, False, True]  # Wednesday night no; Saturday 21:00 no; 23:00 yes


def test_rules_without_their_metric_are_untouched():
    state, alerts = evaluate(at("12:00"), RULES, TZ, {}, {"circuit.garage": 300.0})
    assert [a.key for a in alerts] == ["rule:garage_light"]
    state2, alerts = evaluate(at("12:01"), RULES, TZ, state, {"production": 500.0})
    assert state2["garage_light"] == state["garage_light"] and alerts == []


def test_clear_for_min_stops_flapping():
    rule = RuleConfig(metric="circuit.garage", above=200, clear_for_min=5, title="Garage")
    readings = [(at("12:00"), 250.0), (at("12:01"), 150.0), (at("12:02"), 250.0),
                (at("12:03"), 150.0), (at("12:08"), 150.0)]
    assert [(t, k) for t, k, _ in run({"g": rule}, "circuit.garage", readings)] == [
        ("12:00", "fire"), ("12:08", "resolve")]


def test_bad_rules_are_config_errors():
    with pytest.raises(ValueError, match="exactly one of above, below, equals"):
        RuleConfig(metric="consumption", above=1, below=2, title="x")
    with pytest.raises(ValueError, match="unknown metric"):
        RuleConfig(metric="circuits.garage", above=1, title="x")
    with pytest.raises(ValueError, match="bad template"):
        RuleConfig(metric="consumption", above=1, title="x", message="{watts} W")
    with pytest.raises(ValueError, match="not a time range"):
        RuleConfig(metric="consumption", above=1, title="x", between="10-15")
