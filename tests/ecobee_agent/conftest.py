"""Fixtures for the ecobee agent: the fake ecobee API and a config pointed at it."""
from __future__ import annotations

import pytest

from services.ecobee_agent.store import TOKENS_FILE, TokenStore, tokens_from_response
from sim.fakes.ecobee import TSTAT_ID, FakeEcobee

NAME = "heat_pump_south"  # the example house's smart heat pump


@pytest.fixture
def fake():
    f = FakeEcobee(pin_interval_s=1).start()
    yield f
    f.stop()


def ecobee_section(fake, **thermostat) -> dict:
    """Short intervals against the local fake (poll_s < 180 is allowed on loopback only)."""
    t = {"identifier": TSTAT_ID, "hold_minutes": 0.5, "renew_before_s": 10, **thermostat}
    return {"ecobee": {"api_host": fake.host, "poll_s": 0.4, "timeout_s": 2, "retries": 1,
                       "backoff_s": 0.1, "thermostats": {NAME: t}}}


@pytest.fixture
def scheduler(probe_factory, broker):
    """Publishes shed requests as the scheduler's broker account (the only one the ACL allows)."""
    return probe_factory(broker, "scheduler")


@pytest.fixture
def agent_config(config_factory, fake, tmp_path):
    """make(**thermostat overrides) -> config path, with valid tokens already stored."""
    def make(authorized: bool = True, **thermostat):
        path = config_factory(ecobee_section(fake, **thermostat))
        if authorized:
            import time
            TokenStore(tmp_path / "state" / TOKENS_FILE).save(tokens_from_response(fake.issue_tokens(), time.time()))
        return path
    return make


@pytest.fixture(autouse=True)
def show_logs_on_failure(tmp_path, fake):
    """Print the agent's log and the fake's request log (pytest shows them only on failure)."""
    yield
    for log in sorted(tmp_path.glob("*.log")):
        print(f"----- {log.name}\n{log.read_text(errors='replace')[-6000:]}")
    print("----- fake ecobee requests")
    for e in fake.log[-40:]:
        fn = [f.get("type") for f in (e["body"] or {}).get("functions", [])] if e["body"] else ""
        print(f"{e['t']:.2f} {e['method']} {e['path']} {fn}")
