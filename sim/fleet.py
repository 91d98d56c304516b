"""The whole fleet on simulated hardware: broker, fake clouds, six services as processes.

Used by `make demo` (sim/demo.py) and by the fleet end-to-end tests. Every service runs with
the command docker-compose.yml gives it (`python -m services.<name> --config ...`); the
config is config/example.yaml with only hosts, ports, paths and poll intervals changed to
point at this machine's broker and fakes.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from circuitq import SERVICES
from circuitq.config import Secrets
from sim.broker import Broker, free_port
from sim.fakes.curb import FakeCurb
from sim.fakes.ecobee import FakeEcobee
from sim.fakes.prowl import FakeProwl
from sim.fakes.solar import SolarFakes
from sim.secrets import ensure_dev_secrets

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "example.yaml"


class SimCloud:
    """Every cloud API circuitq talks to, as local fakes speaking the real wire formats."""

    def __init__(self, tz: str = "America/New_York", echo_prowl: bool = False):
        self.curb = FakeCurb()
        self.solar = SolarFakes(tz=tz)
        # The demo's PIN is "entered" at once, so `authorize` completes without a person.
        self.ecobee = FakeEcobee(pin_interval_s=1, auto_approve_s=0)
        self.prowl = FakeProwl(echo=echo_prowl)

    def start(self) -> "SimCloud":
        self.curb.start()
        self.solar.start()
        self.ecobee.start()
        self.prowl.start()
        return self

    def stop(self) -> None:
        for fake in (self.curb, self.solar, self.ecobee, self.prowl):
            fake.stop()

    def overrides(self, fast: bool = True) -> dict:
        """Config changes that point every collector and agent at the fakes."""
        solar_sources = self.solar.sources()
        if fast:  # the Envoy is on the LAN: no budget to respect (the clouds keep theirs)
            for src in solar_sources:
                if src["kind"] == "envoy":
                    src["poll_s"] = 5
        return {
            "curb": {"auth_host": self.curb.url, "api_host": self.curb.url,
                     **({"poll_s": 5} if fast else {})},
            "solar": {"sources": solar_sources},
            "ecobee": {"api_host": self.ecobee.host, **({"poll_s": 10} if fast else {})},
            "notifier": {"prowl": {"host": self.prowl.host}},
        }


def deep_update(dst: dict, src: dict) -> dict:
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            deep_update(dst[k], v)
        else:
            dst[k] = v
    return dst


def write_fleet_config(path: Path, run_dir: Path, broker_port: int, secrets_path: Path,
                       cloud: SimCloud | None, overrides: dict | None = None,
                       base: Path = EXAMPLE) -> Path:
    data = yaml.safe_load(base.read_text())
    deep_update(data, {
        "mqtt": {"host": "127.0.0.1", "port": broker_port},
        "state_dir": str(run_dir / "state"),
        "secrets_file": str(secrets_path),
        "relay_agent": {"backend": "sim", "sim_state_file": str(run_dir / "gpio.json"),
                        "lock_file": str(run_dir / "relay_agent.lock")},
        "web": {"host": "127.0.0.1", "port": free_port()},  # this machine only, any free port
    })
    if cloud is not None:
        deep_update(data, cloud.overrides())
    deep_update(data, overrides or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class SimFleet:
    def __init__(self, run_dir: Path, port: int | None = None, overrides: dict | None = None,
                 echo_prowl: bool = False, services: tuple[str, ...] = SERVICES):
        self.run_dir = Path(run_dir).resolve()
        self.port, self.overrides, self.services = port, overrides, services
        self.cloud = SimCloud(echo_prowl=echo_prowl)
        self.procs: dict[str, subprocess.Popen] = {}
        self.broker: Broker | None = None

    def start(self) -> "SimFleet":
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> "SimFleet":
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.secrets_path = self.run_dir / "secrets.yaml"
        raw = ensure_dev_secrets(self.secrets_path)  # keeps the passwords a phone app already has
        self.secrets = Secrets.model_validate(raw)
        self.broker = Broker(self.run_dir / "broker", self.secrets, port=self.port).start()
        self.port = self.broker.port
        self.cloud.start()
        self.config = write_fleet_config(self.run_dir / "config.yaml", self.run_dir, self.port,
                                         self.secrets_path, self.cloud, self.overrides)
        if "ecobee_agent" in self.services:
            self.authorize_ecobee()
        for name in self.services:
            self.procs[name] = self._spawn(name)
        return self

    def _spawn(self, name: str) -> subprocess.Popen:
        log = open(self.run_dir / f"{name}.log", "ab")
        return subprocess.Popen([sys.executable, "-m", f"services.{name}", "--config", str(self.config)],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def authorize_ecobee(self) -> None:
        """Run the real PIN flow against the fake (its PIN is approved at once)."""
        subprocess.run([sys.executable, "-m", "services.ecobee_agent", "authorize", "--config",
                        str(self.config)], cwd=ROOT, check=True, timeout=60,
                       stdout=open(self.run_dir / "ecobee_authorize.log", "ab"), stderr=subprocess.STDOUT)

    def alive(self) -> dict[str, bool]:
        return {n: p.poll() is None for n, p in self.procs.items()}

    def stop(self) -> dict[str, int]:
        codes = {}
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for n, p in self.procs.items():
            try:
                codes[n] = p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                codes[n] = p.wait()
        if self.broker:
            self.broker.stop()
        self.cloud.stop()
        return codes
