"""Each fallback that used to be silent is now a clear error, at once, before anything runs.

- no --config: a service used to read config/example.yaml and drive relays from it;
- no secrets file: it used to log in to whatever broker answered, with no password;
- backend rpi without a GPIO library: a 22-line traceback instead of what to install.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from circuitq.config import ConfigError, load_config
from circuitq.service import broker_password, make_context
from services.relay_agent.gpio.board import Choice, choose_library, gpiochip_number, read_model

ROOT = Path(__file__).resolve().parent.parent
ENV = {k: v for k, v in os.environ.items() if not k.startswith("CIRCUITQ_")}


def run_service(name: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"services.{name}", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**ENV, **(env or {})})


@pytest.mark.parametrize("service", ["relay_agent", "scheduler", "notifier"])
def test_no_config_is_a_one_line_error_and_exit_2(service):
    r = run_service(service)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"{service}: no config file given: pass --config PATH (or set CIRCUITQ_CONFIG); "
        f"copy config/example.yaml to start one"]


def test_load_config_never_picks_the_example_by_itself():
    with pytest.raises(ConfigError, match="no config file given"):
        load_config(None, env={})


def house(tmp_path: Path, **extra) -> Path:
    data = {"mqtt": {"port": 9}, "state_dir": str(tmp_path / "state"),
            "relay_agent": {"sim_state_file": str(tmp_path / "gpio.json")}, **extra}
    f = tmp_path / "house.yaml"
    f.write_text(yaml.safe_dump(data))
    return f


def test_missing_secrets_file_is_an_error_naming_it_and_touches_nothing(tmp_path):
    missing = tmp_path / "nowhere" / "secrets.yaml"
    r = run_service("relay_agent", "--config", str(house(tmp_path, secrets_file=str(missing))))
    assert r.returncode == 2
    assert f"{missing}: secrets file not found" in r.stderr and "mqtt.anonymous: true" in r.stderr
    assert not (tmp_path / "gpio.json").exists(), "no relay may be set up before the config is whole"


def test_a_service_without_a_password_in_the_secrets_is_refused(tmp_path):
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("mqtt_users:\n  relay_agent: only-this-one\n")
    secrets.chmod(0o600)
    r = run_service("scheduler", "--config", str(house(tmp_path, secrets_file=str(secrets))))
    assert r.returncode == 2
    assert f"{secrets}: no broker password for MQTT user scheduler (mqtt_users.scheduler)" in r.stderr


def test_an_anonymous_broker_is_said_explicitly_and_then_needs_no_secrets(tmp_path):
    cfg = load_config(house(tmp_path, secrets_file=str(tmp_path / "none.yaml"), mqtt={"port": 9, "anonymous": True}),
                      env={})
    assert broker_password(cfg, "scheduler", env={}) is None
    ctx = make_context("scheduler", argparse.Namespace(config=str(tmp_path / "house.yaml"), log_level=None))
    assert ctx.secrets.mqtt_users == {}


def test_password_from_the_environment_still_needs_the_named_secrets_file(tmp_path):
    cfg = load_config(house(tmp_path, secrets_file=str(tmp_path / "none.yaml")), env={})
    with pytest.raises(ConfigError, match="secrets file not found"):
        broker_password(cfg, "scheduler", env={"CIRCUITQ_MQTT_PASSWORD": "pw"})
    cfg.secrets_file = None  # the config says: no secrets file, the password comes from elsewhere
    assert broker_password(cfg, "scheduler", env={"CIRCUITQ_MQTT_PASSWORD": "pw"}) == "pw"
    with pytest.raises(ConfigError, match="no broker password for MQTT user scheduler"):
        broker_password(cfg, "scheduler", env={})


def test_backend_rpi_without_a_gpio_library_says_what_to_do_in_one_line(tmp_path, secrets_path):
    """This machine has neither lgpio nor RPi.GPIO, and is no Pi."""
    r = run_service("relay_agent", "--config",
                    str(house(tmp_path, secrets_file=str(secrets_path), relay_agent={"backend": "rpi"})))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("relay_agent: GPIO: relay_agent.backend is rpi, but this machine is not a Raspberry Pi")
    assert "use backend: sim" in lines[0]


PI5, PI4 = "Raspberry Pi 5 Model B Rev 1.0", "Raspberry Pi 4 Model B Rev 1.5"


@pytest.mark.parametrize("model, lgpio, rpi_gpio, want", [
    (PI5, False, None, "install rpi-lgpio (pip install rpi-lgpio, or apt install python3-rpi-lgpio)"),
    (PI5, False, "RPi.GPIO", "RPi.GPIO cannot drive a Raspberry Pi 5's pins; install rpi-lgpio"),
    (PI5, True, "RPi.GPIO", Choice("lgpio", "/dev/gpiochip0")),
    (PI5, False, "rpi-lgpio", Choice("RPi.GPIO", "/dev/gpiochip0")),
    (PI4, False, None, "install lgpio (pip install lgpio, or apt install python3-lgpio) or RPi.GPIO"),
    (PI4, False, "RPi.GPIO", Choice("RPi.GPIO", "/dev/gpiomem")),
    (PI4, True, None, Choice("lgpio", "/dev/gpiochip0")),
    ("Raspberry Pi Zero 2 W Rev 1.0", False, "rpi-lgpio", Choice("RPi.GPIO", "/dev/gpiochip0")),
])
def test_the_library_and_device_for_each_board(model, lgpio, rpi_gpio, want):
    got = choose_library(model, lgpio, rpi_gpio)
    if isinstance(want, str):
        assert isinstance(got, str) and got.startswith(model) and want in got
    else:
        assert got == want


def test_board_model_from_device_tree_or_from_cpuinfo_inside_a_container(tmp_path):
    dt = tmp_path / "model"
    dt.write_bytes(PI5.encode() + b"\0")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nBogoMIPS\t: 108.00\n\nHardware\t: BCM2835\nModel\t\t: {PI4}\n")
    assert read_model((dt, cpuinfo)) == PI5
    assert read_model((tmp_path / "masked", cpuinfo)) == PI4  # /proc/device-tree hidden by Docker
    assert read_model((tmp_path / "masked", tmp_path / "none")) is None


def test_gpio_chip_from_the_environment_or_the_pi_controller_in_sysfs(tmp_path):
    for n, compatible in ((0, "raspberrypi,rp1-gpio-i2c\0"), (4, "raspberrypi,rp1-gpio\0")):
        (tmp_path / f"gpiochip{n}" / "of_node").mkdir(parents=True)
        (tmp_path / f"gpiochip{n}" / "of_node" / "compatible").write_text(compatible)
    assert gpiochip_number(env={}, sys_gpio=tmp_path) == 4   # a Pi 5 on a kernel before 6.6.45
    assert gpiochip_number(env={"CIRCUITQ_GPIO_CHIP": "0"}, sys_gpio=tmp_path) == 0
    assert gpiochip_number(env={}, sys_gpio=tmp_path / "none") == 0


def test_a_service_under_systemd_says_ready_and_pings_its_watchdog_from_the_loop(tmp_path, broker, secrets_path):
    """Type=notify and WatchdogSec= in deploy/systemd: READY=1 once running, WATCHDOG=1
    every WatchdogSec/2 from the event loop, STOPPING=1 on SIGTERM."""
    import socket
    import time
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(20)
    cfg = house(tmp_path, secrets_file=str(secrets_path), mqtt={"port": broker.port})
    proc = subprocess.Popen([sys.executable, "-m", "services.scheduler", "--config", str(cfg)], cwd=ROOT,
                            env={**ENV, "NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "600000"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        got = [sock.recv(100).decode() for _ in range(4)]
        assert got[0] == "READY=1" and got[1:] == ["WATCHDOG=1"] * 3
        start = time.monotonic()
        sock.recv(100)
        assert time.monotonic() - start < 5  # every 0.3 s, not once
        proc.terminate()
        while (msg := sock.recv(100).decode()) == "WATCHDOG=1":
            pass
        assert msg == "STOPPING=1"
    finally:
        proc.kill()
        proc.wait()
        sock.close()


def test_a_systemd_credential_is_private_by_its_directory_not_its_file_mode(tmp_path, monkeypatch):
    """LoadCredential= hands the secrets over mode 440 in a mode-550 directory, both root's
    group, readable by the unit's user through an ACL: private, whatever the group bit says."""
    from circuitq.config.secrets import SecretsError, check_private
    creds = tmp_path / "credentials"
    creds.mkdir()
    secret = creds / "secrets.yaml"
    secret.write_text("mqtt_users: {}\n")
    secret.chmod(0o440)
    creds.chmod(0o550)
    os.chown(creds, os.getuid(), 0)
    os.chown(secret, os.getuid(), 0)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    check_private(secret)
    secret.chmod(0o444)  # others may read: refused, credential or not
    with pytest.raises(SecretsError, match="readable by group or others"):
        check_private(secret)
    secret.chmod(0o440)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(SecretsError):
        check_private(secret)  # outside systemd, mode 440 is refused as before
    creds.chmod(0o700)
