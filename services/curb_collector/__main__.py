from circuitq.service import run

from .collector import build

raise SystemExit(run("curb_collector", build))
