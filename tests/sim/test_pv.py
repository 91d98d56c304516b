"""The PV model against pvlib's own PVWatts ModelChain, over a typical year at both sites."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sim.simulate.house.pv import pv_ac_w, pvwatts_reference_kwh
from sim.simulate.house.weather import WeatherError, minute_weather, read_weather
from sim.simulate.spec import PVSpec

PV = PVSpec(dc_w=5250, tilt_deg=20, azimuth_deg=180, inverter_w=None, losses_pct=14)
STEP_MIN = 10  # the same method at 10-minute steps keeps the yearly test fast


@pytest.mark.parametrize("site", ["greensboro", "sandpoint"])
def test_annual_yield_within_10_percent_of_pvwatts(site):
    w = read_weather(site)
    n = 365 * 24 * 60 // STEP_MIN
    mw = minute_weather(w, datetime(2025, 1, 1, tzinfo=timezone.utc), n, seed=1, step_min=STEP_MIN)
    ours = pv_ac_w(PV, mw).sum() * STEP_MIN / 60 / 1000  # kWh
    ref = pvwatts_reference_kwh(PV, w)
    assert abs(ours - ref) <= 0.10 * ref, (site, ours, ref)
    assert (600 if site == "sandpoint" else 1100) < ref / 5.25 < 1600  # kWh/kWp a year, plausible


def test_inverter_clips_and_night_is_dark():
    w = read_weather("greensboro")
    mw = minute_weather(w, datetime(2025, 6, 1, 4, tzinfo=timezone.utc), 3 * 1440, seed=1)
    clipped = pv_ac_w(PVSpec(5250, 20, 180, 3000, 14), mw)
    assert clipped.max() <= 3000 + 1e-6 and clipped.max() > 2900
    assert (clipped[mw["zenith"] > 95] == 0).all()


def test_unknown_weather_names_what_was_asked(tmp_path):
    with pytest.raises(WeatherError, match="nowhere"):
        read_weather("nowhere")
    bad = tmp_path / "bad.csv"
    bad.write_text("time,ghi\n2025-01-01T01:00-05:00,0\n")
    with pytest.raises(WeatherError, match="latitude"):
        read_weather(str(bad))
