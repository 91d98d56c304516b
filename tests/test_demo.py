"""`make demo` stays true: the whole fleet comes up on simulated hardware and decides things."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from circuitq import SERVICES

ROOT = Path(__file__).resolve().parent.parent


def test_demo_runs_the_whole_fleet_and_stops_cleanly(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sim.demo", "--port", "0", "--web-port", "0", "--duration", "25",
                        "--table-s", "10", "--run-dir", str(tmp_path / "demo")],
                       cwd=ROOT, capture_output=True, text=True, timeout=180)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    last_table = out.rsplit("load                 mode", 1)[-1]
    online = last_table.split("online: ", 1)[1].splitlines()[0]
    assert online.split(", ") == sorted(SERVICES)
    assert "the page: http://127.0.0.1:" in out and "(log in as household / " in out
    for load in ("water_heater_north", "water_heater_south", "pool_pump", "heat_pump_south"):
        assert f"\n{load} " in last_table, f"no state for {load}"
    assert "relays: " in last_table and "water_heater_north=" in last_table and "aircon=DRM" in last_table
    assert "from envoy" in last_table  # production flows from the fake gateway
    assert "exit 0" in out.splitlines()[-1] and "exit 1" not in out.splitlines()[-1]
