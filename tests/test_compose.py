"""docker-compose.yml stays true without a Docker engine.

1. Debian's docker-compose validates the file (`config -q`).
2. The file keeps its promises: non-root, restart policy, only the relay agent gets a device
   (GPIO memory, never privileged), the broker runs the project's own mosquitto/ config.
3. Every service it starts runs outside Docker with the same command and environment: the
   container paths are mapped to a temporary directory, the broker host `mosquitto` to
   127.0.0.1, and nothing else is changed.
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


def test_docker_compose_accepts_the_file():
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is missing: scripts/setup.sh installs it"
    r = subprocess.run([exe, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr


def test_docker_compose_rejects_a_broken_file(tmp_path, compose):
    """The validator is real: a misspelled key and an undefined dependency are caught."""
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["scheduler"]["depends_on"] = ["no_such_service"]
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(broken))
    r = subprocess.run([shutil.which("docker-compose"), "-f", str(tmp_path / "docker-compose.yml"),
                        "config", "-q"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0


def test_services_are_the_design_cards_and_keep_their_promises(compose):
    services = compose["services"]
    assert set(services) == set(SERVICES) | {"mosquitto"}
    assert "./mosquitto:/mosquitto/config:ro" in services["mosquitto"]["volumes"]
    for name in SERVICES:
        svc = services[name]
        assert svc["command"] == ["python", "-m", f"services.{name}", "--config",
                                  "/etc/circuitq/config.yaml"]
        assert svc["restart"] == "unless-stopped"
        assert not str(svc.get("user", "0")).startswith("0"), f"{name} runs as root"
        assert not svc.get("privileged") and not svc.get("cap_add")
        if name == "relay_agent":
            assert svc["devices"] == ["/dev/gpiomem:/dev/gpiomem"]
        else:
            assert "devices" not in svc, f"only the relay agent may touch hardware, not {name}"


def _outside_docker(svc: dict, tmp: Path, broker_port: int) -> tuple[list[str], dict, Path]:
    """The service's compose command and environment, with container paths on this machine."""
    mounts = {}
    for vol in svc["volumes"]:
        src, dst = vol.split(":")[:2]
        mounts[dst] = tmp / src.strip("./").replace("/", "_")
    mounts[svc["working_dir"]] = tmp / "workdir"

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
        # Relative paths from the config landed in the working directory, as in the container.
        assert (tmp_path / "workdir" / "run" / "gpio.json").exists()
        assert (tmp_path / "circuitq-state").is_dir()
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
