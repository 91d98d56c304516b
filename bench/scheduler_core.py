"""Scheduler core replaying a month of minute data: the simulator's budget ("a month in seconds").

The example house (config/example.yaml), July in New York: a clear-sky sun, a kitchen peak
every evening, the north heat pump in the afternoon, the pool pump drawing while permitted.
Every timer the core asks for (next_wake) is replayed too, as the live service would.
"""
from __future__ import annotations

import math
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from circuitq.config import load_config
from services.scheduler import model as m
from services.scheduler.core import decide
from services.scheduler.policy import new_state

ROOT = Path(__file__).resolve().parent.parent
NY = ZoneInfo("America/New_York")


def _sun_w(now: datetime) -> float:
    h = now.astimezone(NY).hour + now.minute / 60
    return max(0.0, math.sin(math.pi * (h - 6.5) / 13)) * 5000 if 6.5 < h < 19.5 else 0.0


def _hour(now: datetime) -> float:
    local = now.astimezone(NY)
    return local.hour + local.minute / 60


def replay(days: int = 30) -> tuple[int, float, int]:
    cfg = load_config(ROOT / "config" / "example.yaml", env={})
    start = datetime(2026, 7, 1, tzinfo=NY)
    st = new_state(cfg, start)
    decisions, commands = 0, 0
    t0 = time.perf_counter()
    for minute in range(days * 24 * 60):
        now = start + timedelta(minutes=minute)
        while st.next_wake is not None and st.next_wake < now:
            st, cmds = decide(st.next_wake, st, m.Tick())
            decisions += 1
        h = _hour(now)
        circuits = {"kitchen": 5200.0 if 17.5 <= h < 18.5 else 300.0,
                    "heat_pump_north": 3200.0 if 13 <= h < 17 else 50.0, "dryer": 0.0,
                    "heat_pump_south": 0.0,
                    "pool_pump": 1500.0 if st.loads["pool_pump"].permitted else 0.0,
                    "water_heater_north": 4500.0 if st.loads["water_heater_north"].permitted else 0.0,
                    "water_heater_south": 0.0}
        st, cmds = decide(now, st, m.Batch([m.Solar(_sun_w(now), now), m.Reading(circuits, now)]))
        decisions += 1
        commands += sum(1 for c in cmds if isinstance(c, m.RelayCmd))
    return decisions, time.perf_counter() - t0, commands


def run() -> list[tuple[str, str]]:
    decisions, elapsed, commands = replay(30)
    tracemalloc.start()
    replay(1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return [
        ("30 days of minute readings + timers", f"{decisions:,} decisions in {elapsed:.1f} s "
                                                 f"({decisions / elapsed:,.0f} decisions/s, "
                                                 f"{elapsed / decisions * 1e6:.0f} µs each)"),
        ("relay commands in those 30 days (changes and lease renewals)", f"{commands:,}"),
        ("peak Python memory replaying one day", f"{peak / 1024:.0f} KiB"),
    ]


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
