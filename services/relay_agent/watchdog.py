"""A thread that catches a stalled main loop: docker's `restart: unless-stopped` restarts only
processes that EXIT, not hung ones, so the agent must notice its own hang, put the outputs
in their safe states and exit non-zero."""
from __future__ import annotations

import logging
import os
import threading
from typing import Callable

log = logging.getLogger(__name__)
EXIT_WATCHDOG = 70  # EX_SOFTWARE
# Seconds the watchdog gives itself to drive outputs safe: up to 2 s for the agent's lock, the
# writes, ~0.5 s per state publish. Then it exits whatever happened.
STALL_BUDGET_S = 8.0


class Watchdog(threading.Thread):
    def __init__(self, heartbeat: Callable[[], float], monotonic: Callable[[], float], limit_s: float,
                 on_stall: Callable[[float], None], exit: Callable[[int], None] = os._exit,
                 stall_budget_s: float = STALL_BUDGET_S):
        super().__init__(name="relay-watchdog", daemon=True)
        self.heartbeat, self.monotonic, self.limit_s = heartbeat, monotonic, limit_s
        self.on_stall, self.exit, self.stall_budget_s = on_stall, exit, stall_budget_s
        self.period_s = max(0.05, limit_s / 5)
        self._stop = threading.Event()

    def run(self) -> None:
        started = self.monotonic()  # the loop may not have ticked yet: judge it from here
        while not self._stop.wait(self.period_s):
            age = self.monotonic() - max(self.heartbeat(), started)
            if age > self.limit_s:
                log.critical("main loop stalled for %.1f s (watchdog_s %.1f): safe states, exit",
                             age, self.limit_s)
                # In its own thread: the GPIO call the loop is stuck in may hang ours too, and a
                # process that never exits is never restarted.
                worker = threading.Thread(target=self._safe, args=(age,), name="relay-watchdog-safe",
                                          daemon=True)
                worker.start()
                worker.join(self.stall_budget_s)
                if worker.is_alive():
                    log.critical("watchdog: safe states not done in %.0f s; exiting anyway",
                                 self.stall_budget_s)
                self.exit(EXIT_WATCHDOG)
                return

    def _safe(self, age: float) -> None:
        try:
            self.on_stall(age)
        except BaseException:
            log.exception("watchdog: could not apply every safe state")

    def stop(self) -> None:
        self._stop.set()
