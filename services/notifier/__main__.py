from circuitq.service import run

from .service import build

raise SystemExit(run("notifier", build))
