"""Home Assistant discovery checked against the keys Home Assistant documents, and every
template rendered (Jinja2, as Home Assistant does) against the payloads the fleet publishes.

Key lists: home-assistant.io, source/_integrations/<platform>.mqtt.markdown, configuration
blocks. sensor: the current page (2025.10 and later, `default_entity_id`; `object_id` is
deprecated, "will stop working in Home Assistant Core 2026.4"). binary_sensor, select,
number: the 2024 pages with `object_id` replaced by `default_entity_id` as Home Assistant
2025.10 did for every MQTT platform. `origin`: source/_integrations/mqtt.markdown, "Adding
information about the origin of a discovery message" (name required; sw_version, support_url).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from circuitq import payloads as p
from circuitq import topics as t
from circuitq.config import load_config
from services.scheduler import discovery

COMMON = {
    "availability", "availability_mode", "availability_template", "availability_topic", "default_entity_id",
    "device", "enabled_by_default", "encoding", "entity_category", "entity_picture", "icon",
    "json_attributes_template", "json_attributes_topic", "name", "payload_available",
    "payload_not_available", "platform", "qos", "unique_id", "value_template", "origin",
}
DOCUMENTED = {
    "sensor": COMMON | {"device_class", "expire_after", "force_update", "last_reset_value_template", "options",
                        "suggested_display_precision", "state_class", "state_topic", "unit_of_measurement"},
    "binary_sensor": COMMON | {"device_class", "expire_after", "force_update", "off_delay", "payload_off",
                               "payload_on", "state_topic"},
    "select": COMMON | {"command_template", "command_topic", "optimistic", "options", "retain", "state_topic"},
    "number": COMMON | {"command_template", "command_topic", "device_class", "min", "max", "mode", "optimistic",
                        "payload_reset", "retain", "state_topic", "step", "unit_of_measurement"},
}
REQUIRED = {"sensor": {"state_topic"}, "binary_sensor": {"state_topic"}, "select": {"command_topic", "options"},
            "number": {"command_topic"}}
DEVICE_KEYS = {"configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model",
               "model_id", "name", "serial_number", "suggested_area", "sw_version", "via_device"}
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
AVAILABILITY_KEYS = {"payload_available", "payload_not_available", "topic", "value_template"}
ID = re.compile(r"^[a-zA-Z0-9_-]+$")

CFG = load_config("config/example.yaml", env={})
MSGS = discovery.messages(CFG)
NOW = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)


def test_every_payload_uses_only_documented_keys_and_has_the_required_ones():
    for names, cfg in MSGS:
        comp = names["component"]
        assert set(cfg) <= DOCUMENTED[comp], (names, set(cfg) - DOCUMENTED[comp])
        assert REQUIRED[comp] <= set(cfg), names
        assert set(cfg["device"]) <= DEVICE_KEYS and set(cfg["origin"]) <= ORIGIN_KEYS
        assert cfg["origin"]["name"] == "circuitq" and cfg["origin"]["sw_version"]
        assert "object_id" not in cfg and cfg["default_entity_id"] == f"{comp}.{cfg['unique_id']}"
        assert not ("availability" in cfg and "availability_topic" in cfg)
        for a in cfg.get("availability", []):
            assert set(a) <= AVAILABILITY_KEYS and "topic" in a
        assert ID.match(names["node"]) and ID.match(names["object"])


def test_documented_rules_between_keys():
    for names, cfg in MSGS:
        comp, dc = names["component"], cfg.get("device_class")
        if comp == "sensor":
            if "options" in cfg:  # "cannot be used together with state_class or unit_of_measurement"
                assert dc == "enum" and cfg["options"] and not {"state_class", "unit_of_measurement"} & set(cfg)
            if "entity_category" in cfg:  # "must be diagnostic for sensors"
                assert cfg["entity_category"] == "diagnostic"
            if cfg.get("state_class") == "total_increasing":
                assert dc == "energy" and cfg["unit_of_measurement"] == "kWh"
            if dc == "power":
                assert cfg["unit_of_measurement"] == "W" and cfg["state_class"] == "measurement"
            if dc == "timestamp":
                assert "unit_of_measurement" not in cfg
        if comp == "number":
            assert cfg["mode"] in ("auto", "box", "slider") and cfg["step"] >= 0.001 and cfg["min"] < cfg["max"]
        if comp == "select":
            assert cfg["options"] and len(set(cfg["options"])) == len(cfg["options"])


def test_identity_devices_and_topology():
    uids = [cfg["unique_id"] for _, cfg in MSGS]
    assert len(uids) == len(set(uids))
    topics_ = [t.HA_DISCOVERY.topic("", **names) for names, _ in MSGS]
    assert len(topics_) == len(set(topics_)) and all(x.startswith("homeassistant/") for x in topics_)
    devices = {cfg["device"]["identifiers"][0]: cfg["device"] for _, cfg in MSGS}
    names = {d["name"] for d in devices.values()}
    assert {"Relay board", "Curb energy monitor", "Solar", "Water heater north", "Pool pump", "Aircon"} <= names
    hub = next(i for i, d in devices.items() if d["name"].startswith("circuitq ("))
    assert devices[hub]["sw_version"] and "via_device" not in devices[hub]
    for ident, dev in devices.items():  # every device reaches the hub
        seen = set()
        while ident != hub:
            assert ident not in seen and "via_device" in devices[ident], dev
            seen.add(ident)
            ident = devices[ident]["via_device"]
    board = next(i for i, d in devices.items() if d["name"] == "Relay board")
    assert devices[next(i for i, d in devices.items() if d["name"] == "Pool pump")]["via_device"] == board


def entity(component: str, obj: str) -> dict:
    return next(cfg for names, cfg in MSGS if names["component"] == component and names["object"] == obj)


def test_what_a_user_builds_dashboards_from_is_there():
    assert entity("select", "water_heater_north_mode")["options"] == ["auto", "on", "off"]
    length = entity("number", "water_heater_north_override_length")
    assert length["max"] == 720 and length["command_topic"] == "circuitq/load/water_heater_north/set"
    relay = entity("binary_sensor", "pool_pump_relay")  # the hardware, next to the wish
    assert relay["state_topic"] == "circuitq/relay/pool_pump/state"
    assert relay["availability"] == [{"topic": "circuitq/relay_agent/status"}]
    assert entity("sensor", "drm_aircon_actual")["state_topic"] == "circuitq/dred/aircon/state"
    assert entity("sensor", "solar_production")["unit_of_measurement"] == "W"
    assert entity("sensor", "curb_consumption")["state_topic"] == "circuitq/curb/reading"
    assert entity("sensor", "water_heater_north_power")["state_topic"] == "circuitq/curb/circuit/water_heater_north"
    assert entity("sensor", "circuit_garage_energy")["state_class"] == "total_increasing"
    assert entity("binary_sensor", "service_relay_agent")["device_class"] == "connectivity"
    assert entity("sensor", "pool_pump_next_run")["state_topic"] == "circuitq/plan"
    for obj in ("water_heater_north_permitted", "water_heater_north_reason"):  # expire with the scheduler
        assert entity(*(("binary_sensor",) if "permitted" in obj else ("sensor",)), obj)["expire_after"] == 75


# ------------------------------------------------------------------ templates, rendered
ENV = ImmutableSandboxedEnvironment()
REASON = {"code": "blocked:peak", "text": "peak-rate hours until 19:00 EDT"}
PENDING = {"state": "off", "reason": {"code": "hold:min_on", "text": "minimum on time not yet served"},
           "eligible_at": NOW}
SAMPLES = {
    "circuitq/load/+/state": p.LoadState(
        mode="on", permitted=True, running=False, power_w=None, reason=REASON, until=NOW, next_change=NOW,
        since=NOW, actual=p.RelayActual(relay="pool_pump", level="on", since=NOW, pending=PENDING)),
    "circuitq/drm/+/state": p.DrmLoadState(mode="auto", drm_mode=2, reason=REASON, production_w=300, since=NOW,
                                           actual=p.DrmActual(output="aircon", drm_mode=0, since=NOW)),
    "circuitq/relay/+/state": p.RelayState(level="on", commanded="off", safe_state="on", reason=REASON,
                                           pending=PENDING, switch_count=3, since=NOW),
    "circuitq/dred/+/state": p.DrmState(mode=2, commanded_mode=2, safe_mode=0, relays={"drm2": "on"},
                                        reason=REASON, switch_count=4, since=NOW),
    "circuitq/curb/reading": p.CurbReading(ts=NOW, received=NOW, stale=False, age_s=3, consumption_w=3200,
                                           production_w=4100, net_w=-900, circuits={"garage": 60}),
    "circuitq/curb/circuit/+": p.CircuitPower(w=4480.5, ts=NOW),
    "circuitq/curb/energy": p.EnergyTotals(ts=NOW, since=NOW, consumption_kwh=12.5, production_kwh=20.1,
                                           import_kwh=3, export_kwh=10.6, circuits={"garage": 0.4,
                                                                                    "water_heater_north": 4.5}),
    "circuitq/curb/health": p.Health(state="stale", message="hub lagging", since=NOW),
    "circuitq/solar/health": p.Health(state="ok", source="envoy", since=NOW),
    "circuitq/solar/production": p.SolarReading(w=4100, ts=NOW, received=NOW, source="envoy", stale=False, age_s=5),
    "circuitq/ecobee/+/state": p.ThermostatState(name="south", connected=True, shed=True, ts=NOW),
    "circuitq/plan": p.Plan(made=NOW, slot_min=15, currency="USD", slots=[], cost=0.4, loads={
        "pool_pump": p.LoadPlan(contract="runtime", text="runs 11:00-17:00 on solar", runs=[
            p.PlanRun(start=NOW, end=NOW, code="planned:solar", kwh=9, cost=0.4)])}),
    "circuitq/+/heartbeat": {"service": "scheduler", "ts": NOW.isoformat(), "expires": NOW.isoformat(),
                             "broker": {"connected": True}, "not_persisted": {}},
    "circuitq/+/status": "online",
}


def sample(topic: str) -> str:
    for pattern, value in SAMPLES.items():
        if re.fullmatch(re.escape(pattern).replace(r"\+", "[^/]+"), topic):
            if isinstance(value, str):
                return value
            return json.dumps(value) if isinstance(value, dict) else value.model_dump_json()
    raise AssertionError(f"no sample payload for {topic}")


def render(template: str, raw: str) -> str:
    try:
        value_json = json.loads(raw)
    except ValueError:
        value_json = None
    return ENV.from_string(template).render(value=raw, value_json=value_json)


@pytest.mark.parametrize("names, cfg", MSGS, ids=[n["object"] for n, _ in MSGS])
def test_templates_render_to_what_the_entity_expects(names, cfg):
    comp = names["component"]
    if "value_template" in cfg:
        out = render(cfg["value_template"], sample(cfg["state_topic"]))
        dc = cfg.get("device_class")
        if comp == "binary_sensor":
            assert out in (cfg.get("payload_on", "ON"), cfg.get("payload_off", "OFF"))
        elif comp == "select":
            assert out in cfg["options"]
        elif dc == "timestamp":
            assert out == "None" or datetime.fromisoformat(out).tzinfo is not None
        elif dc == "enum":
            assert out in cfg["options"]
        elif "unit_of_measurement" in cfg:  # a number (grid power may be negative: export)
            assert out == "None" or float(out) >= 0 or names["object"] == "curb_net"
        else:
            assert out and out != "None" and len(out) <= 255
    if "json_attributes_template" in cfg:
        attrs = json.loads(render(cfg["json_attributes_template"], sample(cfg["json_attributes_topic"])))
        assert isinstance(attrs, dict) and attrs
    if "command_template" in cfg:  # the number: {"minutes": N} on /set, which the scheduler takes
        from services.scheduler.overrides import parse
        sent = ENV.from_string(cfg["command_template"]).render(value=45)
        target, name = ("drm", "aircon") if "/drm/" in cfg["command_topic"] else ("load", cfg["command_topic"].split("/")[2])
        assert parse(CFG, target, name, sent.encode(), NOW).minutes == 45


def test_load_attributes_carry_reason_until_and_next_change():
    attrs = json.loads(render(entity("select", "pool_pump_mode")["json_attributes_template"],
                              sample("circuitq/load/pool_pump/state")))
    assert attrs["reason"] == REASON["text"] and attrs["reason_code"] == "blocked:peak"
    assert datetime.fromisoformat(attrs["until"]) == NOW and datetime.fromisoformat(attrs["next_change"]) == NOW
    held = json.loads(render(entity("binary_sensor", "pool_pump_relay")["json_attributes_template"],
                             sample("circuitq/relay/pool_pump/state")))
    assert held["held"] == "off" and held["held_because"] == "minimum on time not yet served"
