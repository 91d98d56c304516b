"""python -m services.relay_agent --config PATH"""
from circuitq.service import run

from .agent import build

if __name__ == "__main__":
    raise SystemExit(run("relay_agent", build))
