"""Delivery pieces without a broker: Prowl answers, the outbox, its file, and the fake Prowl itself."""
from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone

import pytest
import requests

from circuitq.payloads import Alert
from services.notifier import prowl, store
from services.notifier.outbox import Outbox, backoff
from services.notifier.policy import KeyState
from services.notifier.rules import RuleState
from sim.fakes.prowl import FakeProwl

T0 = datetime(2026, 6, 3, 16, 0, tzinfo=timezone.utc)
KEY = "b" * 40


def alert(key="k", resolved=False, title="Pool pump off") -> Alert:
    return Alert(key=key, title=title, message="draws 0 W", priority=0, source="notifier",
                 resolved=resolved, ts=T0)


@pytest.mark.parametrize("status,body,kind,code", [
    (200, '<?xml version="1.0" encoding="UTF-8"?><prowl><success code="200" remaining="993" '
          'resetdate="1382212452" /></prowl>', "ok", 200),
    (401, '<prowl><error code="401">Invalid API key</error></prowl>', "dead", 401),
    (406, '<prowl><error code="406">IP exceeded the API limit</error></prowl>', "limit", 406),
    (400, '<prowl><error code="400">Bad request</error></prowl>', "rejected", 400),
    (500, '<prowl><error code="500">Internal server error</error></prowl>', "retry", 500),
    (502, "<html>Bad gateway</html>", "retry", 502),
    (503, "not xml at all", "retry", 503),
])
def test_prowl_answers(status, body, kind, code):
    r = prowl.parse(status, body)
    assert (r.kind, r.code) == (kind, code)
    if kind == "ok":
        assert r.remaining == 993 and r.reset_at == datetime.fromtimestamp(1382212452, timezone.utc)
    else:
        assert r.detail.startswith(f"Prowl {code}")


def test_prowl_url_prefix_is_fixed_and_http_only_to_loopback():
    assert prowl.add_url("api.prowlapp.com") == "https://api.prowlapp.com/publicapi/add"
    assert prowl.add_url("127.0.0.1:8080") == "http://127.0.0.1:8080/publicapi/add"
    assert prowl.add_url("localhost:9") == "http://localhost:9/publicapi/add"
    assert prowl.add_url("prowl.example.net:8080") == "https://prowl.example.net:8080/publicapi/add"


def test_prowl_form_respects_byte_limits():
    a = Alert(key="k", title="é" * 600, message="x" * 20000, priority=2, source="s", ts=T0)
    f = prowl.form(a, KEY, "circuitq", "12:00")
    assert len(f["event"].encode()) <= 1024 and f["event"] == "é" * 512
    assert len(f["description"].encode()) <= 10000 and f["priority"] == "2"
    assert prowl.form(alert(resolved=True), KEY, "circuitq", "12:00")["event"] == "Resolved: Pool pump off"


def test_outbox_is_fifo_per_channel_and_a_failure_blocks_only_its_channel():
    box = Outbox()
    first = box.add(alert("a"), ["prowl", "apprise:1"], T0)
    second = box.add(alert("a", resolved=True), ["prowl", "apprise:1"], T0)
    assert [(c, i.id) for c, i in box.due(T0, set())] == [("apprise:1", first.id), ("prowl", first.id)]
    box.failed("prowl", "Prowl 500", T0 + timedelta(seconds=30))
    box.done("apprise:1", first.id)
    assert [(c, i.id) for c, i in box.due(T0, set())] == [("apprise:1", second.id)]  # prowl waits
    assert box.next_wakeup(set()) == T0 + timedelta(seconds=30)
    assert [(c, i.id) for c, i in box.due(T0 + timedelta(seconds=30), {"apprise:1"})] == [("prowl", first.id)]
    box.done("prowl", first.id)
    assert [i.id for i in box.items] == [second.id]
    assert box.drop_channel("prowl") == 1 and box.items[0].pending == ["apprise:1"]


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(n, 30, 3600).total_seconds() for n in (1, 2, 3, 4, 8, 9)] == [30, 60, 120, 240, 3600, 3600]


def test_state_file_is_atomic_private_and_survives_corruption(tmp_path):
    path = tmp_path / "state" / "notifier.json"
    st = store.NotifierState()
    st.outbox.add(alert(), ["prowl"], T0)
    st.outbox.failed("prowl", "Prowl 500", T0 + timedelta(seconds=30))
    st.policy["k"] = KeyState(last_sent=T0, open=True)
    st.rules["dryer_long"] = RuleState(since=T0)
    store.save(path, st)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and not path.with_name("notifier.json.tmp").exists()
    back = store.load(path)
    assert back.to_json() == st.to_json()
    path.write_text('{"outbox": {"items": [{"id": 1')  # a torn write from some other tool
    assert store.load(path).outbox.items == [] and path.with_name("notifier.json.bad").exists()


# ------------------------------------------------------------------ the fake Prowl
@pytest.fixture
def fake():
    f = FakeProwl(limit=3, window_s=60).start()
    yield f
    f.stop()


def add(fake, files=None, **data):
    return requests.post(f"{fake.url}/publicapi/add", data=None if files else data, files=files, timeout=5)


def test_fake_takes_form_and_multipart_like_curl_F(fake):
    assert add(fake, apikey=KEY, application="circuitq", event="é").status_code == 200
    r = add(fake, files={"apikey": (None, f"{'0' * 40},{KEY}"), "application": (None, "CurbAPI"),
                         "description": (None, "prowl.sh style")})
    assert r.status_code == 200 and 'remaining="1"' in r.text
    assert [n.get("event") or n["description"] for n in fake.notifications] == ["é", "prowl.sh style"]


@pytest.mark.parametrize("fields,status,text", [
    ({"application": "a", "event": "e"}, 400, "apikey is required"),
    ({"apikey": "xyz", "application": "a", "event": "e"}, 401, "Invalid API key"),
    ({"apikey": "c" * 40, "application": "a", "event": "e"}, 401, "Invalid API key"),  # unknown key
    ({"apikey": KEY, "event": "e"}, 400, "application is required"),
    ({"apikey": KEY, "application": "a"}, 400, "event or description is required"),
    ({"apikey": KEY, "application": "a" * 257, "event": "e"}, 400, "application is longer than 256"),
    ({"apikey": KEY, "application": "a", "event": "e", "priority": "3"}, 400, "priority"),
])
def test_fake_validates_like_prowl(fake, fields, status, text):
    r = add(fake, **fields)
    assert r.status_code == status and f'code="{status}"' in r.text and text in r.text
    assert fake.notifications == []


def test_fake_counts_calls_per_ip_and_answers_406(fake):
    for left in (2, 1, 0):
        assert f'remaining="{left}"' in add(fake, apikey=KEY, application="a", event="e").text
    r = add(fake, apikey=KEY, application="a", event="e")
    assert r.status_code == 406 and 'code="406"' in r.text
    fake.time = lambda: 10**10  # an hour later
    assert add(fake, apikey=KEY, application="a", event="e").status_code == 200
    fake.fail_next(1, 500)
    assert add(fake, apikey=KEY, application="a", event="e").status_code == 500
