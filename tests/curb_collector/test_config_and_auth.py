"""Config rules (hosts, credentials) and the token life cycle against the fake Auth0."""
from __future__ import annotations

import json
import os
import stat

import pytest
from pydantic import ValidationError

from circuitq.clock import FakeClock
from circuitq.config.curb import CurbConfig
from circuitq.config.endpoint import parse_endpoint
from circuitq.config.secrets import CurbSecrets
from services.curb_collector.api import CurbApi
from services.curb_collector.auth import CurbAuth, TokenStore
from services.curb_collector.transport import API_PREFIX, AUTH_PREFIX, AuthRejected, base_url, make_session
from sim.secrets import FAKE_CLOUD


@pytest.mark.parametrize("value,expected", [
    (None, AUTH_PREFIX),
    ("staging.example.com", "https://staging.example.com"),
    ("https://staging.example.com:8443", "https://staging.example.com:8443"),
    ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
    ("http://localhost:9", "http://localhost:9"),
])
def test_host_override_changes_only_the_host(value, expected):
    assert base_url(AUTH_PREFIX, value) == expected


@pytest.mark.parametrize("value,why", [
    ("http://evil.example.com", "only for a loopback"),
    ("https://app.energycurb.com/api/v9", "no path"),
    ("https://user:pw@app.energycurb.com", "no path, query or user"),
    ("ftp://127.0.0.1", "scheme"),
    ("https://bad host", "not a host"),
])
def test_host_override_refuses_paths_and_plain_http_off_loopback(value, why):
    with pytest.raises(ValueError, match=why):
        parse_endpoint(value, any_port=True)
    with pytest.raises(ValidationError, match=why):
        CurbConfig(api_host=value)


def test_config_refuses_credentials_and_half_mappings():
    with pytest.raises(ValidationError, match="belong in the secrets file"):
        CurbConfig.model_validate({"client_secret": "x"})
    with pytest.raises(ValidationError, match="exactly one of id"):
        CurbConfig.model_validate({"circuits": {"dryer": {"id": "1", "label": "Dryer"}}})
    with pytest.raises(ValidationError, match="lower case"):
        CurbConfig.model_validate({"circuits": {"Dryer/1": {"id": "1"}}})
    assert API_PREFIX == "https://app.energycurb.com"  # hard-coded, not configurable


@pytest.fixture
def make_auth(fake_curb, tmp_path):
    clock = FakeClock()
    fake_curb.time = lambda: clock.now().timestamp()  # server and client share fake time

    def make(creds: dict | None = None, hold_s: float = 0):
        c = CurbSecrets(**(creds or FAKE_CLOUD["curb"]))
        auth = CurbAuth(make_session(0, 0), fake_curb.url, c, TokenStore(tmp_path / "tok.json"),
                        clock, timeout_s=3, margin_s=3600, secrets_file="secrets.yaml",
                        rejection_hold_s=hold_s)
        return auth, CurbApi(auth.session, fake_curb.url, auth, 3)
    make.clock = clock
    return make


def test_token_refreshed_an_hour_before_it_expires_and_kept_private(make_auth, fake_curb, tmp_path):
    auth, api = make_auth()
    assert api.locations()[0]["id"]
    assert fake_curb.counts["token:password"] == 1
    saved = json.loads((tmp_path / "tok.json").read_text())
    assert saved["refresh_token"] and saved["expires_at"] > make_auth.clock.now().timestamp()
    assert stat.S_IMODE(os.stat(tmp_path / "tok.json").st_mode) == 0o600
    assert not list(tmp_path.glob("*.tmp"))  # written through tmp + os.replace
    make_auth.clock.advance(86400 - 3500)  # 58 min before expiry
    api.locations()
    assert fake_curb.counts["token:refresh_token"] == 1 and fake_curb.counts["unauthorized"] == 0
    # the refresh token is kept (Auth0 does not rotate it) and a new process reuses the file
    auth2, api2 = make_auth()
    api2.locations()
    assert fake_curb.counts["token:password"] == 1 and auth2._current().refresh_token == saved["refresh_token"]


def test_token_file_of_another_account_is_not_used(make_auth, fake_curb):
    make_auth()[1].locations()
    other = {**FAKE_CLOUD["curb"], "username": "someone@example.com"}
    fake_curb.username = other["username"]
    make_auth(other)[1].locations()
    assert fake_curb.counts["token:password"] == 2


def test_bad_client_names_client_id_and_secret(make_auth):
    auth, api = make_auth({**FAKE_CLOUD["curb"], "client_secret": "wrong"})
    with pytest.raises(AuthRejected, match="client_id and client_secret in the secrets file"):
        api.locations()


def test_form_body_accepted_by_the_fake(fake_curb):
    import requests
    c = FAKE_CLOUD["curb"]
    r = requests.post(fake_curb.url + "/oauth/token", data={
        "grant_type": "password", "audience": "app.energycurb.com/api", "username": c["username"],
        "password": c["password"], "client_id": c["client_id"], "client_secret": c["client_secret"]})
    assert r.status_code == 200 and r.json()["expires_in"] == 86400 and "refresh_token" not in r.json()
    r = requests.post(fake_curb.url + "/oauth/token", data={**dict(grant_type="password"),
                      "client_id": c["client_id"], "client_secret": c["client_secret"],
                      "audience": "app.energycurb.com/api", "username": c["username"], "password": "x"})
    assert r.status_code == 403 and r.json() == {"error": "invalid_grant",
                                                 "error_description": "Wrong email or password."}


def test_refused_login_not_asked_again_before_the_hold(make_auth, fake_curb):
    auth, api = make_auth({**FAKE_CLOUD["curb"], "password": "old"}, hold_s=900)
    for _ in range(3):  # REST poll, live reconnects...: Auth0 hears once
        with pytest.raises(AuthRejected, match="Wrong email or password"):
            auth.access_token()
    assert fake_curb.counts["token:password"] == 1
    make_auth.clock.advance(900)
    with pytest.raises(AuthRejected):
        auth.access_token()
    assert fake_curb.counts["token:password"] == 2
