"""One interface to a running fleet, as processes (default) or as `docker compose up`.

tests/test_fleet_e2e.py runs the same tests against either: processes here (no Docker
engine on these machines), containers with CIRCUITQ_DOCKER=1 (`make test-docker`).
"""
from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import yaml

from circuitq import SERVICES
from circuitq.config import Secrets
from mosquitto.make_passwd import build as build_passwd
from sim.fleet import ROOT, SimCloud, SimFleet, write_fleet_config


class ProcessFleet(SimFleet):
    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(10)


class DockerFleet:
    """docker-compose.yml plus tests/docker/compose.e2e.yml, driven by pytest-docker."""

    def __init__(self, run_dir: Path, overrides: dict | None = None):
        from pytest_docker.plugin import DockerComposeExecutor
        self.run_dir, self.overrides = Path(run_dir).resolve(), overrides
        os.environ["CIRCUITQ_E2E_DIR"] = str(self.run_dir)
        self.dc = DockerComposeExecutor("docker compose", [str(ROOT / "docker-compose.yml"),
                                                           str(ROOT / "tests/docker/compose.e2e.yml")],
                                        f"circuitq-e2e-{os.getpid()}")
        self.cloud = SimCloud()
        self.port = 1883

    def start(self) -> "DockerFleet":
        from sim.secrets import make_dev_secrets
        cfg_dir, mq_dir = self.run_dir / "config", self.run_dir / "mosquitto"
        for d in (cfg_dir, mq_dir, self.run_dir / "state"):
            d.mkdir(parents=True, exist_ok=True)
        self.secrets = Secrets.model_validate(make_dev_secrets(cfg_dir / "secrets.yaml"))
        for f in ("mosquitto.conf", "acl"):
            shutil.copy(ROOT / "mosquitto" / f, mq_dir / f)
        build_passwd(self.secrets, mq_dir / "passwd")
        self.cloud.start()
        example = yaml.safe_load((ROOT / "config" / "example.yaml").read_text())
        write_fleet_config(cfg_dir / "config.yaml", self.run_dir, self.port, Path("/etc/circuitq/secrets.yaml"),
                           self.cloud, {**(self.overrides or {}), "relay_agent": {
                               **(self.overrides or {}).get("relay_agent", {}),
                               "sim_state_file": example["relay_agent"]["sim_state_file"],
                               "lock_file": example["relay_agent"]["lock_file"]}})
        self.dc.execute("run --rm ecobee_agent python -m services.ecobee_agent authorize "
                        "--config /etc/circuitq/config.yaml")
        self.dc.execute("up --build -d")
        return self

    def kill(self, name: str) -> None:
        self.dc.execute(f"kill -s SIGKILL {name}")

    def stop(self) -> dict[str, int]:
        self.dc.execute("down -v")
        self.cloud.stop()
        return {n: 0 for n in SERVICES}


def docker_mode() -> bool:
    return os.environ.get("CIRCUITQ_DOCKER") == "1"
