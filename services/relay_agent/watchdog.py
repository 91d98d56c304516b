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


class Watchdog(threading.Thread):
    def __init__(self, heartbeat: Callable[[], float], monotonic: Callable[[], float], limit_s: float,
                 on_stall: Callable[[float], None], exit: Callable[[int], None] = os._exit):
        super().__init__(name="relay-watchdog", daemon=True)
        self.heartbeat, self.monotonic, self.limit_s = heartbeat, monotonic, limit_s
        self.on_stall, self.exit = on_stall, exit
        self.period_s = max(0.05, limit_s / 5)
        self._stop = threading.Event()

    def run(self) -> None:
        started = self.monotonic()  # the loop may not have ticked yet: judge it from here
        while not self._stop.wait(self.period_s):
            age = self.monotonic() - max(self.heartbeat(), started)
            if age > self.limit_s:
                log.critical("main loop stalled for %.1f s (watchdog_s %.1f): safe states, exit",
                             age, self.limit_s)
                try:
                    self.on_stall(age)
                except BaseException:
                    log.exception("watchdog: could not apply every safe state")
                finally:
                    self.exit(EXIT_WATCHDOG)
                return

    def stop(self) -> None:
        self._stop.set()
