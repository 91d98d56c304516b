"""Results: a markdown table (policies side by side), a JSON file and two PNG plots."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from .spec import Exogenous, HouseSpec


def gap_closed(results: dict) -> None:
    """gap_closed = (cost_no_control - cost) / (cost_no_control - cost_optimum), in place."""
    nc, opt = results.get("no_control"), results.get("optimum")
    for r in results.values():
        if "cost" not in r:
            continue
        if nc and opt and "cost" in nc and "cost" in opt and nc["cost"] - opt["cost"] > 1e-9:
            r["gap_closed"] = (nc["cost"] - r["cost"]) / (nc["cost"] - opt["cost"])
        else:
            r["gap_closed"] = None


def _f(v, fmt="{:.2f}"):
    return "-" if v is None else fmt.format(v)


def rows(results: dict, spec: HouseSpec, currency: str) -> list[tuple[str, list[str]]]:
    ok = {p: r for p, r in results.items() if "cost" in r}
    out = [("cost (" + currency + ")", [_f(r["cost"]) for r in ok.values()]),
           ("gap_closed", [_f(r.get("gap_closed")) for r in ok.values()]),
           ("import / export kWh", [f"{r['import_kwh']:.0f} / {r['export_kwh']:.0f}" for r in ok.values()]),
           ("on-peak import kWh", [_f(r["on_peak_import_kwh"], "{:.1f}") for r in ok.values()]),
           ("self-consumption", [_f(r["self_consumption"], "{:.0%}") for r in ok.values()]),
           ("peak 15-min import kW", [_f(r["peak_15min_kw"], "{:.1f}") for r in ok.values()])]
    for t in spec.tanks:
        out.append((f"{t}: cold draws L (min)",
                    [f"{r['tanks'][t]['cold_l']:.0f} ({r['tanks'][t]['cold_min']})" for r in ok.values()]))
        out.append((f"{t}: longest off h (max {spec.tanks[t].max_off_h or '-'})",
                    [_f(r["tanks"][t]["longest_off_h"], "{:.1f}") for r in ok.values()]))
    if spec.pool:
        out.append((f"pool: days met {spec.pool.hours:g} h / over {spec.pool.max_hours:g} h",
                    [f"{r['pool']['days_met']}/{r['pool']['days']} / {r['pool']['days_over']}" for r in ok.values()]))
        out.append(("pool: mean h/day", [_f(r["pool"]["mean_h"]) for r in ok.values()]))
    if spec.sheddable:
        out.append((f"{spec.sheddable.load}: minutes outside comfort",
                    [str(r["comfort"]["out_min"]) for r in ok.values()]))
    out.append(("minutes > max_running (observed/forced/other)",
                [("{total} ({observed}/{forced}/{other})").format(**r["over_max_running_min"]) for r in ok.values()]))
    relays = sorted({x for r in ok.values() for x in r["relay_ops_per_day"]})
    for x in relays:
        out.append((f"relay {x}: operations/day mean (max)",
                    [(f"{r['relay_ops_per_day'][x]['mean']:.1f} ({r['relay_ops_per_day'][x]['max']})"
                      if x in r["relay_ops_per_day"] else "-") for r in ok.values()]))
    out.append(("thermostat shed changes/day mean (max)",
                [f"{r['shed_changes_per_day']['mean']:.1f} ({r['shed_changes_per_day']['max']})" for r in ok.values()]))
    out.append(("service_ok", ["yes" if r["service_ok"] else "**no**" for r in ok.values()]))
    return out


def markdown(results: dict, spec: HouseSpec, currency: str, title: str) -> str:
    ok = [p for p, r in results.items() if "cost" in r]
    lines = [f"### {title}", "", "| | " + " | ".join(ok) + " |", "|---|" + "---|" * len(ok)]
    for label, vals in rows(results, spec, currency):
        lines.append(f"| {label} | " + " | ".join(vals) + " |")
    for p, r in results.items():
        if "skipped" in r:
            lines.append(f"\n{p}: skipped ({r['skipped']})")
    return "\n".join(lines) + "\n"


def write_json(path: Path, meta: dict, results: dict) -> None:
    path.write_text(json.dumps({"run": meta, "policies": results}, indent=1, default=str))


def representative_day(exo: Exogenous) -> int:
    """The day whose PV energy is the month's median: neither the best nor the worst."""
    pv = np.bincount(exo.local_day, weights=exo.pv_w, minlength=len(exo.days))
    return int(np.argsort(pv)[len(pv) // 2])


def plots(out: Path, traces: dict, results: dict, spec: HouseSpec, exo: Exogenous, prices,
          title: str, day: int | None = None) -> list[Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = dict(zip(traces, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    d = representative_day(exo) if day is None else day
    idx = np.flatnonzero(exo.local_day == d)
    hours = exo.local_min[idx] / 60
    ctl = spec.controllable
    fig, axes = plt.subplots(2 + len(ctl), 1, figsize=(11, 2.2 * (2 + len(ctl))), sharex=True)
    ax = axes[0]
    ax.fill_between(hours, exo.pv_w[idx] / 1000, color="gold", alpha=0.5, label="PV production")
    for p, tr in traces.items():
        ax.plot(hours, tr.total_w[idx] / 1000, lw=0.8, color=colours[p], label=f"{p} consumption")
    ax.set_ylabel("kW")
    ax.legend(fontsize=7, ncol=3, loc="upper left")
    ax.set_title(f"{title}: {exo.days[d]} (representative day)")
    for i, name in enumerate(ctl):
        ax = axes[1 + i]
        for j, (p, tr) in enumerate(traces.items()):
            ax.plot(hours, tr.load_w[name][idx] / 1000, lw=0.9, color=colours[p], label=p)
            top = 1.05 + 0.09 * j
            perm = np.where(tr.permit[name][idx], top, np.nan)
            ax.plot(hours, perm * _scale(name, spec) / 1000, lw=3, color=colours[p], alpha=0.6)
        ax.set_ylabel(f"{name}\nkW", fontsize=7)
        if i == 0:
            ax.text(0.01, 0.85, "thick bars: permitted (relay closed / not shed)", transform=ax.transAxes, fontsize=7)
    ax = axes[-1]
    ax.step(hours, prices.import_per_kwh[idx], where="post", color="k", label="import")
    ax.step(hours, prices.export_per_kwh[idx], where="post", color="grey", label="export")
    ax.set_ylabel(f"{prices.currency}/kWh")
    ax.set_xlabel("local hour")
    ax.legend(fontsize=7)
    ax.set_xlim(0, 24)
    fig.tight_layout()
    p1 = out / "day.png"
    fig.savefig(p1, dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(4, 1, figsize=(11, 10), sharex=True)
    x = np.arange(len(exo.days)) + 1
    ok = [p for p in traces if "daily" in results.get(p, {})]
    w = 0.8 / max(len(ok), 1)
    for j, p in enumerate(ok):
        dl = results[p]["daily"]
        axes[0].plot(x, dl["cost"], marker="o", ms=3, color=colours[p], label=f"{p} ({results[p]['cost']:.0f})")
        cold = sum(np.array(v) for k, v in dl.items() if k.startswith("cold_l:"))
        axes[1].bar(x + (j - len(ok) / 2) * w, cold, width=w, color=colours[p], label=p)
        if "pool_h" in dl:
            axes[2].plot(x, dl["pool_h"], marker=".", color=colours[p], label=p)
        if "comfort_out_min" in dl:
            axes[3].bar(x + (j - len(ok) / 2) * w, dl["comfort_out_min"], width=w, color=colours[p], label=p)
    axes[0].set_ylabel(f"daily cost ({prices.currency})")
    axes[0].legend(fontsize=7)
    axes[0].set_title(f"{title}: the month, day by day")
    axes[1].set_ylabel("cold-draw litres\n(all tanks)")
    axes[1].legend(fontsize=7)
    if spec.pool:
        axes[2].axhline(spec.pool.hours, color="k", lw=0.8, ls="--", label="target")
        axes[2].axhline(spec.pool.max_hours, color="r", lw=0.8, ls=":", label="ceiling")
        axes[2].set_ylabel("pool hours")
        axes[2].legend(fontsize=7)
    if spec.sheddable:
        z = spec.sheddable
        axes[3].set_ylabel(f"{z.load}\nminutes outside\n{z.comfort_min_c:.1f}-{z.comfort_max_c:.1f} C"
                           if z.comfort_min_c is not None else f"{z.load}\nminutes outside comfort")
        axes[3].legend(fontsize=7)
    axes[1].set_ylim(bottom=0)
    axes[3].set_ylim(bottom=0)
    axes[3].set_xlabel("day of the run")
    fig.tight_layout()
    p2 = out / "month.png"
    fig.savefig(p2, dpi=90)
    plt.close(fig)
    return [p1, p2]


def _scale(name: str, spec: HouseSpec) -> float:
    if name in spec.tanks:
        return spec.tanks[name].element_w
    if spec.pool and name == spec.pool.load:
        return spec.pool.watts
    return spec.zones[name].electric_w


def git_head(root: Path) -> str:
    """The checkout's short commit, for a generated table's 'made at' line."""
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def write_between_markers(doc: Path, start: str, end: str, block: str, text: str | None = None) -> int:
    """Put `block` (markers included) in place of what lies between `start` and `end` in
    `doc` (or in `text`, when the file does not exist yet). 0, or 2 if the markers are missing."""
    text = doc.read_text() if text is None else text
    new, n = re.subn(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    if n != 1:
        print(f"{doc}: the markers {start} ... {end} are missing", file=sys.stderr)
        return 2
    doc.write_text(new)
    print(f"updated {doc}", file=sys.stderr)
    return 0
