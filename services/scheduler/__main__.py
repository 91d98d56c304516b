"""python -m services.scheduler --config PATH"""
from circuitq.service import run

from .service import build

if __name__ == "__main__":
    raise SystemExit(run("scheduler", build))
