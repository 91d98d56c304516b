"""DST days in America/New_York: calendar hours and runtime plans count real hours."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.scheduler.policy import Policy

from .harness import Sim, at, config, observed, relay

NY = ZoneInfo("America/New_York")
UTC = timezone.utc
WHN, POOL = "water_heater_north", "pool_pump"


@pytest.mark.parametrize("day, hours", [
    ("2026-11-01", 7.0),  # fall back: 00:00-06:00 local lasts 7 real hours
    ("2026-03-08", 5.0),  # spring forward: 5 real hours
    ("2026-07-01", 6.0),
])
def test_calendar_overlap_counts_real_hours_on_dst_days(day, hours):
    cfg = config({WHN: relay(50)}, site={"timezone": "America/New_York"},
                 scheduler={"calendars": {"b": [{"start": "00:00", "end": "06:00"}]}})
    cal = Policy(cfg).calendars
    a = datetime.fromisoformat(day + "T00:00").replace(tzinfo=NY) - timedelta(hours=1)
    assert cal.overlap_s(["b"], a, a + timedelta(hours=12)) == pytest.approx(hours * 3600)


@pytest.mark.parametrize("tz", [UTC, NY])  # the service's clock is UTC; a local `now` works too
def test_daily_runtime_is_met_on_the_fall_back_night(tz):
    # 2026-11-01 in New York: 01:00-02:00 happens twice. The pump needs 3.25 h in 00:00-09:00
    # with a block 00:30-06:00 (6.5 real hours). Real free time 0.5 h + 3 h: it must start
    # by 00:15; planning with wall-clock hours (5.5 h blocked) would start it too late.
    pool = relay(10, runtime={"hours": 3.25, "window": "w", "margin_min": 0}, block=["b"])
    cfg = config({"kitchen": observed(100, 4000), POOL: pool}, site={"timezone": "America/New_York"},
                 scheduler={"calendars": {"w": [{"start": "00:00", "end": "09:00"}],
                                          "b": [{"start": "00:30", "end": "06:00"}]}})
    sim = Sim(cfg, at("2026-11-01T03:00").astimezone(tz))  # 23:00 EDT the evening before
    sim.observed["kitchen"] = 6000  # the queue never gives it a slot: only the plan can
    sim.demand = {POOL: 1500}
    sim.run_until(at("2026-11-01T09:00", NY))
    assert sim.st.loads[POOL].runtime_s >= 3.25 * 3600 - 120
