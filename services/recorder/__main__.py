"""`python -m services.recorder --config PATH` records the fleet into SQLite;
`python -m services.recorder export --config PATH --day YYYY-MM-DD [--activity] [--out FILE]`
writes a recorded day as the readings CSV that `python -m sim.replay` reads (or, with
--activity, the day's activity log as text)."""
from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from circuitq.config import ConfigError, load_config, mqtt_password
from circuitq.service import arg_parser, run


def build(ctx):
    from .service import Recorder, persistent_client
    recorder = Recorder(ctx)
    # make_context's client has a clean session; the recorder needs the broker to keep one.
    password = mqtt_password(ctx.cfg, ctx.name)
    ctx.client.stop()  # never started: this only unregisters it
    ctx.client = persistent_client(ctx, password)
    client = ctx.client
    ctx.loop.on_error = lambda where, exc: client.report_own_error(where, f"{type(exc).__name__}: {exc}")
    return recorder


def export(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.recorder export", description=__doc__)
    ap.add_argument("--config", default=os.environ.get("CIRCUITQ_CONFIG"), required=not os.environ.get("CIRCUITQ_CONFIG"))
    ap.add_argument("--day", required=True, help="local date YYYY-MM-DD")
    ap.add_argument("--activity", action="store_true", help="the activity log instead of the readings CSV")
    ap.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")
    a = ap.parse_args(argv)
    from .export import activity_text, readings_csv
    from .query import History
    try:
        cfg = load_config(a.config)
        day = date.fromisoformat(a.day)
        history = History.open(cfg.recorder.path(cfg.state_dir))
    except (ConfigError, ValueError, FileNotFoundError) as exc:
        print(f"recorder export: {exc}", file=sys.stderr)
        return 2
    text = activity_text(history, cfg, day) if a.activity else readings_csv(history, cfg, day)
    if a.out:
        a.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["export"]:
        return export(argv[1:])
    return run("recorder", build, argv, parser=arg_parser("recorder"))


if __name__ == "__main__":
    raise SystemExit(main())
