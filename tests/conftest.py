"""Shared fixtures: a real Mosquitto from mosquitto/, dev secrets, configs, service processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from circuitq.config import Secrets
from sim.broker import Broker
from sim.fleet import deep_update, write_fleet_config
from sim.secrets import make_dev_secrets
from tests.mqtt_probe import Probe

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "example.yaml"


@pytest.fixture(scope="session")
def secrets_path(tmp_path_factory) -> Path:
    """The dev secrets file, written: a service refuses to start without its secrets file."""
    path = tmp_path_factory.mktemp("secrets") / "secrets.yaml"
    make_dev_secrets(path)
    return path


@pytest.fixture(scope="session")
def secrets(secrets_path) -> Secrets:
    return Secrets.model_validate(yaml.safe_load(secrets_path.read_text()))


@pytest.fixture(scope="session")
def broker(tmp_path_factory, secrets):
    """One broker for the session; tests that kill it use `own_broker`."""
    b = Broker(tmp_path_factory.mktemp("broker"), secrets).start()
    yield b
    b.stop()


@pytest.fixture
def own_broker(tmp_path, secrets):
    b = Broker(tmp_path / "broker", secrets).start()
    yield b
    b.stop()


@pytest.fixture
def probe_factory(secrets):
    made = []

    def make(broker: Broker, username: str = "user", password: str | None = None, **kw) -> Probe:
        pw = password if password is not None else secrets.mqtt_users.get(username)
        p = Probe(broker.port, username, pw, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        try:
            p.close()
        except Exception:
            pass


@pytest.fixture
def user_probe(probe_factory, broker):
    """A phone-like client on the `user` account, subscribed to everything it may read."""
    p = probe_factory(broker, "user")
    p.subscribe("circuitq/#")
    return p


def write_config(path: Path, broker: Broker | None, secrets_path: Path, state_dir: Path,
                 overrides: dict | None = None) -> Path:
    """The example config with the broker, secrets, state and sim GPIO pointed at this test."""
    return write_fleet_config(path, state_dir / "run", broker.port if broker else 1883, secrets_path,
                              None, deep_update({"state_dir": str(state_dir)}, overrides or {}))


@pytest.fixture
def config_factory(tmp_path, broker, secrets_path):
    def make(overrides: dict | None = None, name: str = "config.yaml", broker_=None) -> Path:
        return write_config(tmp_path / name, broker_ or broker, secrets_path, tmp_path / "state", overrides)
    return make


class ServiceProcess:
    """`python -m services.<name> --config PATH`: exactly what docker-compose runs."""

    def __init__(self, name: str, config: Path, env: dict | None = None, log_dir: Path | None = None):
        self.name, self.config = name, config
        self.log_path = (log_dir or config.parent) / f"{name}.log"
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", f"services.{name}", "--config", str(config)],
                                     cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT)

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    def stop(self, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None


@pytest.fixture
def service_factory(tmp_path):
    started: list[ServiceProcess] = []

    def start(name: str, config: Path, env: dict | None = None) -> ServiceProcess:
        sp = ServiceProcess(name, config, env, tmp_path)
        started.append(sp)
        return sp

    yield start
    for sp in started:
        sp.stop()
