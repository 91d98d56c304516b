"""The agent as docker-compose runs it (a subprocess) against a real broker and the fake ecobee."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sim.fakes.ecobee import TSTAT_ID

from .helpers import ACTIVITY, shed, state, wait


def test_shed_sets_hold_renews_it_and_resumes_on_shed_false(fake, agent_config, service_factory, scheduler, user_probe):
    agent = service_factory("ecobee_agent", agent_config(hold_minutes=0.1, renew_before_s=4.5))  # 6 s holds
    state(user_probe, lambda s: s["connected"] and s["indoor_f"] == 70.0)
    t0 = datetime.now(timezone.utc)
    shed(scheduler, lease_s=30)
    set1 = wait(lambda: fake.calls("POST", "/1/thermostat", "setHold"), what="setHold")[0]
    p = set1["body"]["functions"][0]["params"]
    assert set1["body"]["selection"] == {"selectionType": "thermostats", "selectionMatch": TSTAT_ID}
    assert (p["holdType"], p["heatHoldTemp"], p["coolHoldTemp"]) == ("dateTime", 450, 920)  # the extremes
    end = datetime.strptime(f"{p['endDate']} {p['endTime']}", "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=ZoneInfo("America/New_York"))
    assert timedelta(seconds=4) <= end - t0 <= timedelta(seconds=10)  # ends hold_minutes ahead, local time
    assert fake.hold_of()["heatHoldTemp"] == 450
    s = state(user_probe, lambda s: s["shed"])
    assert s["hold"]["by"] == "circuitq" and s["shed_refused"] is None
    user_probe.on_topic(ACTIVITY, lambda m: "hold set until" in m.json()["message"])
    shed(scheduler, lease_s=30)  # the scheduler renews its lease: same hold, renewed before it ends
    wait(lambda: len(fake.calls("POST", "/1/thermostat", "setHold")) >= 2, timeout=8, what="renewal")
    renew = fake.calls("POST", "/1/thermostat", "setHold")[1]["body"]["functions"][0]["params"]
    assert (renew["endDate"], renew["endTime"]) > (p["endDate"], p["endTime"])
    user_probe.on_topic(ACTIVITY, lambda m: "hold renewed" in m.json()["message"])
    shed(scheduler, on=False)
    resume = wait(lambda: fake.calls("POST", "/1/thermostat", "resumeProgram"), what="resumeProgram")[0]
    assert resume["body"]["functions"][0]["params"] == {"resumeAll": False}
    assert fake.hold_of() is None
    state(user_probe, lambda s: not s["shed"] and s["hold"] is None)
    user_probe.on_topic(ACTIVITY, lambda m: "program resumed" in m.json()["message"])
    assert agent.alive()


def test_lease_lapse_resumes_when_the_scheduler_goes_quiet(fake, agent_config, service_factory, scheduler, user_probe):
    service_factory("ecobee_agent", agent_config())
    state(user_probe, lambda s: s["connected"])
    t_sent = time.monotonic()
    shed(scheduler, lease_s=1.5)
    wait(lambda: fake.hold_of(), what="hold")
    resume = wait(lambda: fake.calls("POST", "/1/thermostat", "resumeProgram"), what="resume after lapse")[0]
    assert 1.4 <= resume["t"] - t_sent <= 4.0  # at the lease's end, not at the hold's (30 s)
    assert fake.hold_of() is None
    act = user_probe.on_topic(ACTIVITY, lambda m: "program resumed" in m.json()["message"]).json()
    assert "lease lapsed" in act["message"]


def test_crash_leaves_a_time_boxed_hold_that_a_restart_resumes(fake, agent_config, service_factory, scheduler, user_probe):
    cfg = agent_config(hold_minutes=1)
    agent = service_factory("ecobee_agent", cfg)
    state(user_probe, lambda s: s["connected"])
    shed(scheduler, lease_s=60)
    wait(lambda: fake.hold_of(), what="hold")
    user_probe.on_topic(ACTIVITY, lambda m: "hold set" in m.json()["message"])
    agent.kill()  # kill -9: no clean shutdown
    hold = fake.hold_of()
    assert hold is not None and hold["endDate"] and hold["endTime"]  # time-boxed even now
    assert not fake.calls("POST", "/1/thermostat", "resumeProgram")
    service_factory("ecobee_agent", cfg)
    wait(lambda: fake.calls("POST", "/1/thermostat", "resumeProgram"), what="leftover resumed")
    assert fake.hold_of() is None
    state(user_probe, lambda s: not s["shed"] and s["hold"] is None)


def test_comfort_guard_refuses_a_shed_in_a_cold_house(fake, agent_config, service_factory, scheduler, user_probe):
    fake.set_thermostat(actualTemperature=605)  # 60.5 °F, below min_indoor_f 62
    service_factory("ecobee_agent", agent_config())
    state(user_probe, lambda s: s["indoor_f"] == 60.5)
    shed(scheduler)
    s = state(user_probe, lambda s: s["shed_refused"] is not None)
    assert s["shed_refused"]["code"] == "refused:too_cold" and "62" in s["shed_refused"]["text"]
    assert not s["shed"]
    user_probe.on_topic(ACTIVITY, lambda m: "shed refused" in m.json()["message"])
    time.sleep(0.5)
    assert not fake.calls("POST", "/1/thermostat")


def test_max_shed_time_ends_a_standing_shed(fake, agent_config, service_factory, scheduler, user_probe):
    service_factory("ecobee_agent", agent_config(max_shed_minutes=0.03))  # 1.8 s
    state(user_probe, lambda s: s["connected"])
    shed(scheduler, lease_s=30)
    wait(lambda: fake.hold_of(), what="hold")
    s = state(user_probe, lambda s: not s["shed"] and (s["shed_refused"] or {}).get("code") == "refused:too_long",
              timeout=6)
    assert "max_shed_minutes" in s["shed_refused"]["text"]
    assert fake.hold_of() is None and fake.calls("POST", "/1/thermostat", "resumeProgram")
    shed(scheduler, lease_s=30)  # the same standing shed renewed: still refused
    time.sleep(0.3)
    assert len(fake.calls("POST", "/1/thermostat", "setHold")) == 1


def test_clean_stop_resumes_the_program_at_once(fake, agent_config, service_factory, scheduler, user_probe):
    agent = service_factory("ecobee_agent", agent_config(hold_minutes=5))
    state(user_probe, lambda s: s["connected"])
    shed(scheduler, lease_s=60)
    wait(lambda: fake.hold_of(), what="hold")
    user_probe.on_topic(ACTIVITY, lambda m: "hold set" in m.json()["message"])
    assert agent.stop() == 0  # SIGTERM, as docker stop sends
    assert fake.hold_of() is None and fake.calls("POST", "/1/thermostat", "resumeProgram")


def test_a_persons_own_hold_is_reported_and_not_overridden(fake, agent_config, service_factory, scheduler, user_probe):
    fake.user_hold(heat=680, cool=780)  # set in the ecobee app
    service_factory("ecobee_agent", agent_config())
    s = state(user_probe, lambda s: s["hold"] is not None)
    assert s["hold"]["by"] == "other" and s["hold"]["heat_f"] == 68.0 and not s["shed"]
    shed(scheduler)
    s = state(user_probe, lambda s: s["shed_refused"] is not None)
    assert s["shed_refused"]["code"] == "refused:user_hold"
    time.sleep(0.3)
    assert not fake.calls("POST", "/1/thermostat") and fake.hold_of()["heatHoldTemp"] == 680
