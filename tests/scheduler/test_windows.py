"""Rules 4 and 5: calendars (night, seasonal peak, weekdays, holidays, forced windows) and
the solar gate, on the pure core with local time = site.timezone."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from circuitq.config.scheduler import Window
from services.scheduler.calendars import Calendars

from .harness import Sim, at, config, relay

NY = ZoneInfo("America/New_York")
WHN = "water_heater_north"
CALS = {
    "night": [{"start": "23:00", "end": "11:00"}],
    "peak": [{"start": "14:00", "end": "19:00", "days": "weekdays", "months": [6, 7, 8, 9]},
             {"start": "06:00", "end": "09:00", "days": "weekdays", "months": [12, 1, 2, 3]}],
    "shower": [{"start": "05:00", "end": "06:00", "days": "weekdays"}],
    "solar_hours": [{"start": "06:00", "end": "14:00", "days": "weekdays"}],
    "always": [{"start": "00:00", "end": "00:00"}],
}


def cals() -> Calendars:
    return Calendars({k: [Window.model_validate(w) for w in v] for k, v in CALS.items()}, NY, "US", "SC")


@pytest.mark.parametrize("when, name, inside, until", [
    ("2026-07-01T23:30", "night", True, "2026-07-02T11:00"),
    ("2026-07-01T10:59", "night", True, "2026-07-01T11:00"),   # the tail of the night that began yesterday
    ("2026-07-01T11:00", "night", False, "2026-07-01T23:00"),
    ("2026-07-01T15:00", "peak", True, "2026-07-01T19:00"),    # summer weekday afternoon
    ("2026-01-14T15:00", "peak", False, "2026-01-15T06:00"),   # winter: mornings instead
    ("2026-01-14T07:00", "peak", True, "2026-01-14T09:00"),
    ("2026-07-04T15:00", "peak", False, "2026-07-06T14:00"),   # Saturday (and Independence Day)
    ("2026-09-07T15:00", "peak", False, "2026-09-08T14:00"),   # Labor Day Monday counts as a weekend
    ("2026-07-06T05:30", "shower", True, "2026-07-06T06:00"),  # Monday
    ("2026-07-05T05:30", "shower", False, "2026-07-06T05:00"), # Sunday
    ("2026-03-08T01:30", "always", True, None),                # all day, every day: no boundary
])
def test_calendar_status(when, name, inside, until):
    got = cals().status(name, datetime.fromisoformat(when).replace(tzinfo=NY))
    assert got[0] == inside
    assert got[1] == (datetime.fromisoformat(until).replace(tzinfo=NY) if until else None)


def test_dst_boundaries_are_local_time():
    c = cals()
    # 2026-03-08: clocks jump 02:00 -> 03:00 in New York; night still ends at 11:00 local
    inside, until = c.status("night", datetime(2026, 3, 8, 1, 0, tzinfo=NY))
    assert inside and until.astimezone(NY).hour == 11 and until.astimezone(NY).utcoffset() == timedelta(hours=-4)
    assert until == datetime(2026, 3, 8, 15, 0, tzinfo=timezone.utc)  # 11:00 EDT, the instant


def test_holidays_use_site_country_and_subdivision():
    c = cals()
    assert c.is_weekend(date(2026, 9, 7))       # Labor Day
    assert not c.is_weekend(date(2026, 9, 8))


def house(**load):
    return config({WHN: relay(50, **load)}, scheduler={"calendars": CALS},
                  site={"timezone": "America/New_York", "subdivision": "SC"})


@pytest.mark.parametrize("when, load, expect_code", [
    ("2026-07-01T02:00", {"block": ["night", "peak"]}, "blocked:night"),
    ("2026-07-01T15:00", {"block": ["night", "peak"]}, "blocked:peak"),
    ("2026-07-01T12:00", {"block": ["night", "peak"]}, "permitted"),
    ("2026-07-04T15:00", {"block": ["night", "peak"]}, "permitted"),           # holiday: no peak
    ("2026-01-14T15:00", {"block": ["night", "peak"]}, "permitted"),           # winter afternoon
    ("2026-07-06T05:30", {"block": ["night"], "force": ["shower"]}, "forced:shower"),
    ("2026-07-05T05:30", {"block": ["night"], "force": ["shower"]}, "blocked:night"),  # Sunday
    ("2026-07-01T20:00", {"only": ["solar_hours"]}, "blocked:outside"),
])
def test_windows_decide(when, load, expect_code):
    sim = Sim(house(**load), at(when, NY))
    sim.demand = {WHN: 4500}
    sim.run(300)
    assert sim.code(WHN) == expect_code
    assert sim.permitted(WHN) == (expect_code in ("permitted", "forced:shower"))


def test_peak_reason_names_the_end_and_the_boundary_is_met_to_the_second():
    sim = Sim(house(block=["peak"]), at("2026-07-01T18:50", NY), step_s=3600)  # no reading in between
    sim.run(60)
    lt = sim.st.loads[WHN]
    assert lt.code == "blocked:peak" and "until 19:00" in lt.text
    assert lt.next_change == at("2026-07-01T19:00", NY)
    sim.run(20 * 60)
    on = [t for t, s in sim.relay_switches(WHN) if s == "on"]
    assert on == [at("2026-07-01T19:00", NY)]  # a timer, not the next reading


SOLAR = {"window": "solar_hours", "threshold_w": 4000, "hysteresis_w": 300,
         "seasonal": [{"months": [3, 4, 5, 6, 7, 8, 9, 10], "threshold_w": 5000}]}


@pytest.mark.parametrize("when, production, permitted", [
    ("2026-07-01T09:00", 5200, True),
    ("2026-07-01T09:00", 4600, False),   # summer threshold 5000 W
    ("2026-01-14T10:00", 4600, True),    # winter threshold 4000 W
    ("2026-07-01T15:00", 0, True),       # outside the gate window: no gate
    ("2026-07-04T09:00", 0, True),       # the gate is a weekday rule; July 4th is a holiday
])
def test_solar_gate(when, production, permitted):
    sim = Sim(house(solar=SOLAR), at(when, NY), solar=production)
    sim.run(900)
    assert sim.permitted(WHN) == permitted
    if not permitted:
        assert sim.code(WHN) == "blocked:solar" and "solar 4600 W (10-min average)" in sim.st.loads[WHN].text
        assert "it starts from 5000 W" in sim.st.loads[WHN].text


def test_solar_gate_uses_a_rolling_average_with_hysteresis():
    sim = Sim(house(solar=SOLAR), at("2026-07-01T08:00", NY), solar=5500)
    sim.run(900)
    assert sim.permitted(WHN)
    sim.solar = 3000  # one cloud for two minutes: the 10-min average stays above 4700 W
    sim.run(120)
    sim.solar = 5500
    sim.run(600)
    assert sim.permitted(WHN)
    sim.solar = 4800  # between threshold - hysteresis and threshold: stays open
    sim.run(1800)
    assert sim.permitted(WHN)
    sim.solar = 2000
    sim.run(900)
    assert not sim.permitted(WHN) and sim.code(WHN) == "blocked:solar"
    assert len(sim.relay_switches(WHN)) == 2


def test_the_solar_gate_closes_with_its_window_even_while_an_override_decides():
    # open at 13:00; a user's OFF until the next morning means the gate rule is not asked at
    # the 14:00 window end. The next morning it must open at its threshold (5000 W), not at
    # threshold - hysteresis (4700 W) as if yesterday's open gate had carried over.
    sim = Sim(house(solar=SOLAR, override_max_min=1440), at("2026-07-01T12:00", NY), solar=6000)
    sim.demand = {WHN: 4500}
    sim.run(3600)
    assert sim.permitted(WHN)
    sim.override(WHN, "off", minutes=18 * 60)  # until 07:00
    sim.solar = 4800
    sim.run_until(at("2026-07-02T08:00", NY))
    assert not sim.permitted(WHN) and sim.code(WHN) == "blocked:solar"


@pytest.mark.parametrize("stale, permitted", [("windows", True), ("off", False)])
def test_solar_gate_without_fresh_solar_data_follows_the_stale_behaviour(stale, permitted):
    sim = Sim(house(solar=SOLAR, stale=stale), at("2026-07-01T09:00", NY))  # no solar readings at all
    sim.demand = {WHN: 4500}
    sim.run(1200)
    assert sim.permitted(WHN) == permitted
    assert sim.code(WHN) == ("permitted" if permitted else "fallback:off")


def test_overlap_counts_overlapping_calendars_once():
    c = Calendars({"a": [Window.model_validate({"start": "10:00", "end": "14:00"})],
                   "b": [Window.model_validate({"start": "12:00", "end": "16:00"})]}, NY)
    a = datetime(2026, 7, 1, 9, 0, tzinfo=NY)
    assert c.overlap_s(["a", "b"], a, a + timedelta(hours=6)) == 5 * 3600  # 10:00-15:00, not 4 h + 3 h
