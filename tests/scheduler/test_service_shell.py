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


def test_an_error_in_decide_keeps_a_timer_armed_and_a_failing_command_spares_the_others(tmp_path, monkeypatch):
    """Leases are renewed by timers: a bug in one pass must not leave the scheduler silent."""
    import pytest

    from services.scheduler import service as svc_mod
    from services.scheduler import model as m
    armed, errors, published = [], [], []
    svc = shell(tmp_path)
    svc.ctx.loop = SimpleNamespace(call_later=lambda s, fn, *a: armed.append(s) or SimpleNamespace(cancel=lambda: None))
    svc.client.report_own_error = lambda *a: errors.append(a)

    def boom(*a):
        raise RuntimeError("bug")
    monkeypatch.setattr(svc_mod, "decide", boom)
    with pytest.raises(RuntimeError):
        svc.decide(m.Tick())
    assert armed and armed[-1] <= svc_mod.RETRY_S + 0.01
    monkeypatch.setattr(svc_mod, "decide", lambda now, st, ev: (st, [m.RelayCmd("a", "on", 60),
                                                                     m.RelayCmd("b", "on", 60)]))

    def publish(entry, payload, **names):
        if names.get("relay") == "a":
            raise OSError("socket gone")
        published.append(names)
    svc.client.publish_entry = publish
    svc.decide(m.Tick())
    assert published == [{"relay": "b"}] and errors
