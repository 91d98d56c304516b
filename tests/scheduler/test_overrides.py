"""Rule 8: override parsing (text and JSON, limits, errors) and override behaviour in the
core: it wins over policy, and when it ends the load is re-evaluated at that very moment."""
from datetime import timedelta

import pytest

from services.scheduler import model as m
from services.scheduler.overrides import OverrideError, parse

from .harness import Sim, at, config, observed, relay

NOW = at("2026-07-01T12:00")
WHN = "water_heater_north"
CFG = config({WHN: relay(50, override_default_min=120, override_max_min=600), "kitchen": observed(90, 4000)},
             drm={"steps": [{"below_w": 400, "mode": 2}, {"below_w": 700, "mode": 3}],
                  "override_default_min": 60, "override_max_min": 240})


@pytest.mark.parametrize("payload, mode, minutes", [
    ("ON", "on", 120), ("  off\n", "off", 120), ("Auto", "auto", None), ("oN", "on", 120),
    ('{"mode": "on", "minutes": 90}', "on", 90),
    ('{"mode": "OFF", "minutes": 30}', "off", 30),
    ('{"mode": "on", "until": "2026-07-01T14:00:00+02:00"}', "on", 0),  # 12:00 UTC + 0: rejected below
    ('{"mode": "off", "until": "2026-07-01T13:30:00+00:00"}', "off", 90),
    ('{"mode": "auto"}', "auto", None),
])
def test_load_override_parsing(payload, mode, minutes):
    if minutes == 0:
        with pytest.raises(OverrideError, match="in the past"):
            parse(CFG, "load", WHN, payload.encode(), NOW)
        return
    ov = parse(CFG, "load", WHN, payload.encode(), NOW)
    assert ov.mode == mode
    assert ov.until == (None if minutes is None else NOW + timedelta(minutes=minutes))


@pytest.mark.parametrize("target, name, payload, error", [
    ("load", "garage", "ON", "unknown load 'garage'"),
    ("load", "kitchen", "ON", "observed only"),
    ("load", WHN, "MAYBE", "expected ON, OFF or AUTO"),
    ("load", WHN, "", "empty payload"),
    ("load", WHN, '{"mode": "on", "minutes": 601}', "longer than the maximum 600 min"),
    ("load", WHN, '{"mode": "on", "until": "2026-07-01T11:00:00+00:00"}', "in the past"),
    ("load", WHN, '{"mode": "on", "until": "2026-07-01T13:00:00"}', "until"),  # no UTC offset
    ("load", WHN, '{"mode": "on", "minutes": -5}', "minutes"),
    ("load", WHN, '{"mode": "on", "minutes": 0}', "minutes"),
    ("load", WHN, '{"mode": "on", "minutes": NaN}', "minutes: Input should be a finite number"),
    ("load", WHN, '{"mode": "on", "minutes": Infinity}', "minutes: Input should be a finite number"),
    ("load", WHN, '{"mode": "on", "minutes": 1e400}', "minutes: Input should be a finite number"),
    ("load", WHN, '{"mode": "on", "minutes": true}', "minutes: a number of minutes, not true/false"),
    ("load", WHN, '{"mode": "on", "minutes": 1e-9}', "at least 1 s"),  # accepted, but ended at once
    ("load", WHN, '{"mode": "on", "until": "2026-07-01T12:00:00.2+00:00"}', "at least 1 s"),
    ("load", WHN, '{"mode": "on", "until": "9999-12-31T23:59:59+00:00"}', "longer than the maximum 600 min"),
    ("load", WHN, '{"mode": "on", "minutes": 5, "until": "2026-07-01T13:00:00+00:00"}', "not both"),
    ("load", WHN, '{"mode": "on", "mintues": 5}', "unknown key"),
    ("drm", "aircon", '{"mode": true}', "not true/false"),
    ("load", WHN, '{"mode": "on"', "not valid JSON"),
    ("load", WHN, '{"mode": "auto", "minutes": 5}', "AUTO takes no duration"),
    ("load", WHN, '{"minutes": 5, "until": "2026-07-01T13:00:00+00:00"}', "needs a 'mode'"),
    ("drm", "aircon", "1", "wired DRM mode 0/2/3"),  # dreadpi wiring has no DRM1
    ("drm", "pool", "2", "unknown DRM output"),
    ("drm", "aircon", '{"mode": 2, "minutes": 300}', "maximum 240 min"),
])
def test_rejected_overrides_say_why(target, name, payload, error):
    with pytest.raises(OverrideError, match=error):
        parse(CFG, target, name, payload.encode(), NOW)


def test_drm_override_parsing():
    assert parse(CFG, "drm", "aircon", b" 2 ", NOW).mode == 2
    assert parse(CFG, "drm", "aircon", b"3", NOW).until == NOW + timedelta(minutes=60)
    assert parse(CFG, "drm", "aircon", b'{"mode": "0", "minutes": 10}', NOW).mode == 0
    assert parse(CFG, "drm", "aircon", b"AUTO", NOW).mode == "auto"


def test_override_wins_then_expiry_reevaluates_at_that_moment():
    cfg = config({WHN: relay(50, block=["peak"])},
                 scheduler={"calendars": {"peak": [{"start": "11:00", "end": "19:00"}]}})
    sim = Sim(cfg, NOW, step_s=3600)  # readings are rare: only the timer can be on time
    sim.run(60)
    assert not sim.permitted(WHN)
    sim.override(WHN, "on", minutes=30)
    assert sim.permitted(WHN) and sim.code(WHN) == "override:on"
    assert sim.st.loads[WHN].next_change == NOW + timedelta(seconds=60, minutes=30)
    sim.run(3600)
    sw = sim.relay_switches(WHN)
    assert [s for _, s in sw] == ["off", "on", "off"]
    assert sw[-1][0] == NOW + timedelta(seconds=60, minutes=30)  # exactly at the end, not later
    assert sim.code(WHN) == "blocked:peak"
    assert any("override ON ended" in a for a in sim.activity())


def test_override_off_beats_a_forced_window_and_auto_cancels():
    cfg = config({WHN: relay(50, force=["shower"])},
                 scheduler={"calendars": {"shower": [{"start": "12:00", "end": "13:00"}]}})
    sim = Sim(cfg, NOW)
    sim.run(60)
    assert sim.code(WHN) == "forced:shower"
    sim.override(WHN, "off", minutes=600)
    assert not sim.permitted(WHN) and sim.code(WHN) == "override:off"
    sim.run(600)
    sim.event(m.Override("load", WHN, "auto"))
    assert sim.permitted(WHN) and sim.code(WHN) == "forced:shower"


def test_a_short_on_override_is_not_stretched_by_the_policy_minimum_run_time():
    cfg = config({WHN: relay(50, block=["peak"], min_on_s=1800)},
                 scheduler={"calendars": {"peak": [{"start": "11:00", "end": "19:00"}]}})
    sim = Sim(cfg, NOW)
    sim.run(60)
    sim.override(WHN, "on", minutes=5)
    sim.run(5 * 60 + 1)
    assert not sim.permitted(WHN) and sim.code(WHN) == "blocked:peak"


def test_when_policy_takes_over_after_an_on_its_minimum_run_time_holds_again():
    # ON for 5 min inside a sunny window; the policy keeps it on after the override; a cloud
    # a minute later must not stop it before min_on_s (counted from when it was switched on)
    cals = {"sun": [{"start": "06:00", "end": "18:00"}]}
    cfg = config({WHN: relay(50, solar={"window": "sun", "threshold_w": 3000}, min_on_s=1800)},
                 scheduler={"calendars": cals, "data": {"solar_average_s": 60}, "startup_grace_s": 5})
    sim = Sim(cfg, NOW, solar=500)
    sim.demand = {WHN: 4500}
    sim.run(600)
    assert not sim.permitted(WHN)
    sim.solar = 5000
    sim.override(WHN, "on", minutes=5)
    sim.run(6 * 60)
    assert sim.permitted(WHN) and sim.code(WHN) == "permitted"
    sim.solar = 500
    sim.run(10 * 60)
    assert sim.permitted(WHN) and sim.code(WHN) == "holding:min_on"
    sim.run(20 * 60)
    assert not sim.permitted(WHN) and sim.code(WHN) == "blocked:solar"
