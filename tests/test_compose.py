"""docker-compose.yml keeps its promises, and its services run outside Docker too.

1. The file keeps its promises: non-root, restart policy, only the relay agent gets a device
   (the GPIO chip, never privileged), the broker runs the project's own mosquitto/ config.
2. Every service it starts runs outside Docker with the same command and environment: the
   container paths are mapped to a temporary directory, the broker host `mosquitto` to
   127.0.0.1, and nothing else is changed.
`make test-compose` (tests/docker/) runs the file itself under a real container engine.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from circuitq import SERVICES
from sim.fleet import SimCloud, write_fleet_config

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_services_are_the_design_cards_and_keep_their_promises(compose):
    services = compose["services"]
    assert set(services) == set(SERVICES) | {"mosquitto", "passwd"}
    assert "./mosquitto:/mosquitto/config:ro" in services["mosquitto"]["volumes"]
    # The shipped policy, untouched, included by the container's own file (ports and paths).
    assert services["mosquitto"]["command"] == ["mosquitto", "-c", "/mosquitto/config/compose/mosquitto.conf"]
    assert "include_dir /mosquitto/config\n" in (ROOT / "mosquitto" / "compose" / "mosquitto.conf").read_text()
    # The one-off that builds the password file runs only when asked, with no network.
    assert services["passwd"]["profiles"] == ["setup"] and services["passwd"]["network_mode"] == "none"
    assert services["passwd"]["command"][-2:] == ["--owner", "1883:1883"]
    for name in SERVICES:
        svc = services[name]
        assert svc["command"] == ["python", "-m", f"services.{name}", "--config",
                                  "/etc/circuitq/config.yaml"]
        assert svc["restart"] == "unless-stopped"
        assert not str(svc.get("user", "0")).startswith("0"), f"{name} runs as root"
        assert not svc.get("privileged") and not svc.get("cap_add")
        if name == "relay_agent":
            # The board's GPIO chip (set per machine in .env), seen as gpiochip0 inside.
            assert svc["devices"] == ["${CIRCUITQ_GPIO_DEVICE:-/dev/gpiochip0}:/dev/gpiochip0"]
            assert svc["environment"]["CIRCUITQ_GPIO_CHIP"] == "0"
        else:
            assert "devices" not in svc, f"only the relay agent may touch hardware, not {name}"


def _outside_docker(svc: dict, tmp: Path, broker_port: int) -> tuple[list[str], dict, Path]:
    """The service's compose command and environment, with container paths on this machine."""
    mounts = {}
    for vol in svc["volumes"]:
        src, dst = vol.split(":")[:2]
        mounts[dst] = tmp / src.strip("./").replace("/", "_")
    mounts.setdefault(svc["working_dir"], tmp / "workdir")

    def host_path(value: str) -> str:
        for dst, src in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
            if value == dst or value.startswith(dst + "/"):
                return str(src) + value[len(dst):]
        return value

    command = [sys.executable if a == "python" else host_path(a) for a in svc["command"]]
    env = {k: host_path(str(v)) for k, v in svc["environment"].items()}
    assert env.pop("CIRCUITQ_MQTT_HOST") == "mosquitto"
    env["CIRCUITQ_MQTT_HOST"] = "127.0.0.1"
    env["CIRCUITQ_MQTT_PORT"] = str(broker_port)
    return command, env, mounts[svc["working_dir"]]


def test_every_compose_service_starts_outside_docker(compose, tmp_path, broker, secrets_path, user_probe):
    cloud = SimCloud().start()
    try:
        config_dir = tmp_path / "config"
        config_dir.mkdir()
        shutil.copy(secrets_path, config_dir / "secrets.yaml")
        os.chmod(config_dir / "secrets.yaml", 0o600)
        example = yaml.safe_load((ROOT / "config" / "example.yaml").read_text())
        write_fleet_config(config_dir / "config.yaml", tmp_path, 1883, config_dir / "secrets.yaml", cloud,
                           overrides={"relay_agent": {k: example["relay_agent"][k]
                                                      for k in ("sim_state_file", "lock_file")}})
        procs = {}
        for name in SERVICES:
            command, env, workdir = _outside_docker(compose["services"][name], tmp_path, broker.port)
            workdir.mkdir(exist_ok=True)
            if name == "ecobee_agent":  # first-run step from the README: link the thermostat
                subprocess.run(command[:3] + ["authorize"] + command[3:], env={**os.environ, **env},
                               cwd=workdir, check=True, timeout=60, capture_output=True)
            log = open(tmp_path / f"{name}.log", "wb")
            procs[name] = subprocess.Popen(command, env={**os.environ, **env}, cwd=workdir,
                                           stdout=log, stderr=subprocess.STDOUT)
        for name in SERVICES:
            user_probe.on_topic(f"circuitq/{name}/status", lambda m: m.text == "online", timeout=20)
        # Relative paths from the config landed in the working directory, the state volume.
        assert (tmp_path / "circuitq-state" / "run" / "gpio.json").exists()
        for name, p in procs.items():
            assert p.poll() is None, f"{name} exited:\n{(tmp_path / f'{name}.log').read_text()[-2000:]}"
            p.send_signal(signal.SIGTERM)
        for name, p in procs.items():
            assert p.wait(20) == 0, (tmp_path / f"{name}.log").read_text()[-2000:]
            user_probe.on_topic(f"circuitq/{name}/status", lambda m: m.text == "offline", timeout=5)
    finally:
        for p in locals().get("procs", {}).values():
            if p.poll() is None:
                p.kill()
        cloud.stop()
