from circuitq.service import run
from circuitq.state import check_state_dir

from .collector import build


def checked_build(ctx):
    # An unusable state_dir: one message naming it and exit 2, not a traceback.
    check_state_dir(ctx.cfg.state_dir, "the Curb login token and energy counters")
    return build(ctx)


raise SystemExit(run("curb_collector", checked_build))
