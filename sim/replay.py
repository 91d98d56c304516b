"""What would this config have done last month? Replays recorded readings through the REAL
scheduler core (services.scheduler.core.decide): no broker, no services. See docs/replay.md.

    python -m sim.replay --config config/example.yaml --data readings.csv \
        [--from ISO] [--to ISO] [--as-recorded] [--activity] [--plot out.png] [--json summary.json]
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from circuitq.config import ConfigError, load_config

from .replay_engine import ReplayResult, run_replay
from .replay_input import RowError, open_readings
from .replay_summary import summarize

MAX_ERRORS_PRINTED = 20


def parse_when(text: str, tz) -> datetime:
    """--from/--to: ISO 8601; a date or a time without offset is local to site.timezone."""
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"replay: {text!r} is not an ISO 8601 date or time") from None
    return t if t.tzinfo else t.replace(tzinfo=tz)


def format_text(s: dict, tz) -> str:
    def local(iso):
        return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if iso else "-"
    lines = [f"replay of {s['data']} with {s['config']} ({s['mode']})",
             f"  {local(s['from'])} -> {local(s['to'])}: {s['hours']:.1f} h, {s['rows']:,} rows replayed, "
             f"{s['skipped_rows']} skipped"]
    lines += [f"  warning: {w}" for w in s["warnings"]]
    lines.append("")
    if s["loads"]:
        lines.append(f"{'load':<20} {'permitted':>9} {'running':>8} {'starts':>6}  longest off vs max_off_h")
    for name, ld in s["loads"].items():
        limit = "(no limit)" if ld["max_off_h"] is None else \
            f"/ {ld['max_off_h']:g} h {'ok' if ld['max_off_ok'] else 'EXCEEDED'}"
        lines.append(f"{name:<20} {ld['hours_permitted']:>7.1f} h {ld['hours_running']:>6.1f} h "
                     f"{ld['starts']:>6}  {ld['longest_off_h']:.1f} h {limit}")
    for name, ld in s["loads"].items():
        blocked = ", ".join(f"{c} {h:.1f} h" for c, h in ld["blocked_h"].items() if h >= 0.05) or "never"
        lines.append(f"  {name} not permitted: {blocked}")
        if ld["runtime"]:
            for d in ld["runtime"]["days"]:
                verdict = {True: "met", False: "NOT MET", None: "?"}[d["met"]]
                lines.append(f"  {name} runtime {d['date']}: {d['hours']:.1f} h of {d['target_h']:g} h {verdict}"
                             + (f" ({d['why']})" if d["why"] else ""))
    if s["observed"]:
        lines.append("observed: " + ", ".join(f"{n} ran {o['hours_running']:.1f} h in {o['starts']} starts"
                                              for n, o in s["observed"].items()))
    for name, dd in s["drm"].items():
        modes = ", ".join(f"{k} {h:.1f} h" for k, h in dd["mode_h"].items())
        lines.append(f"DRM output {name}: {modes} ({dd['changes']} changes)")
    a = s["alerts"]
    keys = ", ".join(f"{k} x{n}" for k, n in sorted(a["by_key"].items()))
    lines.append(f"alerts raised: {a['count']}" + (f" ({keys})" if keys else ""))
    lines.append(f"speed: {s['decisions']:,} decisions in {s['elapsed_s']:.2f} s = "
                 f"{s['decisions_per_s'] or 0:,} decisions/s (core alone {s['core_decisions_per_s'] or 0:,}/s)")
    return "\n".join(lines)


def activity_lines(res: ReplayResult, tz) -> list[str]:
    return [f"{t.astimezone(tz):%Y-%m-%d %H:%M:%S} {subject}: {message}" for t, subject, message in res.activity]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.replay", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="house config (YAML)")
    ap.add_argument("--data", required=True, help="recorded readings: .csv or .jsonl")
    ap.add_argument("--from", dest="start", help="first moment replayed (ISO; local if no offset)")
    ap.add_argument("--to", dest="end", help="replay up to, not including, this moment")
    ap.add_argument("--as-recorded", action="store_true",
                    help="feed controllable loads' circuits unchanged (default: only while permitted)")
    ap.add_argument("--activity", action="store_true", help="print every activity line (local time)")
    ap.add_argument("--plot", metavar="PNG", help="write a timeline plot (needs matplotlib)")
    ap.add_argument("--json", metavar="FILE", help="write the summary as JSON")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config, env={})
    except ConfigError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    tz = cfg.site.tz
    try:
        _, rows = open_readings(args.data)
    except (RowError, OSError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    printed = [0]

    def on_error(msg: str) -> None:
        printed[0] += 1
        if printed[0] <= MAX_ERRORS_PRINTED:
            print(f"skipped: {msg}", file=sys.stderr)
    res = run_replay(cfg, rows, args.as_recorded, parse_when(args.start, tz) if args.start else None,
                     parse_when(args.end, tz) if args.end else None, on_error)
    if printed[0] > MAX_ERRORS_PRINTED:
        print(f"skipped: ... and {printed[0] - MAX_ERRORS_PRINTED} more bad rows", file=sys.stderr)
    if res.rows == 0:
        print(f"replay: no rows to replay in {args.data}", file=sys.stderr)
        return 1
    summary = summarize(res, args.config, args.data)
    if args.activity:
        print("\n".join(activity_lines(res, tz)))
        print()
    print(format_text(summary, tz))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if args.plot:
        from .replay_plot import plot  # matplotlib only when asked for
        plot(res, args.plot, title=f"{Path(args.data).name} with {Path(args.config).name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
