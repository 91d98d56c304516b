"""The no-spam policy: de-dup by key, quiet hours with a passing priority, resolved only if sent."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from circuitq.config.notifier import QuietHours
from circuitq.payloads import Alert
from services.notifier.policy import KeyState, Policy, decide, release

TZ = ZoneInfo("America/New_York")
DAY = datetime(2026, 6, 3, tzinfo=TZ)
POLICY = Policy(TZ, min_interval_s=3600, quiet=QuietHours(between="22:00-07:00", min_priority=2),
                intervals_s={"rule:garage": 600})


def at(hhmm: str, day: int = 0) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return DAY + timedelta(days=day, hours=h, minutes=m)


def alert(key="starved:water_heater_north", priority=0, resolved=False, when="12:00") -> Alert:
    return Alert(key=key, title="Water heater north off for 20 h", message="...", priority=priority,
                 source="scheduler", resolved=resolved, ts=at(when))


def feed(events, policy=POLICY):
    """events: (HH:MM or (HH:MM, day), Alert | 'tick'); returns what was sent, as (HH:MM, resolved)."""
    state, sent = {}, []
    for when, a in events:
        now = at(*when) if isinstance(when, tuple) else at(when)
        if a == "tick":
            state, out = release(now, policy, state)
        else:
            state, out = decide(now, policy, state, a)
        sent += [(now.strftime("%H:%M"), x.key, x.resolved) for x in out]
    return state, sent


def test_same_key_at_most_once_per_interval():
    _, sent = feed([("12:00", alert()), ("12:01", alert()), ("12:59", alert()), ("13:00", alert()),
                    ("13:30", alert(key="other"))])
    assert sent == [("12:00", "starved:water_heater_north", False),
                    ("13:00", "starved:water_heater_north", False), ("13:30", "other", False)]


def test_per_rule_interval():
    _, sent = feed([("12:00", alert("rule:garage")), ("12:05", alert("rule:garage")),
                    ("12:10", alert("rule:garage"))])
    assert [s[0] for s in sent] == ["12:00", "12:10"]


def test_resolved_once_and_only_if_the_alert_went_out():
    _, sent = feed([("12:00", alert()), ("12:30", alert(resolved=True)), ("12:31", alert(resolved=True)),
                    ("12:40", alert(key="never-sent", resolved=True))])
    assert sent == [("12:00", "starved:water_heater_north", False),
                    ("12:30", "starved:water_heater_north", True)]


def test_flapping_within_the_interval_stays_quiet():
    _, sent = feed([("12:00", alert()), ("12:05", alert(resolved=True)), ("12:10", alert()),
                    ("12:15", alert(resolved=True))])
    assert [s[2] for s in sent] == [False, True]  # the 12:10 alert and its resolve are not sent


def test_quiet_hours_hold_until_morning_and_emergency_passes():
    state, sent = feed([("23:00", alert()), ("23:05", alert("fire", priority=2)),
                        (("06:59", 1), "tick"), (("07:00", 1), "tick"), (("07:01", 1), "tick")])
    assert sent == [("23:05", "fire", False), ("07:00", "starved:water_heater_north", False)]
    assert state["starved:water_heater_north"].held is None


def test_held_alert_resolved_overnight_is_never_sent():
    _, sent = feed([("23:00", alert()), (("02:00", 1), alert(resolved=True)), (("07:00", 1), "tick")])
    assert sent == []


def test_resolved_of_an_evening_alert_waits_for_morning():
    _, sent = feed([("21:00", alert()), ("23:00", alert(resolved=True)), (("07:00", 1), "tick")])
    assert sent == [("21:00", "starved:water_heater_north", False), ("07:00", "starved:water_heater_north", True)]


def test_no_quiet_hours_configured():
    _, sent = feed([("03:00", alert())], Policy(TZ))
    assert len(sent) == 1


def test_state_round_trips_through_json():
    state, _ = feed([("21:00", alert()), ("23:00", alert(resolved=True))])
    ks = state["starved:water_heater_north"]
    assert KeyState.from_json(ks.to_json()) == ks and ks.held is not None
