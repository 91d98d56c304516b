"""python -m services.solar_collector --config PATH"""
from circuitq.service import run
from circuitq.state import check_state_dir

from . import build


def checked_build(ctx):
    # An unusable state_dir: one message naming it and exit 2, not a traceback.
    check_state_dir(ctx.cfg.state_dir, "solar source tokens")
    return build(ctx)


raise SystemExit(run("solar_collector", checked_build))
