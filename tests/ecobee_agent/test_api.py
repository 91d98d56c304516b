"""The HTTP client in-process against the fake: refresh once for many callers, retries, re-auth."""
from __future__ import annotations

import threading
import time

import pytest

from circuitq.config.ecobee import EcobeeConfig
from services.ecobee_agent.api import EcobeeApi, EcobeeError, ReauthorizeNeeded
from services.ecobee_agent.store import TokenStore, tokens_from_response
from sim.fakes.ecobee import TSTAT_ID

KEY = "ecobee-app-key"


@pytest.fixture
def api(fake, tmp_path):
    store = TokenStore(tmp_path / "tokens.json")
    store.save(tokens_from_response(fake.issue_tokens(), time.time()))
    return EcobeeApi(EcobeeConfig(api_host=fake.host, poll_s=1, timeout_s=2, retries=2, backoff_s=0.05), KEY, store)


def test_concurrent_calls_meeting_an_expired_token_refresh_it_once(fake, api):
    fake.expire_access_tokens()
    results, errors = [], []

    def call():
        try:
            results.append(api.summary([TSTAT_ID]))
        except Exception as exc:  # pragma: no cover - shown on failure
            errors.append(exc)
    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors and len(results) == 2
    assert len(fake.calls("POST", "/token")) == 1


def test_a_refresh_token_that_does_not_rotate_is_kept(fake, api):
    fake.rotate_refresh = False
    before = api.store.load()
    fake.expire_access_tokens()
    api.thermostats([TSTAT_ID])
    after = api.store.load()
    assert after.refresh_token == before.refresh_token and after.access_token != before.access_token


def test_outages_are_retried_with_backoff_then_reported(fake, api):
    fake.fail_next = [503, 502]
    assert api.summary([TSTAT_ID])["thermostatCount"] == 1  # third attempt
    fake.fail_next = [503, 503, 503]
    with pytest.raises(EcobeeError, match="unreachable after 3 attempts"):
        api.summary([TSTAT_ID])


def test_a_refused_refresh_token_needs_authorize(fake, api):
    fake.refresh.clear()  # e.g. revoked at ecobee.com
    fake.expire_access_tokens()
    with pytest.raises(ReauthorizeNeeded, match="invalid_grant"):
        api.summary([TSTAT_ID])


def test_validation_errors_come_back_with_their_code(fake, api):
    with pytest.raises(EcobeeError) as e:
        api.set_hold(TSTAT_ID, {"holdType": "dateTime", "heatHoldTemp": 100, "coolHoldTemp": 920,
                                "endDate": "2030-01-01", "endTime": "00:00:00"})
    assert e.value.code == 7 and e.value.http == 500
