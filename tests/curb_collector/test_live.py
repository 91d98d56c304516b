"""The optional live stream: protocol parsing, the client against the fake, the service."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from circuitq.clock import SystemClock
from circuitq.config.secrets import CurbSecrets
from services.curb_collector.auth import CurbAuth, TokenStore
from services.curb_collector.freshness import live_due
from services.curb_collector.transport import make_session
from services.curb_collector.live import LiveStream, event, parse
from services.curb_collector.snapshot import parse_live
from sim.fakes.curb import LOCATION_ID
from sim.secrets import FAKE_CLOUD
from tests.curb_collector.helpers import HEALTH, READING, eventually, live

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)


def test_socketio_v2_packets():
    assert parse('0{"sid":"x","pingInterval":25000,"pingTimeout":60000}').data["pingInterval"] == 25000
    for text in ("40/api/circuit-data", "40/api/circuit-data,"):
        p = parse(text)
        assert (p.eio, p.sio, p.nsp, p.data) == ("4", "0", "/api/circuit-data", None)
    p = parse('42/api/circuit-data,7["data",{"circuits":[]}]')  # with an ack id
    assert p.sio == "2" and p.data == ["data", {"circuits": []}]
    assert parse("3").eio == "3" and parse("40").nsp == "/"
    assert event("subscribe", "loc") == '42/api/circuit-data,["subscribe","loc"]'


def test_live_totals_from_mains_and_negative_production():
    s = parse_live({"circuits": [
        {"id": "m1", "label": "", "w": 300, "main": True, "circuit_type": "main"},
        {"id": "m2", "label": "", "w": 200, "circuit_type": "main"},
        {"id": "pv", "label": "Solar", "w": -91, "production": True, "circuit_type": "line_side_production"},
        {"id": "k", "label": "Kitchen", "w": 400, "circuit_type": "consumption"}]}, NOW)
    assert (s.ts, s.net_w, s.production_w, s.consumption_w) == (NOW, 500, 91, 591)


def test_live_published_on_a_big_change_or_every_few_seconds():
    old = {"dryer": 0.0, "kitchen": 300.0}
    assert live_due(100, None, {}, old, 10, 300)
    assert not live_due(101, 100, old, {"dryer": 50.0, "kitchen": 320.0}, 10, 300)
    assert live_due(101, 100, old, {"dryer": 2400.0, "kitchen": 300.0}, 10, 300)  # dryer started
    assert live_due(110, 100, old, old, 10, 300)


def test_stream_reauthenticates_and_reconnects(fake_curb, tmp_path):
    fake_curb.live_interval_s = 0.05
    auth = CurbAuth(make_session(0, 0), fake_curb.url, CurbSecrets(**FAKE_CLOUD["curb"]),
                    TokenStore(tmp_path / "t.json"), SystemClock(), timeout_s=3, margin_s=60,
                    secrets_file="s")
    got, states = [], []
    stream = LiveStream(fake_curb.url, auth, LOCATION_ID, got.append,
                        lambda up, msg: states.append(up), timeout_s=3, min_backoff_s=0.05)
    stream.start()
    try:
        eventually(lambda: len(got) >= 3)
        assert got[0]["locationId"] == LOCATION_ID and states[0] is True
        fake_curb.expire_access_tokens()  # the next login on the socket is refused...
        fake_curb.drop_live()
        eventually(lambda: fake_curb.counts["token:refresh_token"] == 1)  # ...so it refreshes
        n = len(got)
        eventually(lambda: len(got) > n + 2)
        assert fake_curb.counts["live:connect"] >= 3 and states.count(False) >= 2
        assert fake_curb.counts["token:password"] == 1
    finally:
        stream.stop()


def test_service_live_readings_and_rest_fallback(start_collector, fake_curb, user_probe):
    fake_curb.live_interval_s = 0.1
    start_collector(live=True, live_publish_s=5, live_delta_w=300, live_stale_s=1)
    user_probe.wait_for(live(READING, lambda d: d["source"] == "live"))
    t0 = time.monotonic()
    fake_curb.set_watts({"curb-dryer-1": 2400, "curb-dryer-2": 2400})
    r = user_probe.wait_for(live(READING, lambda d: d["circuits"]["dryer"] == 4800)).json()
    assert r["source"] == "live" and time.monotonic() - t0 < 1.5  # not the 5 s tick
    fake_curb.set_scenario("error")  # REST fails, live flows: data is fine, say what failed
    h = user_probe.wait_for(live(HEALTH, lambda d: "REST" in d["message"])).json()
    assert h["state"] == "ok" and h["source"] == "live" and "HTTP 500" in h["message"]
    fake_curb.set_scenario("fresh")
    fake_curb.live_enabled = False  # the stream goes away: REST readings again
    fake_curb.drop_live()
    mark = user_probe.mark()
    user_probe.wait_for(live(READING, lambda d: d["source"] == "rest"), since=mark, timeout=30)
    h = user_probe.wait_for(live(HEALTH, lambda d: d["state"] == "ok" and d["source"] == "rest"
                                 and d["message"]), since=mark).json()
    assert "live stream down" in h["message"]  # why the readings come from REST now
