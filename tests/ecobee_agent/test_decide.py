"""The pure decision core: what to do with the thermostat, given time, request, reading, hold."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from circuitq.clock import FakeClock
from circuitq.config.ecobee import EcobeeConfig, ThermostatConfig
from services.ecobee_agent.decide import OurHold, Request, confirm, decide_hold
from services.ecobee_agent.model import HoldEvent, Reading, parse_summary, parse_thermostat, running

import pytest

CFG = ThermostatConfig(identifier="318324666666", hold_minutes=5.5, renew_before_s=120, max_shed_minutes=60)
EDT = timedelta(hours=-4)


def reading(at, indoor=700, hold=None, mode="heat", offset=EDT):
    return Reading("318324666666", "South", True, at, offset, mode, indoor, 690, 760,
                   (450, 790), (650, 920), 30, ["heatPump"], hold)


def req(now, lease_s=600, since=None):
    return Request("r1", "dryer running", now + timedelta(seconds=lease_s), since or now)


def test_shed_sets_a_datetime_hold_at_the_extremes_in_thermostat_local_time():
    clock = FakeClock(datetime(2026, 7, 1, 16, 0, 0, tzinfo=timezone.utc))  # 12:00 EDT
    now = clock.now()
    a = decide_hold(now, req(now), reading(now - timedelta(minutes=1)), None, CFG)
    assert a.kind == "set"
    assert a.params == {"holdType": "dateTime", "heatHoldTemp": 450, "coolHoldTemp": 920,
                        "startDate": "2026-07-01", "startTime": "11:59:00",
                        "endDate": "2026-07-01", "endTime": "12:05:30"}
    # looks again before the hold ends: renewal 120 s ahead of its end
    assert a.next_check == now + timedelta(seconds=330 - 120)


def test_setpoint_mode_uses_configured_temperatures():
    cfg = CFG.model_copy(update={"hold": "setpoints", "heat_hold_f": 60, "cool_hold_f": 85})
    now = datetime(2026, 1, 5, 5, 0, tzinfo=timezone.utc)
    a = decide_hold(now, req(now), reading(now, offset=timedelta(hours=-5)), None, cfg)
    assert (a.params["heatHoldTemp"], a.params["coolHoldTemp"]) == (600, 850)
    assert (a.params["endDate"], a.params["endTime"]) == ("2026-01-05", "00:05:30")  # EST, UTC-5


def test_renews_before_the_end_while_the_request_stands_then_resumes_when_it_ends():
    clock = FakeClock(datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc))
    now = clock.now()
    r, rd = req(now, lease_s=900), reading(now)
    hold = confirm(decide_hold(now, r, rd, None, CFG).hold)
    clock.advance(100)
    assert decide_hold(clock.now(), r, rd, hold, CFG).kind == "none"
    clock.advance(120)  # 220 s in: less than 120 s left of the 330 s hold
    renew = decide_hold(clock.now(), r, rd, hold, CFG)
    assert renew.kind == "renew" and renew.hold.end == clock.now() + timedelta(seconds=330)
    end = decide_hold(clock.now(), None, rd, confirm(renew.hold), CFG, ended_why="shed=false")
    assert (end.kind, end.why) == ("resume", "shed=false")


def test_lapsed_lease_resumes_and_a_hold_that_ran_out_is_only_forgotten():
    now = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)
    r = req(now, lease_s=60)
    hold = confirm(decide_hold(now, r, reading(now), None, CFG).hold)
    later = now + timedelta(seconds=61)
    a = decide_hold(later, r, reading(now), hold, CFG)
    assert a.kind == "resume" and "lease lapsed" in a.why
    gone = decide_hold(now + timedelta(seconds=400), None, reading(now), hold, CFG)
    assert gone.kind == "forget"  # never resumeProgram on a hold that may be someone else's


@pytest.mark.parametrize("indoor,code", [(615, "refused:too_cold"), (830, "refused:too_hot")])
def test_comfort_guard_refuses_with_a_reason(indoor, code):
    now = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)
    a = decide_hold(now, req(now), reading(now, indoor=indoor), None, CFG)
    assert a.kind == "none" and a.refused.code == code and "°F" in a.refused.text


def test_comfort_margin_only_to_start_so_holds_do_not_flap():
    now = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)
    assert decide_hold(now, req(now), reading(now, indoor=625), None, CFG).refused.code == "refused:too_cold"
    hold = confirm(decide_hold(now, req(now), reading(now, indoor=640), None, CFG).hold)
    later = now + timedelta(seconds=30)
    seen = HoldEvent(450, 920, "2026-07-01 11:59:00", hold.end_local)  # the thermostat shows our hold
    assert decide_hold(later, req(now), reading(later, indoor=625, hold=seen), hold, CFG).kind == "none"
    cold = decide_hold(later, req(now), reading(later, indoor=615, hold=seen), hold, CFG)
    assert cold.kind == "resume" and cold.refused.code == "refused:too_cold"


def test_max_shed_time_ends_the_shed():
    start = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)
    now = start + timedelta(minutes=60)
    hold = OurHold(450, 920, now + timedelta(minutes=2), "2026-07-01 13:02:00", now - timedelta(minutes=3),
                   now + timedelta(minutes=2))
    a = decide_hold(now, req(now, since=start), reading(now - timedelta(minutes=5)), hold, CFG)
    assert a.kind == "resume" and a.refused.code == "refused:too_long"


def test_someone_elses_hold_is_respected_and_reported():
    now = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)
    theirs = HoldEvent(680, 780, "2026-07-01 08:00:00", "2026-07-01 20:00:00")
    a = decide_hold(now, req(now), reading(now, hold=theirs), None, CFG)
    assert a.kind == "none" and a.refused.code == "refused:user_hold"
    # a person replacing our hold mid-shed: forget ours, never resume over theirs
    ours = OurHold(450, 920, now + timedelta(minutes=3), "2026-07-01 12:03:00", now - timedelta(minutes=2),
                   now + timedelta(minutes=3))
    b = decide_hold(now, None, reading(now, hold=theirs), ours, CFG)
    assert b.kind == "forget"


def test_parse_thermostat_and_summary():
    t = {"identifier": "1234567", "name": "South", "thermostatRev": "9", "thermostatTime": "2026-11-21 01:44:26",
         "utcTime": "2026-11-21 06:44:27", "equipmentStatus": "heatPump,fan",
         "runtime": {"runtimeRev": "7", "connected": True, "actualTemperature": 711, "desiredHeat": 690,
                     "desiredCool": 760},
         "settings": {"hvacMode": "heat", "heatRangeLow": 450, "heatRangeHigh": 790, "coolRangeLow": 650,
                      "coolRangeHigh": 920},
         "events": [{"type": "hold", "running": True, "heatHoldTemp": 450, "coolHoldTemp": 920,
                     "startDate": "2026-11-21", "startTime": "01:40:00", "endDate": "2026-11-21", "endTime": "01:50:00"}]}
    r = parse_thermostat(t, datetime.now(timezone.utc), timedelta(0))
    assert r.utc_offset == timedelta(hours=-5) and r.indoor == 711 and r.hold.end_local == "2026-11-21 01:50:00"
    assert running(r.equipment) and not running(["fan"]) and running(["auxHeat1"]) and running(["compCool2"])
    s = parse_summary({"revisionList": ["1234567:Main: Floor:true:9:1:7:3"], "statusList": ["1234567:"]})
    assert s["1234567"].revision == "9:7" and s["1234567"].equipment == [] and s["1234567"].connected


def test_config_refuses_fast_polling_of_the_real_api():
    with pytest.raises(ValueError, match="poll_s"):
        EcobeeConfig(poll_s=60)
    assert EcobeeConfig(poll_s=1, api_host="127.0.0.1:8080").base_url == "http://127.0.0.1:8080"
    assert EcobeeConfig().base_url == "https://api.ecobee.com"
    with pytest.raises(ValueError, match="api_host"):
        EcobeeConfig(api_host="https://evil.example/api")


def test_a_leftover_hold_is_resumed_only_once_the_thermostat_shows_it():
    now = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)
    left = OurHold(450, 920, now + timedelta(minutes=4), "2026-07-01 12:04:00", now - timedelta(minutes=1),
                   now + timedelta(minutes=4))
    assert decide_hold(now, None, None, left, CFG).kind == "none"  # not read yet: wait
    seen = HoldEvent(450, 920, "2026-07-01 11:58:00", "2026-07-01 12:04:00")
    assert decide_hold(now, None, reading(now, hold=seen), left, CFG).kind == "resume"
    assert decide_hold(now, None, reading(now, hold=None), left, CFG).kind == "forget"  # already gone
