"""The relay agent with one fault injected, for the watchdog test: a command whose id is
"hang" blocks the event loop forever while holding the agent's lock (like a GPIO call that
never returns). Otherwise exactly `python -m services.relay_agent`.

    python -m tests.relay_agent.stall_agent --config PATH
"""
from __future__ import annotations

import time

from circuitq.service import run
from services.relay_agent import agent

_command = agent.Fleet.command


def _hanging_command(self, kind, name, payload, retained, now):
    if b'"hang"' in payload:
        time.sleep(3600)
    return _command(self, kind, name, payload, retained, now)


if __name__ == "__main__":
    agent.Fleet.command = _hanging_command
    raise SystemExit(run("relay_agent", agent.build))
