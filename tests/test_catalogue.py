"""The topic catalogue is the single source: docs/mqtt.md and mosquitto/acl must match it."""
from __future__ import annotations

from pathlib import Path

import pytest

from circuitq import SERVICES
from circuitq import topics as t
from mosquitto import gen_acl
from scripts import gen_docs

ROOT = Path(__file__).resolve().parent.parent


def test_docs_mqtt_md_matches_catalogue():
    assert (ROOT / "docs" / "mqtt.md").read_text() == gen_docs.render(), \
        "docs/mqtt.md is out of date: run `python -m scripts.gen_docs`"


def test_acl_matches_catalogue():
    assert (ROOT / "mosquitto" / "acl").read_text() == gen_acl.render(), \
        "mosquitto/acl is out of date: run `python -m mosquitto.gen_acl --out mosquitto/acl`"


def test_every_topic_is_documented_in_docs():
    text = (ROOT / "docs" / "mqtt.md").read_text()
    for entry in t.CATALOGUE:
        shown = entry.pattern.replace("{base}", "circuitq").replace("{discovery}", "homeassistant")
        assert f"`{shown}`" in text


def test_only_the_scheduler_commands_outputs():
    for entry in (t.RELAY_COMMAND, t.DRED_COMMAND, t.ECOBEE_SHED):
        assert entry.publishers == ("scheduler",)
        assert not entry.retained


def test_user_account_writes_only_set_and_input_topics():
    """A phone or Node-RED may command (/set) and feed inputs (solar watts, a price series, a
    tank temperature); never a command to an output or a state another service owns."""
    inputs = {t.SOLAR_INPUT, t.TARIFF_PRICE, t.LOAD_TANK, t.HA_STATUS}  # HA_STATUS: Home Assistant's birth
    written = [e for e in t.CATALOGUE if t.USER in e.publishers]
    assert written and all(e.pattern.endswith("/set") or e in inputs for e in written)
    assert not any(t.USER in e.publishers for e in (t.RELAY_COMMAND, t.DRED_COMMAND, t.ECOBEE_SHED,
                                                    t.LOAD_STATE, t.PLAN))


def test_topic_keys_unique_and_patterns_unique():
    assert len({e.key for e in t.CATALOGUE}) == len(t.CATALOGUE)
    assert len({e.pattern for e in t.CATALOGUE}) == len(t.CATALOGUE)


def test_topic_build_and_match_round_trip():
    topic = t.RELAY_COMMAND.topic("home/cq", relay="pool_pump")
    assert topic == "home/cq/relay/pool_pump/command"
    assert t.RELAY_COMMAND.match("home/cq", topic) == {"relay": "pool_pump"}
    assert t.RELAY_COMMAND.match("home/cq", "home/cq/relay/pool_pump/state") is None
    assert t.find("circuitq", "circuitq/load/dryer/set") == (t.LOAD_SET, {"load": "dryer"})
    for bad in ("a/b", "+", "#", ""):
        with pytest.raises(ValueError):
            t.RELAY_COMMAND.topic("circuitq", relay=bad)


def test_every_service_publishes_status_and_errors():
    assert set(t.STATUS.publishers) == set(SERVICES)
    assert set(t.ERROR.publishers) == set(SERVICES)
