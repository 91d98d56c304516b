"""The page's pure parts: password hashes, the login pause, sessions, health in words, and the
timeline from calendars."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from circuitq.config import CircuitqConfig
from circuitq.config.web import WebSecrets
from services.web.auth import Sessions, Throttle, check_login, hash_password, verify_password
from services.web.health import service_health
from services.web.timeline import timeline

NOW = datetime(2026, 7, 14, 16, 0, tzinfo=timezone.utc)  # 12:00 in New York


def test_a_password_is_kept_only_as_a_salted_scrypt_hash():
    h = hash_password("correct horse")
    assert h.startswith("scrypt$16384$8$1$") and "correct" not in h
    assert h != hash_password("correct horse")  # salted
    assert verify_password("correct horse", h) and not verify_password("correct hors", h)
    assert check_login({"alice": h}, "alice", "correct horse")
    assert not check_login({"alice": h}, "mallory", "correct horse")
    with pytest.raises(ValidationError, match="not a password hash"):
        WebSecrets.model_validate({"users": {"alice": "hunter2"}})


def test_the_pause_after_failed_logins():
    t = Throttle(attempts=3, lockout_s=60)
    keys = ["user:bob", "addr:10.0.0.9"]
    for _ in range(2):
        t.failed(keys, 100.0)
    assert t.wait_s(keys, 100.0) == 0
    t.failed(keys, 100.0)
    assert t.wait_s(["user:bob"], 130.0) == pytest.approx(30)
    assert t.wait_s(["addr:10.0.0.9", "user:carol"], 159.0) == pytest.approx(1)
    assert t.wait_s(keys, 161.0) == 0
    t.succeeded(keys)
    t.failed(keys, 200.0)
    assert t.wait_s(keys, 200.0) == 0  # a success starts the count again


def test_sessions_expire_and_end(tmp_path):
    s = Sessions(tmp_path / "sessions.json", days=1)
    users = {"alice": "x"}
    sid, p = s.create("alice", NOW)
    assert s.get(sid, NOW + timedelta(hours=23), users).user == "alice"
    assert s.get(sid, NOW + timedelta(hours=25), users) is None
    assert s.get(sid, NOW, {}) is None  # a user removed from the secrets file is out at once
    s.end(sid)
    assert s.get(sid, NOW, users) is None
    assert sid not in (tmp_path / "sessions.json").read_text()


def test_health_in_words():
    beat = {"expires": (NOW + timedelta(seconds=30)).isoformat(), "connected_since": NOW.isoformat()}
    assert service_health("scheduler", "online", beat, NOW)["state"] == "ok"
    old = {"expires": (NOW - timedelta(seconds=1)).isoformat()}
    h = service_health("scheduler", "online", old, NOW)
    assert h["state"] == "stale" and "heartbeat expired" in h["text"]
    assert service_health("scheduler", "offline", None, NOW)["state"] == "offline"
    assert service_health("scheduler", None, None, NOW)["state"] == "unknown"
    sick = {**beat, "not_persisted": {"/s/x.json": "switch counts: No space left on device"}}
    assert service_health("relay_agent", "online", sick, NOW)["state"] == "error"


def test_the_next_24_h_from_the_calendars():
    cfg = CircuitqConfig.model_validate({
        "site": {"timezone": "America/New_York"},
        "relays": {"heater": {"pin": 5, "safe_state": "on", "boot_state": "on"},
                   "pool": {"pin": 6, "safe_state": "on", "boot_state": "on"}},
        "scheduler": {"calendars": {"night": [{"start": "23:00", "end": "06:00"}],
                                    "shower": [{"start": "05:00", "end": "06:00"}],
                                    "pool_day": [{"start": "11:00", "end": "23:00"}]}},
        "loads": {"heater": {"kind": "relay", "block": ["night"], "force": ["shower"]},
                  "pool": {"kind": "relay", "only": ["pool_day"], "runtime": {"hours": 6, "window": "pool_day"}},
                  "kitchen": {"kind": "observed"}}})
    tl = timeline(cfg, NOW)
    assert tl["source"] == "calendars" and [x["name"] for x in tl["loads"]] == ["heater", "pool"]
    heater = {(s["kind"], s["start"][11:16], s["end"][11:16]) for s in tl["loads"][0]["spans"]}
    assert heater == {("blocked", "23:00", "06:00"), ("forced", "05:00", "06:00")}
    pool = {(s["kind"], s["start"][11:16], s["end"][11:16]) for s in tl["loads"][1]["spans"]}
    assert ("blocked", "23:00", "11:00") in pool and ("runtime", "12:00", "23:00") in pool
    assert tl["start"] == "2026-07-14T12:00:00-04:00" and tl["end"] == "2026-07-15T12:00:00-04:00"
