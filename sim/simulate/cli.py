"""`python -m sim.simulate` / `circuitq-simulate`: a month of the house under each policy.

    python -m sim.simulate --config config/example.yaml --site greensboro --month 1 --days 30 \\
        --seed 1 --policies circuitq,no_control,circuitqueueing,optimum --out run/simulate

Writes <out>/results.md, <out>/results.json, <out>/day.png and <out>/month.png. Same seed,
same results. See docs/simulate.md.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from circuitq.config import ConfigError, load_config
from circuitq.tariff import from_config

from . import kpi, report
from .build import build, with_site
from .house.weather import WeatherError
from .policies import CoreController, NoControl, Permits
from .prices import prices
from .runner import run

ROOT = Path(__file__).resolve().parents[2]
CIRCUITQUEUEING = ROOT / "config" / "examples" / "circuitqueueing.yaml"
POLICIES = ("circuitq", "no_control", "circuitqueueing", "optimum")


def make_controller(policy: str, cfg, spec, exo, tariff, cq_path: Path):
    """The controller of one policy, or a string saying why it cannot run."""
    if policy == "circuitq":
        return CoreController("circuitq", cfg, spec, exo)
    if policy == "no_control":
        ctl = NoControl(spec, exo)
        ctl.name = "no_control"
        return ctl
    if policy == "circuitqueueing":
        try:
            cq = with_site(load_config(cq_path, env={}), spec.site)
            return CoreController("circuitqueueing", cq, spec, exo)
        except (ConfigError, ValueError) as exc:
            return f"{cq_path.name}: {exc}"
    if policy == "optimum":
        try:
            from . import optimum
        except ImportError as exc:
            return f"sim/simulate/optimum.py is not available ({exc})"
        t = time.perf_counter()
        try:
            permits = optimum.solve(spec, exo, tariff)
        except Exception as exc:  # reported in the table and on stderr, never hidden
            return f"optimum.solve failed: {type(exc).__name__}: {exc}"
        ctl = Permits("optimum", cfg, spec, exo, permits)
        ctl.solve_s = time.perf_counter() - t
        return ctl
    raise ValueError(f"unknown policy {policy!r} (choose from {', '.join(POLICIES)})")


def simulate(cfg, site, year, month, days, seed, policies, cq_path=CIRCUITQUEUEING, progress=True,
             config_path="config"):
    """Run every policy; returns (spec, exo, prices, traces, results)."""
    cfg, spec, exo = build(cfg, site, year, month, days, seed, config_path)
    tariff = from_config(cfg)
    pr = prices(tariff, exo)
    traces, results = {}, {}
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=exo.n * len(policies), unit="min", unit_scale=True, file=sys.stderr,
                   desc="simulating", leave=False)
    for p in policies:
        ctl = make_controller(p, cfg, spec, exo, tariff, cq_path)
        if isinstance(ctl, str):
            print(f"{p}: skipped: {ctl}", file=sys.stderr)
            results[p] = {"skipped": ctl}
            if bar:
                bar.update(exo.n)
            continue
        if bar:
            bar.set_description(p)
        done = [0]

        def tick(k, done=done):
            if bar:
                bar.update(k - done[0])
            done[0] = k
        tr = run(ctl, spec, exo, progress=tick)
        traces[p] = tr
        results[p] = kpi.kpis(tr, spec, exo, pr)
        results[p]["sim_s"] = round(tr.elapsed_s, 2)
        results[p]["core_s"] = round(tr.core_s, 2)
        if hasattr(ctl, "solve_s"):
            results[p]["solve_s"] = round(ctl.solve_s, 2)
    if bar:
        bar.close()
    report.gap_closed(results)
    return spec, exo, pr, traces, results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.simulate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="config/example.yaml", help="the house's config (with simulation:)")
    ap.add_argument("--site", default=None, help="greensboro | sandpoint | a TMY3/EPW/CSV file "
                    "(coordinates and time zone from the weather; default: simulation.weather)")
    ap.add_argument("--year", type=int, default=None, help="calendar year (default simulation.year)")
    ap.add_argument("--month", type=int, default=1, choices=range(1, 13), metavar="1-12")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=None, help="default simulation.seed")
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--circuitqueueing", default=str(CIRCUITQUEUEING), help="config of that policy")
    ap.add_argument("--out", default="run/simulate", help="output directory")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    a = ap.parse_args(argv)
    policies = [p.strip() for p in a.policies.split(",") if p.strip()]
    bad = [p for p in policies if p not in POLICIES]
    if bad or a.days < 1:
        ap.error(f"unknown policy {', '.join(bad)} (choose from {', '.join(POLICIES)})" if bad else "--days >= 1")
    try:
        cfg = load_config(a.config, env={})
        spec, exo, pr, traces, results = simulate(cfg, a.site, a.year, a.month, a.days, a.seed, policies,
                                                  Path(a.circuitqueueing), not a.quiet, a.config)
    except (ConfigError, WeatherError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    title = f"{spec.site.name}, {exo.days[0]:%B %Y}, {a.days} days, seed {exo.seed}"
    md = report.markdown(results, spec, pr.currency, title)
    (out / "results.md").write_text(md)
    meta = {"config": a.config, "site": spec.site.name, "weather": exo.weather, "start": exo.t0.isoformat(),
            "days": a.days, "seed": exo.seed, "timezone": spec.site.timezone, "currency": pr.currency}
    report.write_json(out / "results.json", meta, results)
    if not a.no_plots and traces:
        report.plots(out, traces, results, spec, exo, pr, title)
    print(md)
    print(f"written: {out}/results.md, results.json" + ("" if a.no_plots else ", day.png, month.png"))
    return 0
