"""Run every benchmark and print its figures (`make bench`). Figures also go to bench/RESULTS.md."""
from __future__ import annotations

import importlib
import platform
import sys
import time
from pathlib import Path

BENCHES = ["bench.broker_latency", "bench.e2e", "bench.scheduler_core", "bench.relay_latency", "bench.footprint",
           "bench.simulate", "bench.web_page", "bench.recorder_flood"]


def main() -> int:
    lines = [f"# Benchmark figures ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
             f"{sys.version.split()[0]})", ""]
    for name in BENCHES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            print(f"{name}: not available ({exc})")
            continue
        print(f"## {name}", flush=True)
        lines += [f"## {name}", "", (mod.__doc__ or "").strip().splitlines()[0], ""]
        for label, value in mod.run():
            print(f"- {label}: {value}", flush=True)
            lines.append(f"- {label}: {value}")
        lines.append("")
    Path(__file__).with_name("RESULTS.md").write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
