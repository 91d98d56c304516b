"""Fixtures for the curb_collector tests: the fake Curb cloud and a short-timed config."""
from __future__ import annotations

import pytest

from sim.fakes.curb import FakeCurb


@pytest.fixture
def fake_curb():
    f = FakeCurb().start()
    yield f
    f.stop()


def curb_overrides(fake: FakeCurb, **curb) -> dict:
    """The example config's curb section pointed at the fake, with test-sized durations."""
    return {"curb": {"auth_host": fake.url, "api_host": fake.url, "poll_s": 0.3,
                     "repoll_s": 0.05, "repoll_max": 3, "http_retries": 0, "http_backoff_s": 0,
                     "timeout_s": 3, "auth_retry_s": 1, **curb}}


@pytest.fixture
def start_collector(fake_curb, config_factory, service_factory):
    def start(name: str = "config.yaml", extra: dict | None = None, **curb):
        overrides = curb_overrides(fake_curb, **curb)
        for k, v in (extra or {}).items():
            overrides[k] = v
        return service_factory("curb_collector", config_factory(overrides, name=name))
    return start
