"""The pure parts: freshness, repoll budget, circuit mapping, failure counting, parsing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from circuitq.config.curb import CurbCircuitMap
from services.curb_collector.failures import FailureTracker
from services.curb_collector.freshness import after_stale, classify
from services.curb_collector.mapping import map_circuits
from services.curb_collector.snapshot import BadBody, CurbCircuit, parse_latest

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)


def ago(s: float) -> datetime:
    return NOW - timedelta(seconds=s)


def test_freshness_needs_a_moving_recent_timestamp():
    assert classify(ago(30), NOW, None, 120).verdict == "fresh"
    assert classify(ago(30), NOW, ago(90), 120).verdict == "fresh"
    assert classify(ago(30), NOW, ago(30), 120).verdict == "unchanged"  # not new
    f = classify(ago(300), NOW, ago(300), 120)
    assert f.verdict == "stale" and f.age_s == 300
    assert classify(ago(130), NOW, ago(300), 120).verdict == "stale"  # moved, still too old
    assert classify(NOW + timedelta(seconds=5), NOW, None, 120).age_s == 0  # hub clock ahead


def test_repoll_budget_then_publish_stale_without_a_new_burst_each_poll():
    assert after_stale(0, 9, False).repoll and after_stale(8, 9, False).repoll
    last = after_stale(9, 9, False)
    assert not last.repoll and last.publish_stale
    assert after_stale(0, 9, True).publish_stale  # already declared: publish at once


def c(id, label, w, **kw):
    return CurbCircuit(id=id, label=label, w=w, **kw)


CIRCUITS = [c("m1", "", 500, main=True), c("m2", "", 480, main=True), c("k", "Kitchen", 300),
            c("d1", "Dryer", 2400), c("d2", "Dryer", 2300), c("b1", "Bedroom", 50),
            c("b2", "Bedroom", 70), c("x", "", 5), c("__OTHER__", "Other", 40, other=True)]


def m(**spec):
    return {k: CurbCircuitMap(**v) for k, v in spec.items()}


def test_mapping_by_id_by_label_and_summed_label():
    out = map_circuits(m(kitchen={"label": "Kitchen"}, dryer={"label": "Dryer", "sum": True},
                         bedroom_1={"id": "b1"}, rest={"id": "__OTHER__"}), CIRCUITS)
    assert out.problems == []
    assert out.circuits == {"kitchen": 300, "dryer": 4700, "bedroom_1": 50, "rest": 40}


def test_repeated_label_without_sum_names_the_key_and_the_ids():
    out = map_circuits(m(dryer={"label": "Dryer"}), CIRCUITS)
    assert out.circuits == {}
    assert out.problems == ["curb.circuits.dryer: label 'Dryer' matches 2 circuits (ids d1, d2); "
                            "map it by id, or set sum: true to add them up"]


def test_unknown_id_and_label_list_what_curb_has():
    out = map_circuits(m(pool_pump={"label": "Pool"}, garage={"id": "nope"}), CIRCUITS)
    assert "curb.circuits.pool_pump: no Curb circuit is labelled 'Pool'" in out.problems[0]
    assert "Kitchen" in out.problems[0]
    assert "curb.circuits.garage: Curb has no circuit with id 'nope'" in out.problems[1]


def test_unmapped_circuits_get_unique_slugs_and_never_shadow_mapped_names():
    out = map_circuits(m(kitchen={"label": "Kitchen"}, bedroom={"id": "b1"}), CIRCUITS)
    assert out.unmapped == {"main_m1": 500, "main_m2": 480, "dryer_d1": 2400, "dryer_d2": 2300,
                            "bedroom_b2": 70, "circuit_x": 5, "other": 40}
    assert not set(out.unmapped) & set(out.circuits)


def test_failures_alert_at_five_a_day_resolve_and_no_flapping():
    t = FailureTracker(5, ZoneInfo("America/New_York"))
    for _ in range(4):  # intermittent failures: counted, no alert yet
        assert t.failure(NOW) is None
        assert t.success(NOW) is None
    assert t.failure(NOW) == "raise"  # the fifth today (CircuitQueueing's rule)
    assert t.failure(NOW) is None  # once
    assert t.success(NOW) == "resolve"
    assert t.failure(NOW) is None  # one more blip the same day: no new alert...
    assert [t.failure(NOW) for _ in range(4)] == [None, None, None, "raise"]  # ...5 in a row is
    assert t.failures_today == 11 and t.consecutive == 5


def test_failures_count_per_local_day():
    tz = ZoneInfo("America/New_York")
    t = FailureTracker(5, tz)
    before_midnight = datetime(2026, 7, 1, 23, 59, tzinfo=tz)
    for _ in range(4):
        assert t.failure(before_midnight) is None
        t.success(before_midnight)
    t.failure(before_midnight + timedelta(minutes=2))  # a new local day
    assert t.failures_today == 1
    assert t.failure(before_midnight + timedelta(minutes=3), alert=False) is None


def test_parse_latest_offline_bad_and_good():
    assert parse_latest({}) is None  # hub offline for over 5 minutes
    with pytest.raises(BadBody, match="timestamp"):
        parse_latest({"circuits": []})
    with pytest.raises(BadBody, match="list"):
        parse_latest([1, 2])
    s = parse_latest({"timestamp": 1502917051, "consumption": 3009, "production": 0,
                      "circuits": [{"id": "1", "label": None, "w": 5}]})
    assert s.ts == datetime(2017, 8, 16, 20, 57, 31, tzinfo=timezone.utc)
    assert s.net_w == 3009 and s.circuits[0].label is None
