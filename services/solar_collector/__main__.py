"""python -m services.solar_collector --config PATH"""
from circuitq.service import run

from . import build

raise SystemExit(run("solar_collector", build))
