"""A single-threaded event loop with timers.

MQTT messages, timers and signals are all posted here, so decision code runs on one thread
and never races with itself. `heartbeat` lets a watchdog thread see a stalled loop.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
from typing import Callable

from .clock import Clock, SystemClock

log = logging.getLogger(__name__)


class Timer:
    __slots__ = ("when", "fn", "args", "cancelled")

    def __init__(self, when: float, fn: Callable, args: tuple):
        self.when, self.fn, self.args, self.cancelled = when, fn, args, False

    def cancel(self) -> None:
        self.cancelled = True


class EventLoop:
    BATCH = 64  # events run between two looks at the timers

    def __init__(self, clock: Clock | None = None, on_error: Callable[[str, BaseException], None] | None = None):
        self.clock = clock or SystemClock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._timers: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._stopped = threading.Event()
        self.on_error = on_error
        self.heartbeat = self.clock.monotonic()
        self.thread: threading.Thread | None = None

    # -- called from any thread
    def post(self, fn: Callable, *args) -> None:
        self._queue.put((fn, args))

    def call_later(self, delay_s: float, fn: Callable, *args) -> Timer:
        return self.call_at(self.clock.monotonic() + max(0.0, delay_s), fn, *args)

    def call_at(self, when_mono: float, fn: Callable, *args) -> Timer:
        timer = Timer(when_mono, fn, args)
        # Timers are only touched on the loop thread; hand the new one over through the queue.
        self._queue.put((self._add_timer, (timer,)))
        return timer

    def stop(self) -> None:
        self._stopped.set()
        self._queue.put((lambda: None, ()))

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    # -- the loop thread
    def _add_timer(self, timer: Timer) -> None:
        heapq.heappush(self._timers, (timer.when, next(self._seq), timer))

    def _run_one(self, fn: Callable, args: tuple) -> None:
        try:
            fn(*args)
        except Exception as exc:  # one bad event must never stop the service
            log.exception("error in %s", getattr(fn, "__qualname__", fn))
            if self.on_error:
                try:
                    self.on_error(getattr(fn, "__qualname__", str(fn)), exc)
                except Exception:
                    log.exception("error reporting an error")

    def run_pending(self, max_wait_s: float = 0.0) -> None:
        """Run due timers and queued events once; wait at most max_wait_s for an event."""
        self.heartbeat = self.clock.monotonic()
        now = self.clock.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                self._run_one(timer.fn, timer.args)
        wait = max_wait_s
        if self._timers:
            wait = min(wait, max(0.0, self._timers[0][0] - self.clock.monotonic()))
        try:
            fn, args = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            return
        self._run_one(fn, args)
        # Drain what arrived meanwhile, but only a batch: under a message flood the timers
        # (lease expiry, renewals) and the watchdog's heartbeat must still come round.
        for _ in range(self.BATCH - 1):
            try:
                fn, args = self._queue.get_nowait()
            except queue.Empty:
                break
            self._run_one(fn, args)

    def run(self, tick_s: float = 0.5) -> None:
        """Run until stop(); wakes at least every tick_s so the heartbeat stays fresh."""
        self.thread = threading.current_thread()
        while not self._stopped.is_set():
            self.run_pending(tick_s)
