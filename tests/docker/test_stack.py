"""`docker compose up -d` on the shipped docker-compose.yml, Dockerfile and broker config,
unchanged, against a real container engine (engine.py): the broker and every service come
up `online` and talk over the compose network with the ACL in force, a phone's override
reaches the simulated relay, and `docker compose down` leaves every output in its safe state.

What a user does, in a copy of the checkout: their config and secrets in ./config (owned
by uid 1000, the Pi's first user), `.env` for this machine's differences (the host ports,
and /dev/null as the GPIO device: a CI runner has no GPIO chip, and the sim backend never
opens it), `docker compose run --rm passwd`, `docker compose up -d`.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import yaml

from circuitq import SERVICES
from sim.broker import free_port
from sim.secrets import make_dev_secrets
from tests.docker import engine
from tests.docker.project import copy_checkout, house_config
from tests.mqtt_probe import Probe



def user_project(project: Path) -> dict:
    """A clone as a user has it after following docs/install-compose.md."""
    copy_checkout(project)
    config = house_config("/var/lib/circuitq/gpio.json")
    (project / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    secrets = make_dev_secrets(project / "config" / "secrets.yaml")
    for f in (project / "config").iterdir():
        os.chown(f, 1000, 1000)
    os.chown(project / "config", 1000, 1000)
    ports = {"mqtt": free_port(), "web": free_port()}
    (project / ".env").write_text(f"CIRCUITQ_MQTT_PUBLISH={ports['mqtt']}\nCIRCUITQ_WEB_PUBLISH={ports['web']}\n"
                                  "CIRCUITQ_GPIO_DEVICE=/dev/null\n")
    return {"config": config, "secrets": secrets, "port": ports["mqtt"]}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("compose")
    api = engine.start_api(work / "podman-api.log")
    name = f"cqtest{os.getpid()}"
    project = work / name
    project.mkdir()
    info = user_project(project)
    timings = engine.ensure_standins(engine.ENGINE_DIR / "work")
    try:
        t = time.monotonic()
        engine.compose(project, "build")
        timings["circuitq image build"] = time.monotonic() - t
        engine.compose(project, "run", "--rm", "passwd")
        t = time.monotonic()
        engine.compose(project, "up", "-d")
        timings["up -d"] = time.monotonic() - t
        print("\ncompose timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
        yield {**info, "project": project, "name": name}
    finally:
        r = engine.compose(project, "logs", "--no-color", check=False)
        (work / "compose.log").write_text(r.stdout + r.stderr)
        engine.compose(project, "down", "-v", "--remove-orphans", check=False)
        engine.podman("rm", "-f", "--filter", f"label=com.docker.compose.project={name}", check=False)
        if api is not None:
            api.terminate()
            api.wait(30)


@pytest.fixture
def phone(stack):
    p = Probe(stack["port"], "user", stack["secrets"]["mqtt_users"]["user"])
    p.subscribe("circuitq/#")
    yield p
    p.close()


def volume_file(stack, volume: str, name: str) -> Path:
    mount = engine.podman("volume", "inspect", f"{stack['name']}_{volume}", "--format", "{{.Mountpoint}}")
    return Path(mount.stdout.strip()) / name


def test_the_password_file_belongs_to_the_broker_s_user(stack):
    st = (stack["project"] / "mosquitto" / "passwd").stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (1883, 1883, 0o600)


def test_the_broker_and_every_service_come_up_online(stack, phone):
    deadline = time.monotonic() + 180
    missing = list(SERVICES)
    while missing and time.monotonic() < deadline:
        missing = [n for n in SERVICES if getattr(phone.last(f"circuitq/{n}/status"), "text", None) != "online"]
        time.sleep(0.2)
    logs = {n: engine.compose(stack["project"], "logs", "--no-color", "--tail", "30", n, check=False).stdout
            for n in missing}
    assert not missing, f"not online: {missing}\n" + "\n".join(logs.values())
    for relay in ("water_heater_north", "water_heater_south", "pool_pump"):
        assert phone.on_topic(f"circuitq/relay/{relay}/state", timeout=60).json()["level"] in ("on", "off")


def test_the_acl_is_in_force_over_the_published_port(stack):
    pw = stack["secrets"]["mqtt_users"]
    with pytest.raises(ConnectionError):
        Probe(stack["port"], "user", "not-the-password")
    agent = Probe(stack["port"], "relay_agent", pw["relay_agent"])
    phone = Probe(stack["port"], "user", pw["user"])
    sched = Probe(stack["port"], "scheduler", pw["scheduler"])
    try:
        agent.subscribe("circuitq/relay/+/command")
        command = {"state": "off", "lease_s": 60, "id": "from-a-phone"}
        phone.publish("circuitq/relay/acl_probe/command", command)  # the phone may not command relays
        sched.publish("circuitq/relay/acl_probe/command", {**command, "id": "from-the-scheduler"})
        got = agent.on_topic("circuitq/relay/acl_probe/command", timeout=30)
        assert got.json()["id"] == "from-the-scheduler", "the broker let the phone command a relay"
    finally:
        for p in (agent, phone, sched):
            p.close()


def wait_gpio(stack, pin: str, on: bool, timeout: float = 30) -> dict:
    path = volume_file(stack, "circuitq-state", "gpio.json")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pins = json.loads(path.read_text())["pins"]
            if pins[pin]["on"] is on:
                return pins
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{pin} never read on={on} in {path}: {path.read_text() if path.exists() else 'missing'}")


def test_an_override_from_a_phone_reaches_the_simulated_relay(stack, phone):
    phone.on_topic("circuitq/load/pool_pump/state", timeout=120)
    for payload, want in (("ON", True), ('{"mode": "off", "minutes": 30}', False)):
        mark = phone.mark()
        phone.publish("circuitq/load/pool_pump/set", payload)
        phone.on_topic("circuitq/relay/pool_pump/state",
                       lambda m: m.json()["level"] == ("on" if want else "off"), since=mark, timeout=60)
        wait_gpio(stack, "pool_pump", want)


def test_compose_down_leaves_every_output_in_its_safe_state(stack, phone):
    """Runs last: the pool pump is held off by a phone (its safe state is on) when the stack
    goes down, so only the relay agent's own shutdown can make it safe."""
    phone.publish("circuitq/load/pool_pump/set", '{"mode": "off", "minutes": 30}')
    wait_gpio(stack, "pool_pump", False, timeout=60)
    logs = engine.compose(stack["project"], "logs", "--no-color", check=False)
    (stack["project"].parent / "compose-up.log").write_text(logs.stdout + logs.stderr)
    engine.compose(stack["project"], "down")  # the volumes stay: the pins' last levels are in one
    pins = json.loads(volume_file(stack, "circuitq-state", "gpio.json").read_text())["pins"]
    config = stack["config"]
    for relay, rc in config["relays"].items():
        assert pins[relay]["on"] is (rc["safe_state"] in (True, "on")), f"{relay} left {pins[relay]}"
    for out in config["drm_outputs"]:  # DRM mode 0 (dreadpi wiring): both relays released
        assert [pins[p]["on"] for p in pins if p.startswith(f"{out}.")] == [False, False]
