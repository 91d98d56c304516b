"""The fleet as processes, with kill -9 for the fault tests (tests/test_fleet_e2e.py).
The shipped docker-compose.yml runs under a real container engine in tests/docker
(`make test-compose`)."""
from __future__ import annotations

import signal

from sim.fleet import SimFleet


class ProcessFleet(SimFleet):
    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(10)
