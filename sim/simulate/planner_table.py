"""The planner's acceptance table in docs/planner.md: 16 runs of the shipped example house.

Both built-in sites x January, April, July, October x seeds 1 and 2, 30 days each, every
policy. One row per run: what it cost beside no control and the perfect-foresight optimum,
the share of that gap it closed, and whether every promise held. Each run's full results
(JSON, markdown) stay under run/planner-table/<site>-<month>-s<seed>/.

    python -m sim.simulate.planner_table            # all 16 runs, 2 at a time (~1-2 h here)
    python -m sim.simulate.planner_table --reuse    # re-run circuitq only, keep the baselines

--reuse re-runs only the circuitq policy and takes no_control, circuitqueueing and the
optimum from the runs already on disk (they do not depend on the planner).
"""
from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from . import report

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "planner.md"
START, END = "<!-- planner-table:start -->", "<!-- planner-table:end -->"
SITES = ("greensboro", "sandpoint")
MONTHS = (1, 4, 7, 10)
SEEDS = (1, 2)
BASELINES = ("no_control", "circuitqueueing", "optimum")


def run_one(site: str, month: int, seed: int, days: int, out: Path, reuse: bool) -> dict:
    from circuitq.config import load_config

    from .cli import simulate
    path = out / f"{site}-{month:02d}-s{seed}" / "results.json"
    old = json.loads(path.read_text())["policies"] if reuse and path.exists() else {}
    policies = ["circuitq"] + [p for p in BASELINES if not (reuse and p in old and "cost" in old[p])]
    cfg = load_config(ROOT / "config" / "example.yaml", env={})
    spec, exo, _, _, results = simulate(cfg, site, None, month, days, seed, policies, progress=False,
                                        config_path="config/example.yaml")
    for p in BASELINES:
        if p not in results:
            results[p] = old[p]
    report.gap_closed(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"site": site, "month": month, "seed": seed, "days": days, "start": exo.t0.isoformat()}
    report.write_json(path, meta, results)
    return {"site": site, "month": month, "seed": seed, "results": results}


def _row(r: dict) -> str:
    res = r["results"]
    c = res["circuitq"]
    cold = sum(t["cold_l"] for t in c["tanks"].values())
    off = max(t["longest_off_h"] for t in c["tanks"].values())
    ops = max(v["max"] for v in c["relay_ops_per_day"].values())
    pool = c["pool"]
    cap = c["over_max_running_min"]
    gap = c.get("gap_closed")
    cq = res["circuitqueueing"].get("gap_closed")
    cost = " / ".join(f"{res[p]['cost']:.2f}" for p in ("circuitq", "no_control", "circuitqueueing", "optimum"))
    ok = "**yes**" if c["service_ok"] else "no"
    return (f"| {r['site']} | {r['month']:>2} | {r['seed']} | {cost} | {gap:.2f} | {cq:.2f} | {ok} | "
            f"{cold:.0f} | {off:.1f} | {pool['days_met']}/{pool['days']} ({pool['days_over']} over) | "
            f"{c['comfort']['out_min']} | {ops} | {cap['other']} ({cap['forced']} forced) |")


HEADER = ("| site | month | seed | cost: circuitq / no control / CircuitQueueing / optimum | gap closed | "
          "CQ gap closed | service_ok | cold-draw L | longest heater off h | pool days met | "
          "min outside comfort | max relay ops/day | min over the cap |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--reuse", action="store_true", help="re-run circuitq only; baselines from disk")
    ap.add_argument("--out", default=str(ROOT / "run" / "planner-table"))
    ap.add_argument("--no-doc", action="store_true", help="print the table, leave docs/planner.md alone")
    ap.add_argument("--sites", default=",".join(SITES), help="a subset of the runs (comma-separated)")
    ap.add_argument("--months", default=",".join(map(str, MONTHS)))
    ap.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    a = ap.parse_args(argv)
    out = Path(a.out)
    sites, months, seeds = a.sites.split(","), [int(x) for x in a.months.split(",")], \
        [int(x) for x in a.seeds.split(",")]
    jobs = [(s, m, seed) for s in sites for m in months for seed in seeds]
    full = len(jobs) == len(SITES) * len(MONTHS) * len(SEEDS)
    cmd = "python -m sim.simulate.planner_table" + ("" if full else
                                                     f" --sites {a.sites} --months {a.months} --seeds {a.seeds}")
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        futs = [pool.submit(run_one, s, m, seed, a.days, out, a.reuse) for s, m, seed in jobs]
        rows = []
        for f in futs:
            r = f.result()
            rows.append(r)
            print(_row(r), file=sys.stderr, flush=True)
    oks = sum(r["results"]["circuitq"]["service_ok"] for r in rows)
    gaps = [r["results"]["circuitq"]["gap_closed"] for r in rows]
    table = "\n".join([HEADER] + [_row(r) for r in rows])
    summary = (f"service_ok in {oks} of {len(rows)} runs; gap closed min {min(gaps):.2f}, "
               f"median {sorted(gaps)[len(gaps) // 2]:.2f}, max {max(gaps):.2f}.")
    block = (f"{START}\n_Made {date.today()} at commit {report.git_head(ROOT)} with "
             f"`{cmd}` ({a.days} days per run{'' if full else '; a subset of the 16 runs'})._\n\n{table}\n\n{summary}\n{END}")
    print(table + "\n\n" + summary)
    if a.no_doc:
        return 0
    return report.write_between_markers(DOC, START, END, block,
                                        None if DOC.exists() else f"# The planner\n\n{START}\n{END}\n")


if __name__ == "__main__":
    raise SystemExit(main())
