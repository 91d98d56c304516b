"""PVOutput end to end: local-time CSV, NaN, rate-limit headers, 403 over the limit, TLS checks."""
from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

from sim.fakes.pvoutput import FakePVOutput
from tests.solar_collector.conftest import PROD, pvoutput_src, src_health


def test_status_in_local_time_becomes_the_content_timestamp(solar, pvoutput, user_probe):
    at = datetime.fromtimestamp(int(time.time()) // 60 * 60 - 120, timezone.utc)
    pvoutput.status_at = at  # the fake writes it as America/New_York d/t, like the real one
    pvoutput.set_production(3100)
    solar([pvoutput_src(pvoutput)])
    r = user_probe.on_topic(PROD).json()
    assert r["w"] == 3100 and r["source"] == "pvoutput"
    assert datetime.fromisoformat(r["ts"]) == at and r["stale"] is False


def test_nan_power_is_rejected_with_an_error(solar, pvoutput, user_probe):
    pvoutput.nan_power = True
    solar([pvoutput_src(pvoutput)])
    err = user_probe.on_topic("circuitq/error").json()
    assert "'pvoutput'" in err["error"] and "NaN" in err["error"]
    assert ",NaN," in err["payload"]
    h = user_probe.on_topic(src_health("pvoutput"), lambda m: m.json()["consecutive_failures"] > 0).json()
    assert h["state"] == "error"
    assert user_probe.last(PROD) is None


def test_rate_limit_headers_pause_until_reset(solar, user_probe):
    fake = FakePVOutput(limit=3, window_s=1).start()  # an "hour" of 1 s with 3 requests
    try:
        solar([pvoutput_src(fake, poll_s=0.1)])
        user_probe.on_topic(PROD)
        time.sleep(2.5)
        per_window = Counter(int(t // 1) for t in fake.times)
        assert max(per_window.values()) == 3  # polled up to the limit, then paused ...
        assert len(per_window) >= 2  # ... and resumed after X-Rate-Limit-Reset
        assert fake.counts["forbidden"] == 0  # never went over
        assert len(fake.times) <= 3 * len(per_window)  # at 0.1 s polls it would be ~25
    finally:
        fake.stop()


def test_403_exceeded_pauses_until_the_next_hour_window(solar, user_probe):
    fake = FakePVOutput(limit=5, window_s=2).start()
    try:
        fake.exhaust_next = True  # another uploader on the same key used this hour's budget
        fake.set_production(2000)
        svc = solar([pvoutput_src(fake, poll_s=0.1)])
        h = user_probe.on_topic(src_health("pvoutput"), lambda m: "RateLimited" in m.json()["message"])
        assert "Exceeded" in h.json()["message"]
        first = fake.forbidden_at[0]
        reset = (first // 2 + 1) * 2
        time.sleep(max(0.0, reset - time.time() - 0.1))
        assert fake.counts["forbidden"] == 1  # one 403, then silence until the reset
        user_probe.on_topic(PROD, lambda m: m.json()["w"] == 2000, timeout=3)
        assert all(t >= reset for t in fake.times[1:])
        assert svc.alive()
    finally:
        fake.stop()


def test_no_status_and_bad_key(solar, pvoutput, user_probe):
    pvoutput.no_data = True
    solar([pvoutput_src(pvoutput)])
    h = user_probe.on_topic(src_health("pvoutput"), lambda m: m.json()["consecutive_failures"] > 0).json()
    assert h["state"] == "offline" and "no status" in h["message"].lower()
    pvoutput.no_data = False
    pvoutput.api_key = "f" * 40  # the key was regenerated on pvoutput.org
    a = user_probe.on_topic("circuitq/alert", lambda m: m.json()["key"] == "solar:auth:pvoutput").json()
    assert "Invalid API Key" in a["message"]


def test_cloud_sources_verify_tls(solar, user_probe):
    """Verification is off only for the Envoy: a self-signed PVOutput is refused."""
    fake = FakePVOutput(tls=True).start()
    try:
        solar([pvoutput_src(fake, retries=0)])
        h = user_probe.on_topic(src_health("pvoutput"), lambda m: m.json()["consecutive_failures"] > 0).json()
        assert "TLS" in h["message"] or "certificate" in h["message"].lower()
        assert fake.counts["getstatus"] == 0
    finally:
        fake.stop()
