"""Regenerate the results tables in docs/simulate.md (`make simulate-docs`).

Both built-in sites, January and July, 30 days, seed 1, every policy, with the shipped
example house (config/example.yaml). Each run also leaves its JSON and plots under
run/simulate-docs/<site>-<month>/. The tables go between the markers in docs/simulate.md.
`--from run/planner-table` takes the runs python -m sim.simulate.planner_table made instead.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from . import report
from .cli import POLICIES
from .cli import main as simulate_main

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "simulate.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
RUNS = [("greensboro", 1), ("greensboro", 7), ("sandpoint", 1), ("sandpoint", 7)]


def command(site: str, month: int, out: Path, days: int, seed: int) -> list[str]:
    return ["--config", "config/example.yaml", "--site", site, "--month", str(month), "--days", str(days),
            "--seed", str(seed), "--policies", ",".join(POLICIES), "--out", str(out)]


def _from_json(path: Path, site: str, month: int, days: int, seed: int) -> str:
    """The results table of a run already made with the same house, site, month, days and seed."""
    import json

    from circuitq.config import load_config

    from .build import build
    data = json.loads(path.read_text())
    run, results = data["run"], data["policies"]
    if run.get("days") != days or run.get("seed") != seed or run.get("month") != month:
        raise SystemExit(f"{path}: made with days/seed/month {run.get('days')}/{run.get('seed')}/"
                         f"{run.get('month')}, not {days}/{seed}/{month}")
    cfg = load_config(ROOT / "config" / "example.yaml", env={})
    cfg, spec, exo = build(cfg, site, None, month, days, seed, "config/example.yaml")
    title = f"{spec.site.name}, {exo.days[0]:%B %Y}, {days} days, seed {exo.seed}"
    currency = cfg.tariff.currency if cfg.tariff else ""
    return report.markdown(results, spec, currency, title).strip()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "run" / "simulate-docs"))
    ap.add_argument("--from", dest="src", default=None, metavar="DIR",
                    help="take each run from DIR/<site>-<MM>-s<seed>/results.json where it is there "
                         "(python -m sim.simulate.planner_table runs the same ones) instead of running it")
    a = ap.parse_args(argv)
    parts = []
    for site, month in RUNS:
        out = Path(a.out) / f"{site}-{month:02d}"
        args = command(site, month, out, a.days, a.seed)
        done = Path(a.src) / f"{site}-{month:02d}-s{a.seed}" / "results.json" if a.src else None
        if done is not None and done.exists():
            table = _from_json(done, site, month, a.days, a.seed)
        else:
            print("python -m sim.simulate " + " ".join(args), file=sys.stderr, flush=True)
            rc = simulate_main(args)
            if rc:
                return rc
            table = (out / "results.md").read_text().strip()
        parts.append(f"{table}\n\n`python -m sim.simulate {' '.join(args[:-2])}`\n")
    stamp = f"_Made {date.today()} at commit {report.git_head(ROOT)}._\n\n"
    block = f"{START}\n{stamp}" + "\n".join(parts) + f"{END}"
    return report.write_between_markers(DOC, START, END, block)


if __name__ == "__main__":
    raise SystemExit(main())
