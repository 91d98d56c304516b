"""Fixtures for solar_collector: the fake servers and a helper that starts the service."""
from __future__ import annotations

import pytest

from sim.fakes.enphase import FakeEnlighten, FakeEnvoy
from sim.fakes.pvoutput import FakePVOutput

PROD = "circuitq/solar/production"
HEALTH = "circuitq/solar/health"


def src_health(name: str) -> str:
    return f"circuitq/solar/source/{name}/health"


NAMES = ("enlighten", "envoy", "pvoutput", "script", "nodered", "primary", "backup")


@pytest.fixture(autouse=True)
def clean_retained(broker, probe_factory):
    """The session broker keeps retained messages: clear ours before the test's probes subscribe."""
    p = probe_factory(broker, "solar_collector")
    for topic in [PROD, HEALTH, "circuitq/solar_collector/status"] + [src_health(n) for n in NAMES]:
        p.publish(topic, b"", retain=True)
    p.close()


@pytest.fixture
def enlighten():
    f = FakeEnlighten(per_minute=10_000).start()  # 429 is tested with force_429
    yield f
    f.stop()


@pytest.fixture
def envoy():
    f = FakeEnvoy().start()
    yield f
    f.stop()


@pytest.fixture
def pvoutput():
    f = FakePVOutput(tz="America/New_York").start()
    yield f
    f.stop()


def enlighten_src(fake, **kw) -> dict:
    return {"kind": "enlighten", "system_id": fake.system_id, "host": fake.url,
            "calls_per_month": 10_000_000, "poll_s": 0.3, "max_backoff_s": 1, "timeout_s": 2, **kw}


def envoy_src(fake, **kw) -> dict:
    return {"kind": "envoy", "host": fake.url, "poll_s": 0.2, "max_backoff_s": 0.5, "timeout_s": 2,
            "retries": 0, **kw}


def pvoutput_src(fake, **kw) -> dict:
    return {"kind": "pvoutput", "host": fake.url, "requests_per_hour": 36000, "poll_s": 0.2,
            "max_backoff_s": 0.5, "timeout_s": 2, **kw}


@pytest.fixture
def solar(config_factory, service_factory):
    """solar(sources, **section) -> the running service process."""
    def start(sources: list[dict], name: str = "config.yaml", **section):
        cfg = {"system_size_w": 5000, "tick_s": 0.2, "sources": sources, **section}
        return service_factory("solar_collector", config_factory({"solar": cfg}, name=name))
    return start
