"""The core must replay a month of minute data in seconds (the simulator's budget)."""
import time
from datetime import datetime, timedelta

from circuitq.config import load_config
from services.scheduler import model as m
from services.scheduler.core import decide
from services.scheduler.policy import new_state

from .test_seeds import EXAMPLES, NY, between, summer_sun


def test_a_week_of_minute_readings_decides_fast():
    cfg = load_config(EXAMPLES.parent / "example.yaml", env={})
    start = datetime(2026, 7, 1, tzinfo=NY)
    st = new_state(cfg, start)
    kitchen = between(17.5, 18.5, NY, 5200, 300)
    hpn = between(13, 17, NY, 3200, 50)
    n = 0
    t0 = time.perf_counter()
    for minute in range(7 * 24 * 60):
        now = start + timedelta(minutes=minute)
        while st.next_wake is not None and st.next_wake < now:  # the timers in between
            st, _ = decide(st.next_wake, st, m.Tick())
            n += 1
        w = summer_sun(now)
        circuits = {"kitchen": kitchen(now), "heat_pump_north": hpn(now), "dryer": 0.0,
                    "heat_pump_south": 0.0, "pool_pump": 1500.0 if st.loads["pool_pump"].permitted else 0.0,
                    "water_heater_north": 0.0, "water_heater_south": 0.0}
        st, _ = decide(now, st, m.Batch([m.Solar(w, now), m.Reading(circuits, now)]))
        n += 1
    elapsed = time.perf_counter() - t0
    rate = n / elapsed
    print(f"\n{n} decisions in {elapsed:.2f} s: {rate:,.0f} decisions/s")
    # a month of minute data (~60,000 decisions with the timers) in seconds, on a busy 2-core box
    assert rate > 3000
