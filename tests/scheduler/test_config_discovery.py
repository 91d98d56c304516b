"""Config errors name the key; Home Assistant discovery describes every load and DRM output."""
import pytest
import yaml

from circuitq.config import ConfigError, load_config
from services.scheduler import discovery

from .test_seeds import EXAMPLES


@pytest.mark.parametrize("patch, message", [
    ({"loads": {"water_heater_north": {"block": ["nite"]}}},
     "loads.water_heater_north.block: unknown calendar 'nite'"),
    ({"loads": {"pool_pump": {"relay": "pool_pmup"}}}, "loads.pool_pump.relay: unknown relay 'pool_pmup'"),
    ({"loads": {"heat_pump_south": {"block_when": [{"load": "oven"}]}}},
     "loads.heat_pump_south.block_when.0.load: unknown load 'oven'"),
    ({"scheduler": {"calendars": {"night": [{"start": "25:00", "end": "11:00"}]}}}, "not a time of day"),
    ({"scheduler": {"drm": {"aircon": {"steps": [{"below_w": 400, "mode": 1}]}}}}, "mode 1 is not wired"),
    ({"loads": {"pool_pump": {"override_default_min": 2000}}}, "longer than override_max_min"),
    ({"scheduler": {"max_runing": 2}}, "scheduler.max_runing: unknown key"),
])
def test_config_errors_name_the_key(tmp_path, patch, message):
    data = yaml.safe_load((EXAMPLES.parent / "example.yaml").read_text())
    for section, value in patch.items():
        for k, v in value.items():
            if isinstance(v, dict) and isinstance(data[section].get(k), dict):
                data[section][k].update(v)
            else:
                data[section][k] = v
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        load_config(path, env={})


@pytest.mark.parametrize("name", ["circuitqueueing.yaml", "dreadpi.yaml"])
def test_seed_configs_validate(name):
    load_config(EXAMPLES / name, env={})


def test_discovery_has_a_select_per_controllable_load_and_sensors_for_all():
    cfg = load_config(EXAMPLES.parent / "example.yaml", env={})
    msgs = discovery.messages(cfg)
    by = {(n["component"], n["object"]): p for n, p in msgs}
    assert ("select", "water_heater_north_mode") in by and ("select", "kitchen_mode") not in by
    assert ("sensor", "kitchen_power") in by and ("binary_sensor", "dryer_running") in by
    drm = by[("select", "drm_aircon")]
    assert drm["options"] == ["auto", "0", "2", "3"] and drm["command_topic"] == "circuitq/drm/aircon/set"
    assert all(p["availability"] == [{"topic": "circuitq/scheduler/status"}] for p in by.values()
               if p.get("command_topic"))
    assert len({p["unique_id"] for p in by.values()}) == len(by)
    assert all(n["discovery"] == "homeassistant" for n, _ in msgs)
