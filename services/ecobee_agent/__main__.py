"""`python -m services.ecobee_agent --config PATH` runs the agent;
`python -m services.ecobee_agent authorize [--config PATH]` runs ecobee's PIN flow once."""
from __future__ import annotations

import sys

from circuitq.service import arg_parser, run
from circuitq.state import check_state_dir


def build(ctx):
    from .agent import EcobeeAgent
    # An unusable state_dir: one message naming it and exit 2, not a traceback.
    check_state_dir(ctx.cfg.state_dir, "the ecobee tokens and the holds it has set")
    return EcobeeAgent(ctx)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["authorize"]:
        from .authorize import main as authorize
        return authorize(argv[1:])
    parser = arg_parser("ecobee_agent")
    parser.epilog = ("First run `python -m services.ecobee_agent authorize --config PATH` once: it prints a "
                     "PIN to enter at ecobee.com (My Apps -> Add Application) and stores the tokens.")
    return run("ecobee_agent", build, argv, parser=parser)


if __name__ == "__main__":
    raise SystemExit(main())
