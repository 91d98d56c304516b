"""Logins: a pause after failed attempts, sessions that survive a restart, end at logout and
expire; and a broker ACL that lets the page do no more than a phone on `user`."""
from __future__ import annotations

import time

import requests

from tests.web.helpers import Web


def test_failed_logins_pause_that_name_even_with_the_right_password(tmp_path, broker, secrets_path):
    web = Web(tmp_path, broker, secrets_path, {"web": {"login_attempts": 3, "lockout_s": 600}}).start()
    try:
        for _ in range(3):
            r = requests.post(web.url + "/login", data={"user": "bob", "password": "guess"}, allow_redirects=False)
            assert r.headers["location"] == "/login?error=1"
        r = requests.post(web.url + "/login", data={"user": "bob", "password": "bob-password-22"},
                          allow_redirects=False)
        assert r.headers["location"].startswith("/login?wait=") and "set-cookie" not in r.headers
        r = requests.post(web.url + "/login", data={"user": "bob", "password": "x"}, allow_redirects=False,
                          headers={"Origin": "http://evil.example"})
        assert r.headers["location"] == "/login?error=origin"
    finally:
        web.stop()


def test_a_session_survives_a_restart_ends_at_logout_and_expires(tmp_path, broker, secrets_path):
    web = Web(tmp_path, broker, secrets_path, {"web": {"session_days": 0.0001}}).start()  # 8.6 s
    try:
        kept = web.login("alice")
        gone = web.login("alice")
        assert web.stop() == 0  # SIGTERM: a clean stop
        web.start()
        assert kept.get(web.url + "/api/me").json()["user"] == "alice"  # nobody logged out by a restart
        r = gone.post(web.url + "/logout")
        assert r.status_code == 200 and gone.get(web.url + "/api/me").status_code == 401
        assert kept.get(web.url + "/api/me").status_code == 200  # only that session ended
        deadline = time.monotonic() + 30
        while kept.get(web.url + "/api/me").status_code == 200:
            assert time.monotonic() < deadline, "the session never expired"
            time.sleep(0.5)
        r = kept.get(web.url + "/", allow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        sessions = (tmp_path / "state" / "web_sessions.json").read_text()
        assert kept.cookies["circuitq_session"] not in sessions  # only hashes are kept
    finally:
        web.stop()


def test_the_page_user_reads_states_and_writes_only_set(broker, probe_factory):
    """The broker drops what the ACL does not allow; a message sent after it shows it was dropped."""
    sched = probe_factory(broker, "scheduler")  # reads relay states and /set
    sched.subscribe("circuitq/relay/+/state")
    sched.subscribe("circuitq/load/+/set")
    agent = probe_factory(broker, "relay_agent")
    agent.subscribe("circuitq/relay/+/command")
    web = probe_factory(broker, "web")
    mark, amark = sched.mark(), agent.mark()
    web.publish("circuitq/relay/pool_pump/command", {"state": "on", "lease_s": 60, "id": "evil"})
    web.publish("circuitq/relay/pool_pump/state", {"level": "on"})
    web.publish("circuitq/load/pool_pump/set", "AUTO")  # allowed: it arrives after the others would
    sched.on_topic("circuitq/load/pool_pump/set", since=mark)
    assert not [m for m in sched.messages[mark:] if m.topic.startswith("circuitq/relay/")]
    # the web's command was acknowledged before this one was sent: had it been allowed, it came first
    sched.publish("circuitq/relay/pool_pump/command", {"state": "on", "lease_s": 60, "id": "legit"})
    first = agent.on_topic("circuitq/relay/pool_pump/command", since=amark)
    assert first.json()["id"] == "legit"
