"""The MQTT shell's parsing, without a broker: handlers called as the client would."""
from __future__ import annotations

import logging
from types import SimpleNamespace

from circuitq.clock import FakeClock
from services.scheduler.service import SchedulerService

from .harness import at, config, relay


class Loop:
    def call_later(self, s, fn, *a):
        return SimpleNamespace(cancel=lambda: None)


def shell(tmp_path) -> SchedulerService:
    cfg = config({"water_heater_north": relay(50)})
    client = SimpleNamespace(publish_entry=lambda *a, **k: None, publish=lambda *a, **k: None,
                             report_error=lambda *a: None)
    ctx = SimpleNamespace(cfg=cfg, client=client, log=logging.getLogger("test"), base="circuitq",
                          clock=FakeClock(at("2026-07-01T12:00")), loop=Loop(),
                          state_path=lambda f: tmp_path / f)
    return SchedulerService(ctx)


def test_an_empty_collector_status_is_not_offline(tmp_path):
    # an empty retained message clears a status (a clean-up, a broker reset); only the will
    # and the collector itself say "offline". Reading empty as offline made Curb data stale.
    svc = shell(tmp_path)
    svc._status("circuitq/curb_collector/status", b"offline", True)
    assert not svc.state.curb.online
    svc._status("circuitq/curb_collector/status", b"online", True)
    svc._status("circuitq/curb_collector/status", b"", True)
    assert svc.state.curb.online
