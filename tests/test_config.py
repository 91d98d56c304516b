"""Config loading: errors name the file, line and key; secrets must be private; env wins."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from circuitq.config import ConfigError, load_config, load_secrets, mqtt_password

ROOT = Path(__file__).resolve().parent.parent


def test_example_and_seed_configs_validate():
    cfg = load_config(ROOT / "config" / "example.yaml", env={})
    assert set(cfg.relays) == {"water_heater_north", "water_heater_south", "pool_pump"}
    assert cfg.drm_outputs["aircon"].modes[2] == {"drm2": "on", "drm3": "off"}
    for path in sorted((ROOT / "config" / "examples").glob("*.yaml")):
        load_config(path, env={})


def test_unknown_key_names_file_line_and_path(tmp_path):
    bad = tmp_path / "house.yaml"
    bad.write_text("relays:\n  pool_pump:\n    pin: 13\n    min_onn_s: 300\n")
    with pytest.raises(ConfigError) as e:
        load_config(bad, env={})
    assert f"{bad}: line 4: relays.pool_pump.min_onn_s: unknown key" in str(e.value)


def test_wrong_type_and_range_are_named(tmp_path):
    bad = tmp_path / "house.yaml"
    bad.write_text("relays:\n  pool_pump:\n    pin: 99\n    min_on_s: soon\n")
    with pytest.raises(ConfigError) as e:
        load_config(bad, env={})
    msg = str(e.value)
    assert "line 3: relays.pool_pump.pin: Input should be less than or equal to 40" in msg
    assert "line 4: relays.pool_pump.min_on_s" in msg


def test_yaml_syntax_error_has_line(tmp_path):
    bad = tmp_path / "house.yaml"
    bad.write_text("site:\n  name: x\n relays: [\n")
    with pytest.raises(ConfigError) as e:
        load_config(bad, env={})
    assert str(bad) in str(e.value) and "line 3" in str(e.value)


def test_unquoted_on_off_mean_the_words(tmp_path):
    f = tmp_path / "house.yaml"
    f.write_text("relays:\n  pump:\n    pin: 13\n    boot_state: off\n    safe_state: on\n")
    cfg = load_config(f, env={})
    assert (cfg.relays["pump"].boot_state, cfg.relays["pump"].safe_state) == ("off", "on")


def test_env_overrides_broker_settings(tmp_path):
    f = tmp_path / "house.yaml"
    f.write_text("mqtt:\n  host: broker.lan\n  port: 1883\n")
    cfg = load_config(f, env={"CIRCUITQ_MQTT_HOST": "10.0.0.5", "CIRCUITQ_MQTT_PORT": "1884",
                              "CIRCUITQ_MQTT_USERNAME": "scheduler2", "CIRCUITQ_STATE_DIR": "/var/x"})
    assert (cfg.mqtt.host, cfg.mqtt.port, cfg.mqtt.username) == ("10.0.0.5", 1884, "scheduler2")
    assert cfg.state_dir == Path("/var/x")


def test_password_sources_in_order(tmp_path):
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("mqtt_users:\n  scheduler: from-secrets\n")
    secrets.chmod(0o600)
    f = tmp_path / "house.yaml"
    f.write_text(f"secrets_file: {secrets}\n")
    cfg = load_config(f, env={})
    assert mqtt_password(cfg, "scheduler", env={}) == "from-secrets"
    pw = tmp_path / "pw"
    pw.write_text("from-file\n")
    pw.chmod(0o600)
    cfg2 = load_config(f, env={"CIRCUITQ_MQTT_PASSWORD_FILE": str(pw)})
    assert mqtt_password(cfg2, "scheduler", env={}) == "from-file"
    assert mqtt_password(cfg2, "scheduler", env={"CIRCUITQ_MQTT_PASSWORD": "from-env"}) == "from-env"


def test_world_readable_secrets_refused_with_chmod_hint(tmp_path):
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("mqtt_users:\n  scheduler: x\n")
    secrets.chmod(0o644)
    f = tmp_path / "house.yaml"
    f.write_text(f"secrets_file: {secrets}\n")
    with pytest.raises(ConfigError) as e:
        load_secrets(load_config(f, env={}))
    assert f"chmod 600 {secrets}" in str(e.value)


@pytest.mark.parametrize("service", ["relay_agent", "scheduler", "curb_collector", "solar_collector",
                                     "ecobee_agent", "notifier"])
def test_service_exits_2_on_bad_config_without_touching_anything(tmp_path, service):
    bad = tmp_path / "house.yaml"
    bad.write_text("relays:\n  pool_pump:\n    pin: 13\n    colour: blue\n"
                   f"relay_agent:\n  sim_state_file: {tmp_path}/gpio.json\n")
    r = subprocess.run([sys.executable, "-m", f"services.{service}", "--config", str(bad)],
                       cwd=ROOT, capture_output=True, text=True, timeout=30,
                       env={**os.environ, "CIRCUITQ_MQTT_PORT": "1"})
    assert r.returncode == 2, r.stderr
    assert "relays.pool_pump.colour: unknown key" in r.stderr
    assert not (tmp_path / "gpio.json").exists()


def test_infinite_or_nan_settings_are_refused(tmp_path):
    f = tmp_path / "house.yaml"
    f.write_text("relays:\n  pool_pump:\n    pin: 13\n    max_lease_s: .inf\n    min_on_s: .nan\n")
    with pytest.raises(ConfigError) as e:
        load_config(f, env={})
    assert "line 4: relays.pool_pump.max_lease_s: Input should be a finite number" in str(e.value)
    assert "line 5: relays.pool_pump.min_on_s" in str(e.value)
