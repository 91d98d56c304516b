"""Regenerate the results tables in docs/simulate.md (`make simulate-docs`).

Both built-in sites, January and July, 30 days, seed 1, every policy, with the shipped
example house (config/example.yaml). Each run also leaves its JSON and plots under
run/simulate-docs/<site>-<month>/. The tables go between the markers in docs/simulate.md.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from .cli import POLICIES
from .cli import main as simulate_main

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "simulate.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
RUNS = [("greensboro", 1), ("greensboro", 7), ("sandpoint", 1), ("sandpoint", 7)]


def _head() -> str:
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def command(site: str, month: int, out: Path, days: int, seed: int) -> list[str]:
    return ["--config", "config/example.yaml", "--site", site, "--month", str(month), "--days", str(days),
            "--seed", str(seed), "--policies", ",".join(POLICIES), "--out", str(out)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "run" / "simulate-docs"))
    a = ap.parse_args(argv)
    parts = []
    for site, month in RUNS:
        out = Path(a.out) / f"{site}-{month:02d}"
        args = command(site, month, out, a.days, a.seed)
        print("python -m sim.simulate " + " ".join(args), file=sys.stderr, flush=True)
        rc = simulate_main(args)
        if rc:
            return rc
        table = (out / "results.md").read_text().strip()
        parts.append(f"{table}\n\n`python -m sim.simulate {' '.join(args[:-2])}`\n")
    text = DOC.read_text()
    stamp = f"_Made {date.today()} at commit {_head()}._\n\n"
    block = f"{START}\n{stamp}" + "\n".join(parts) + f"{END}"
    new, n = re.subn(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    if n != 1:
        print(f"{DOC}: the markers {START} ... {END} are missing", file=sys.stderr)
        return 2
    DOC.write_text(new)
    print(f"updated {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
