"""One thread per polled source: blocking HTTP or a subprocess never stalls the event loop
(or another source). Each outcome is handed to the loop thread through `deliver`."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from .core import Sample, SourceError, check_sample, next_delay

log = logging.getLogger(__name__)


class Poller(threading.Thread):
    def __init__(self, name: str, driver, src, solar_cfg, clock, deliver: Callable):
        super().__init__(name=f"solar-{name}", daemon=True)
        self.label, self.driver, self.src, self.solar = name, driver, src, solar_cfg
        self.clock, self.deliver = clock, deliver
        self._halt = threading.Event()
        self.failures = 0

    def stop(self) -> None:
        self._halt.set()

    def poll_once(self):
        now = self.clock.now()
        try:
            outcome = check_sample(self.driver.read(now), self.solar.system_size_w, self.solar.max_ratio,
                                   self.clock.now())
        except SourceError as exc:
            outcome = exc
        except Exception as exc:  # a driver bug must not kill the thread
            log.exception("solar source %s: unexpected error", self.label)
            outcome = SourceError(f"unexpected {type(exc).__name__}: {exc}")
        self.failures = 0 if isinstance(outcome, Sample) else self.failures + 1
        return outcome

    def run(self) -> None:
        delay = self.driver.first_delay(self.clock.now())
        if delay > 1:
            log.info("solar source %s: first poll in %.0f s (API budget)", self.label, delay)
        while not self._halt.wait(max(0.0, delay)):
            outcome = self.poll_once()
            done = self.clock.now()
            self.deliver(self.label, outcome, done)
            hold = [t for t in (getattr(outcome, "not_before", None), self.driver.pause_until) if t]
            delay = next_delay(self.src.interval_s, self.failures, self.src.max_backoff_s,
                               max(hold) if hold else None, done)
            if hold:
                log.info("solar source %s: next poll in %.0f s (rate limit)", self.label, delay)
