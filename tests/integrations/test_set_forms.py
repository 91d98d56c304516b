"""What Node-RED, Home Assistant, zigbee2mqtt-style clients and phone apps send on `/set`:
every form a user of those tools would try is understood, and anything else is refused with a
sentence that says what is expected."""
from datetime import timedelta

import pytest

from services.scheduler.overrides import LengthSet, OverrideError, OverrideLengths, parse
from tests.scheduler.harness import at, config, observed, relay

NOW = at("2026-07-01T12:00")
WHN = "water_heater_north"
CFG = config({WHN: relay(50, override_default_min=120, override_max_min=600), "kitchen": observed(90, 4000)},
             drm={"override_default_min": 60, "override_max_min": 240})


@pytest.mark.parametrize("payload, mode", [
    ("ON", "on"), ("on", "on"), ("On", "on"), ("OFF", "off"), ("oFf", "off"), ("AUTO", "auto"), ("auto", "auto"),
    ("true", "on"), ("TRUE", "on"), ("false", "off"), ("False", "off"), ("1", "on"), ("0", "off"),
    (" 1\n", "on"), ('"ON"', "on"), ('"auto"', "auto"),
    ('{"state": "ON"}', "on"), ('{"state": "off"}', "off"), ('{"state": "AUTO"}', "auto"),
    ('{"state": true}', "on"), ('{"state": 0}', "off"),
    ('{"mode": "ON"}', "on"), ('{"mode": true}', "on"), ('{"mode": false}', "off"), ('{"mode": 1}', "on"),
    ('{"mode": "Auto"}', "auto"),
])
def test_every_way_of_saying_on_off_auto(payload, mode):
    ov = parse(CFG, "load", WHN, payload.encode(), NOW)
    assert ov.mode == mode
    assert ov.until == (None if mode == "auto" else NOW + timedelta(minutes=120))


@pytest.mark.parametrize("payload, mode, minutes", [
    ('{"mode": "on", "minutes": 45}', "on", 45),
    ('{"state": "ON", "minutes": 45}', "on", 45),
    ('{"mode": "off", "until": "2026-07-01T08:30:00-04:00"}', "off", 30),  # 12:30 UTC, the site's offset
    ('{"state": "OFF", "until": "2026-07-01T13:00:00+00:00"}', "off", 60),
])
def test_durations_with_either_key(payload, mode, minutes):
    ov = parse(CFG, "load", WHN, payload.encode(), NOW)
    assert (ov.mode, ov.until) == (mode, NOW + timedelta(minutes=minutes))


@pytest.mark.parametrize("target, payload, error", [
    ("load", "2", "mode '2': expected ON, OFF or AUTO"),
    ("load", "yes", "expected ON, OFF or AUTO"),
    ("load", '{"mode": 2}', "expected ON, OFF or AUTO"),
    ("load", '{"state": "ON", "mode": "ON"}', "mode or state, not both"),
    ("load", '{"state": "ON", "colour": "red"}', "unknown key"),
    ("load", '["ON"]', "JSON must be an object"),
    ("load", '{"minutes": 601}', "longer than the maximum 600 min"),
    ("load", '{"minutes": 0}', "minutes"),
    ("load", '{"minutes": true}', "not true/false"),
    ("load", '{"until": "2026-07-01T13:00:00+00:00"}', "needs a 'mode'"),
    ("drm", "true", "AUTO or a wired DRM mode 0/2/3"),
    ("drm", '{"state": false}', "not true/false"),
    ("drm", "ON", "AUTO or a wired DRM mode"),
])
def test_everything_else_keeps_a_clear_error(target, payload, error):
    name = WHN if target == "load" else "aircon"
    with pytest.raises(OverrideError, match=error):
        parse(CFG, target, name, payload.encode(), NOW)


def test_drm_takes_its_modes_in_every_form():
    for payload, mode in (("2", 2), ('{"state": "3"}', 3), ('{"mode": 0}', 0), ('"2"', 2), ("auto", "auto")):
        assert parse(CFG, "drm", "aircon", payload.encode(), NOW).mode == mode


def test_override_length_alone_then_used_by_the_next_on(tmp_path):
    got = parse(CFG, "load", WHN, b'{"minutes": 45}', NOW)
    assert got == LengthSet("load", WHN, 45)
    lengths = OverrideLengths(tmp_path / "lengths.json")
    lengths.set("load", WHN, 45)
    again = OverrideLengths(tmp_path / "lengths.json")  # a restart keeps what the user chose
    ov = parse(CFG, "load", WHN, b"ON", NOW, length_min=again.get("load", WHN))
    assert ov.until == NOW + timedelta(minutes=45)
    assert again.get("drm", "aircon") is None
