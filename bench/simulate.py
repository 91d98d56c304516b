"""The house simulator: a 30-day month of the circuitq policy at 1-minute steps (goal <= 5 s).

The example house (config/example.yaml), Greensboro NC in July, seed 1: the real scheduler
core and relay agent core decide on every minute's Curb reading and every timer. Beside it,
its floors: the same month's physics alone (the no-control policy, no core) and building the
weather, PV and household series (once per run, shared by every policy).
"""
from __future__ import annotations

import time
from pathlib import Path

from circuitq.config import load_config
from sim.simulate.build import build
from sim.simulate.policies import CoreController, NoControl
from sim.simulate.runner import run as run_policy

ROOT = Path(__file__).resolve().parent.parent


def month(days: int = 30, site: str = "greensboro", month_no: int = 7):
    cfg = load_config(ROOT / "config" / "example.yaml", env={})
    t0 = time.perf_counter()
    cfg, spec, exo = build(cfg, site, None, month_no, days, 1)
    build_s = time.perf_counter() - t0
    nc = NoControl(spec, exo)
    nc.name = "no_control"
    floor = run_policy(nc, spec, exo)
    tr = run_policy(CoreController("circuitq", cfg, spec, exo), spec, exo)
    return build_s, floor, tr


def run() -> list[tuple[str, str]]:
    build_s, floor, tr = month()
    own = tr.elapsed_s - tr.core_s
    return [
        ("30 days, circuitq policy, 1-minute physics (goal <= 5 s)",
         f"{tr.elapsed_s:.1f} s: {tr.decisions:,} core decisions in {tr.core_s:.1f} s "
         f"({tr.decisions / tr.core_s:,.0f} decisions/s, {tr.core_s / tr.decisions * 1e6:.0f} µs each), "
         f"the simulator's own loop, physics and relay agent core {own:.1f} s"),
        ("floor: the same month's physics alone (no control, no core)", f"{floor.elapsed_s:.2f} s"),
        ("floor: weather, PV (pvlib) and household series, once per run", f"{build_s:.2f} s"),
    ]


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
