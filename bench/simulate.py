"""The house simulator: a 30-day month of the circuitq policy at 1-minute steps (goal <= 5 s).

The example house (config/example.yaml), Greensboro NC in July, seed 1: the real scheduler
core and relay agent core decide on every minute's Curb reading and every timer. Beside it,
its floors: the same month's physics alone (the no-control policy, no core) and building the
weather, PV and household series (once per run, shared by every policy). The core's time is
split into the planner's (planner.update: learning, plans, verdicts) and the rest.

The scheduler's memory (goal RSS <= 80 MB): the month's decisions replayed in a process with
the live scheduler service's modules only (no simulator, pvlib or pandas), its peak RSS beside
the same process's RSS before the first decision (the floor: Python and the modules).
"""
from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def _recorded(stream: list, planner_s: list):
    """Record the core's (now, event) inputs, and time planner.update, during a run."""
    from services.scheduler import planner
    from sim.simulate import policies
    decide, update = policies.decide, planner.update

    def timed_update(*args):
        t = time.perf_counter()
        update(*args)
        planner_s[0] += time.perf_counter() - t

    def recording_decide(now, st, event):
        stream.append((now, event))
        return decide(now, st, event)
    policies.decide, planner.update = recording_decide, timed_update
    try:
        yield
    finally:
        policies.decide, planner.update = decide, update


def month(days: int = 30, site: str = "greensboro", month_no: int = 7):
    from circuitq.config import load_config
    from sim.simulate.build import build
    from sim.simulate.policies import CoreController, NoControl
    from sim.simulate.runner import run as run_policy
    cfg = load_config(ROOT / "config" / "example.yaml", env={})
    t0 = time.perf_counter()
    cfg, spec, exo = build(cfg, site, None, month_no, days, 1)
    build_s = time.perf_counter() - t0
    nc = NoControl(spec, exo)
    nc.name = "no_control"
    floor = run_policy(nc, spec, exo)
    stream, planner_s = [], [0.0]
    cpu = time.process_time()
    with _recorded(stream, planner_s):
        tr = run_policy(CoreController("circuitq", cfg, spec, exo), spec, exo)
    tr.cpu_s = time.process_time() - cpu  # on a shared machine, wall time also counts others' turns
    return build_s, floor, tr, planner_s[0], (cfg, exo.t0, stream)


def scheduler_rss(cfg, t0, stream) -> tuple[float, float]:
    """(MiB before the first decision, peak MiB after the month) of a process that imports the
    live scheduler service and replays the month's decisions."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "stream.pickle"
        with path.open("wb") as f:  # one event at a time: the replay holds one at a time too
            pickle.dump((cfg, t0, len(stream)), f)
            for item in stream:
                pickle.dump(item, f)
        out = subprocess.run([sys.executable, "-m", "bench.simulate", "--replay", str(path)], cwd=ROOT,
                             capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"the replay failed: {out.stderr.strip()[-2000:]}")
    before, peak = (float(x) for x in out.stdout.split())
    return before, peak


def _replay(path: str) -> None:
    """The child: the scheduler service's modules, then the month's decisions."""
    import services.scheduler.service  # noqa: F401  (what the live process has loaded)
    from services.scheduler.core import decide
    from services.scheduler.policy import new_state

    def mib(key: str) -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        return 0.0
    with open(path, "rb") as f:
        cfg, t0, n = pickle.load(f)
        st = new_state(cfg, t0)
        before = mib("VmRSS")
        for _ in range(n):
            now, event = pickle.load(f)
            st, _cmds = decide(now, st, event)
    print(f"{before:.1f} {mib('VmHWM'):.1f}")


def run() -> list[tuple[str, str]]:
    build_s, floor, tr, planner_s, (cfg, t0, stream) = month()
    own = tr.elapsed_s - tr.core_s
    rest = tr.core_s - planner_s
    before, peak = scheduler_rss(cfg, t0, stream)
    return [
        ("30 days, circuitq policy, 1-minute physics (goal <= 5 s)",
         f"{tr.elapsed_s:.1f} s: {tr.decisions:,} core decisions in {tr.core_s:.1f} s "
         f"({tr.decisions / tr.core_s:,.0f} decisions/s, {tr.core_s / tr.decisions * 1e6:.0f} µs each), "
         f"the simulator's own loop, physics and relay agent core {own:.1f} s; "
         f"CPU time of the run {tr.cpu_s:.1f} s (the rest of the wall time: other processes' turns)"),
        ("the core's time: the planner (learning, plans, verdicts) and the rest",
         f"planner {planner_s:.1f} s ({planner_s / tr.core_s:.0%}, {planner_s / tr.decisions * 1e6:.0f} µs a "
         f"decision); rules, queue, outputs {rest:.1f} s ({rest / tr.decisions * 1e6:.0f} µs a decision)"),
        ("floor: the same month's physics alone (no control, no core)", f"{floor.elapsed_s:.2f} s"),
        ("floor: weather, PV (pvlib) and household series, once per run", f"{build_s:.2f} s"),
        ("scheduler RSS after the month's decisions (goal <= 80 MB; the service's modules, no simulator)",
         f"peak {peak:.1f} MiB; floor: {before:.1f} MiB with the modules loaded, before the first decision"),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--replay"]:
        _replay(sys.argv[2])
    else:
        for name, value in run():
            print(f"{name}: {value}")
