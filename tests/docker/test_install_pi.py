"""scripts/install-pi.sh on a Debian 12 machine with systemd as PID 1 (a container here):
the units pass `systemd-analyze verify`, every service starts from them and comes online
with its hardening in force, and running the installer again keeps what the user set.

The flow is the guide's (docs/install-bare.md): run the installer, describe the house in
/etc/circuitq/config.yaml, restart circuitq.target.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from circuitq import SERVICES
from tests.docker import engine
from tests.docker.project import copy_checkout, house_config

SRC = "/home/pi/circuitq"


class Machine:
    def __init__(self, name: str):
        self.name = name

    def sh(self, script: str, timeout: float = 900, check: bool = True):
        r = engine.podman("exec", self.name, "bash", "-c", script, timeout=timeout, check=False)
        if check and r.returncode != 0:
            raise AssertionError(f"{script!r}: exit {r.returncode}\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
        return r

    def read(self, path: str) -> str:
        return self.sh(f"cat {path}").stdout


@pytest.fixture(scope="module")
def pi(tmp_path_factory):
    api = engine.start_api(tmp_path_factory.mktemp("engine") / "podman-api.log")  # same storage settings
    engine.ensure_standins(engine.ENGINE_DIR / "work")
    engine.ensure_systemd_image()
    name = f"cqpi{os.getpid()}"
    engine.podman("run", "-d", "--name", name, "--hostname", "raspberrypi", "--systemd=always", engine.SYSTEMD)
    m = Machine(name)
    try:
        m.sh("systemctl is-system-running --wait || true", timeout=120)
        m.sh(f"mkdir -p {SRC}")
        with tempfile.TemporaryDirectory() as tmp:
            copy_checkout(Path(tmp), with_vendor=True)
            engine.podman("cp", f"{tmp}/.", f"{name}:{SRC}")
        t = time.monotonic()
        first = m.sh(f"bash {SRC}/scripts/install-pi.sh")
        took = time.monotonic() - t
        print(f"\ninstall-pi.sh took {took:.0f} s")
        # The user describes the house (here: simulated GPIO, clouds refused), then restarts.
        config = yaml.safe_dump(house_config("run/gpio.json"), sort_keys=False)
        engine.podman("exec", "-i", name, "bash", "-c", "cat > /etc/circuitq/config.yaml", input=config)
        m.sh("systemctl restart circuitq.target")
        yield m, first.stdout
    finally:
        engine.podman("rm", "-f", "-t", "5", name, check=False)
        if api is not None:
            api.terminate()
            api.wait(30)


def test_the_installer_says_where_the_phone_password_is(pi):
    _, out = pi
    assert "port 1883, user 'user', password: mqtt_users.user in /etc/circuitq/secrets.yaml" in out
    assert "next: describe your house in /etc/circuitq/config.yaml" in out


def test_units_pass_systemd_analyze_verify(pi):
    m, _ = pi
    units = " ".join([f"circuitq@{s}.service" for s in SERVICES] + ["circuitq.target"])
    r = m.sh(f"cd /etc/systemd/system && systemd-analyze verify {units} 2>&1", check=False)
    complaints = [line for line in r.stdout.splitlines() if "circuitq" in line]
    assert r.returncode == 0 and not complaints, r.stdout


def test_every_service_starts_from_its_unit_and_comes_online(pi):
    m, _ = pi
    deadline = time.monotonic() + 180
    while True:
        states = {s: m.sh(f"systemctl is-active circuitq@{s}.service", check=False).stdout.strip() for s in SERVICES}
        if all(v == "active" for v in states.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert all(v == "active" for v in states.values()), (
        states, m.sh("journalctl -u 'circuitq@*' --no-pager -n 60", check=False).stdout)
    password = yaml.safe_load(m.read("/etc/circuitq/secrets.yaml"))["mqtt_users"]["user"]
    while True:
        r = m.sh(f"mosquitto_sub -h 127.0.0.1 -u user -P '{password}' -t 'circuitq/+/status' -v -W 3 || true")
        online = {line.split("/")[1] for line in r.stdout.splitlines() if line.endswith(" online")}
        if online >= set(SERVICES) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert online >= set(SERVICES), r.stdout


def test_hardening_and_groups_are_in_force(pi):
    m, _ = pi
    for s in SERVICES:
        pid = m.sh(f"systemctl show -p MainPID --value circuitq@{s}.service").stdout.strip()
        status = m.read(f"/proc/{pid}/status")
        assert "NoNewPrivs:\t1" in status, s
        assert m.sh(f"systemctl show -p ProtectSystem --value circuitq@{s}.service").stdout.strip() == "strict"
        uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
        assert m.sh(f"id -u circuitq-{s}").stdout.strip() == uid, s
        groups = m.sh(f"id -nG circuitq-{s}").stdout.split()
        assert ("gpio" in groups) == (s == "relay_agent"), (s, groups)
    assert m.sh("getent group gpio").stdout.strip().split(":")[3] == "circuitq-relay_agent"
    relay = m.sh("systemctl show -p DevicePolicy -p DeviceAllow -p PrivateDevices circuitq@relay_agent.service").stdout
    assert "DevicePolicy=closed" in relay and "DeviceAllow=char-gpiochip rw" in relay
    assert "PrivateDevices=yes" in m.sh("systemctl show -p PrivateDevices circuitq@scheduler.service").stdout


def test_files_have_the_owner_and_mode_their_reader_needs(pi):
    m, _ = pi
    stat = m.sh("stat -c '%n %U %G %a' /etc/circuitq/secrets.yaml /etc/circuitq/config.yaml "
                "/etc/mosquitto/circuitq/passwd /var/lib/circuitq").stdout.split("\n")
    assert stat[:4] == ["/etc/circuitq/secrets.yaml root root 600", "/etc/circuitq/config.yaml root circuitq 640",
                        "/etc/mosquitto/circuitq/passwd mosquitto mosquitto 600", "/var/lib/circuitq root circuitq 2770"]
    assert "change-me" not in m.read("/etc/circuitq/secrets.yaml")


def test_running_it_again_upgrades_and_keeps_what_the_user_set(pi):
    m, _ = pi
    before = {f: hashlib.sha256(m.read(f).encode()).hexdigest()
              for f in ("/etc/circuitq/config.yaml", "/etc/circuitq/secrets.yaml")}
    m.sh(f"bash {SRC}/scripts/install-pi.sh")
    after = {f: hashlib.sha256(m.read(f).encode()).hexdigest() for f in before}
    assert before == after
    assert m.sh("systemctl is-active circuitq@relay_agent.service", check=False).stdout.strip() == "active"
