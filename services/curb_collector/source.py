"""The blocking side: one daemon worker thread runs HTTP calls; results go back to the loop.

The event loop never blocks on Curb (timeouts x retries can take a minute), so signals,
MQTT reconnects and shutdown stay prompt.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable

from circuitq.loop import EventLoop

from .api import CurbApi
from .transport import ApiError, CurbError

log = logging.getLogger(__name__)


@dataclass
class Fetched:
    body: Any = None
    error: CurbError | None = None
    location_id: str | None = None


class CurbSource:
    """Runs on the worker thread: find the location once, then fetch its /latest."""

    def __init__(self, api: CurbApi, location_id: str | None):
        self.api, self.location_id = api, location_id

    def fetch(self) -> Fetched:
        try:
            if self.location_id is None:
                self.location_id = self._discover()
            return Fetched(body=self.api.latest(self.location_id), location_id=self.location_id)
        except CurbError as exc:
            return Fetched(error=exc, location_id=self.location_id)
        except Exception as exc:  # a bug must not kill the worker; say what it was
            log.exception("unexpected error polling Curb")
            return Fetched(error=ApiError(f"unexpected {type(exc).__name__}: {exc}"))

    def _discover(self) -> str:
        locs = self.api.locations()
        if not locs:
            raise ApiError("this Curb account has no locations (is the hub registered?)")
        first = locs[0]
        log.info("curb.location_id not set: using the first of %d Curb locations: %s (%s); "
                 "set curb.location_id to pin it", len(locs), first["id"], first.get("name", ""))
        return str(first["id"])


class Worker:
    def __init__(self, loop: EventLoop, name: str = "curb-http"):
        self.loop = loop
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self._q.put((fn, done))

    def stop(self) -> None:
        self._q.put(None)

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            fn, done = item
            try:
                result = fn()
            except Exception as exc:
                result = exc
            self.loop.post(done, result)
