"""The rpi backend against a FAKE RPi.GPIO injected at its import boundary (BOARD and BCM
numbering, active-low, boot levels via `initial`, never cleanup), pin config errors, and the
watchdog driving outputs safe and exiting non-zero. In-process, no broker needed."""
from __future__ import annotations

import json
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from circuitq.config import load_config
from circuitq.service import arg_parser, make_context, run
from services.relay_agent.agent import RelayAgent, build
from services.relay_agent.watchdog import EXIT_WATCHDOG
from tests.conftest import write_config


class FakeGPIO(types.ModuleType):
    """Records calls like RPi.GPIO would receive them; `pins` holds what each BCM pin drives."""
    BCM, BOARD, OUT, IN, HIGH, LOW = 11, 10, 0, 1, 1, 0

    def __init__(self):
        super().__init__("RPi.GPIO")
        self.calls: list[tuple] = []
        self.mode = None
        self.pins: dict[int, int] = {}

    def setwarnings(self, flag):
        self.calls.append(("setwarnings", flag))

    def setmode(self, mode):
        assert self.mode in (None, mode), "setmode called twice with different modes"
        self.mode = mode
        self.calls.append(("setmode", mode))

    def setup(self, ch, direction, initial=None, pull_up_down=None):
        assert self.mode == self.BCM, "setup before setmode(BCM)"
        assert direction == self.OUT and initial is not None, "output set up without an initial level"
        self.pins[ch] = initial
        self.calls.append(("setup", ch, direction, initial))

    def output(self, ch, level):
        assert ch in self.pins, f"output on GPIO{ch} before setup"
        self.pins[ch] = level
        self.calls.append(("output", ch, level))

    def input(self, ch):
        return self.pins[ch]

    def cleanup(self, *a):
        self.calls.append(("cleanup",) + a)


@pytest.fixture
def fake_rpi(monkeypatch):
    gpio = FakeGPIO()
    pkg = types.ModuleType("RPi")
    pkg.GPIO = gpio
    monkeypatch.setitem(sys.modules, "RPi", pkg)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", gpio)
    return gpio


NO_BROKER = {"mqtt": {"port": 9}}  # nothing listens there; these tests never start the client

RPI_RELAYS = {
    "relay_agent": {"backend": "rpi", "numbering": "BOARD"},
    "relays": {
        # BOARD 29 is GPIO5; active-low: on = LOW
        "water_heater_north": {"pin": 29, "active_low": True, "boot_state": "on", "safe_state": "on",
                               "min_on_s": 0, "min_off_s": 0},
        # BCM numbering for this one, active-high: off = LOW, on = HIGH
        "water_heater_south": {"pin": 6, "numbering": "BCM", "active_low": False,
                               "boot_state": "off", "safe_state": "on", "min_off_s": 0},
        # BOARD 33 is GPIO13; safe off, min_on long: the lease/fallback still turns it off
        "pool_pump": {"pin": 33, "active_low": True, "boot_state": "on", "safe_state": "off",
                      "min_on_s": 600},
    },
    "drm_outputs": {"aircon": {"relays": {"drm2": {"pin": 11}, "drm3": {"pin": 13}},  # BOARD: GPIO17, 27
                               "min_dwell_s": 0}},
}


def make_agent(tmp_path, secrets_path, overrides, exit=None) -> RelayAgent:
    cfg_path = write_config(tmp_path / "c.yaml", None, secrets_path, tmp_path / "state",
                            {**NO_BROKER, **overrides})
    args = arg_parser("relay_agent").parse_args(["--config", str(cfg_path)])
    ctx = make_context("relay_agent", args)
    agent = build(ctx)
    if exit:
        agent.watchdog.exit = exit
    return agent


def test_rpi_driver_board_and_bcm_numbering_active_low_boot_levels(tmp_path, secrets_path, fake_rpi):
    agent = make_agent(tmp_path, secrets_path, RPI_RELAYS)
    assert fake_rpi.calls[:2] == [("setwarnings", False), ("setmode", FakeGPIO.BCM)]
    assert not [c for c in fake_rpi.calls if c[0] in ("setup", "output")], "pins touched in build()"
    agent.start()
    try:
        setups = {c[1]: c[3] for c in fake_rpi.calls if c[0] == "setup"}
        # BOARD 29 -> GPIO5 on = LOW; BCM 6 active-high off = LOW; BOARD 33 -> GPIO13 on = LOW;
        # DRM mode 0: BOARD 11/13 -> GPIO17/27 released = HIGH (active-low)
        assert setups == {5: 0, 6: 0, 13: 0, 17: 1, 27: 1}
        assert not [c for c in fake_rpi.calls if c[0] == "output"], "boot must not glitch via output()"
        assert [c[0] for c in fake_rpi.calls].count("setmode") == 1

        payload = b'{"state": "off", "lease_s": 60, "id": "t1"}'
        agent._on_command("relay", "circuitq/relay/water_heater_north/command", payload, False)
        assert fake_rpi.pins[5] == 1 and agent.hw.read_relay("water_heater_north") == "off"
        agent._on_command("drm", "circuitq/dred/aircon/command", b'{"mode": 3, "lease_s": 60, "id": "d"}', False)
        assert (fake_rpi.pins[17], fake_rpi.pins[27]) == (1, 0) and agent.hw.read_mode("aircon") == 3
    finally:
        agent.shutdown()
    # Shutdown: safe states (north on = LOW, south on = HIGH, pump off = HIGH, DRM 0), no cleanup.
    assert {p: fake_rpi.pins[p] for p in (5, 6, 13, 17, 27)} == {5: 0, 6: 1, 13: 1, 17: 1, 27: 1}
    assert not [c for c in fake_rpi.calls if c[0] == "cleanup"], "cleanup would release every relay"
    wear = json.loads((tmp_path / "state" / "relay_agent.json").read_text())["outputs"]
    assert wear["relay"]["water_heater_north"]["switch_count"] == 2  # off by command, on at shutdown
    assert wear["drm"]["aircon"]["switch_count"] == 2  # 0 -> 3 -> 0: drm3 operated twice
    assert wear["drm"]["aircon"]["operations"] == {"drm3": 2}


@pytest.mark.parametrize("pin, what", [(6, "ground"), (1, "3.3 V power"), (2, "5 V power"), (27, "HAT ID")])
def test_board_power_or_ground_pin_is_a_config_error_naming_the_relay(tmp_path, secrets_path, capsys,
                                                                      fake_rpi, pin, what):
    cfg = write_config(tmp_path / "c.yaml", None, secrets_path, tmp_path / "state",
                       {**NO_BROKER, "relay_agent": {"backend": "rpi", "numbering": "BOARD"},
                        "relays": {"pool_pump": {"pin": pin}}, "drm_outputs": {}})
    assert run("relay_agent", build, ["--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "relays.pool_pump.pin" in err and what in err
    assert fake_rpi.calls == [], "a config error must not touch GPIO at all"


def test_two_relays_on_one_gpio_is_a_config_error(tmp_path, secrets_path, capsys):
    cfg = write_config(tmp_path / "c.yaml", None, secrets_path, tmp_path / "state",
                       {**NO_BROKER, "relays": {"pool_pump": {"pin": 29, "numbering": "BOARD"}}})  # = GPIO5
    assert run("relay_agent", build, ["--config", str(cfg)]) == 2
    assert "GPIO5 is already used by relays.water_heater_north" in capsys.readouterr().err


def test_rpi_import_stays_inside_the_driver():
    import services.relay_agent.agent  # noqa: F401
    import services.relay_agent.gpio.rpi  # noqa: F401
    assert "RPi.GPIO" not in sys.modules or isinstance(sys.modules["RPi.GPIO"], FakeGPIO)


def test_watchdog_drives_outputs_safe_and_exits_nonzero_when_loop_stalls(tmp_path, secrets_path):
    exited = threading.Event()
    codes = []

    fired = []

    def fake_exit(code):
        fired.append(time.monotonic())
        codes.append(code)
        exited.set()

    overrides = {"relay_agent": {"watchdog_s": 1},
                 "relays": {"pool_pump": {"min_on_s": 0, "min_off_s": 0}}}
    agent = make_agent(tmp_path, secrets_path, overrides, exit=fake_exit)
    started = time.monotonic()
    agent.start()
    # The loop never runs in this test: its heartbeat goes stale, as in a hung handler.
    agent._on_command("relay", "circuitq/relay/pool_pump/command", b'{"state":"off","lease_s":60,"id":"w"}', False)
    pins = json.loads(load_config(tmp_path / "c.yaml").relay_agent.sim_state_file.read_text())["pins"]
    assert pins["pool_pump"]["on"] is False
    assert exited.wait(30), "watchdog did not fire"
    # Not before watchdog_s (1 s): measured from before the watchdog thread started, so a
    # loaded machine that is slow to handle the command cannot make this fail.
    assert fired[0] - started >= 1.0, "watchdog fired before watchdog_s"
    assert codes == [EXIT_WATCHDOG]
    pins = json.loads(load_config(tmp_path / "c.yaml").relay_agent.sim_state_file.read_text())["pins"]
    assert pins["pool_pump"]["on"] is True
    assert agent.fleet.cores["relay"]["pool_pump"].cause == "safe:watchdog"
    agent.hw.close()
    agent.instance_lock.release()


def test_rpi_backend_service_runs_as_a_process(config_factory, service_factory, user_probe, probe_factory,
                                               broker, tmp_path):
    """`backend: rpi` end to end: the real service process imports RPi.GPIO (a fake on PYTHONPATH)."""
    from .helpers import command, fast, relay_state, start_agent
    log = tmp_path / "gpio.log"
    cfg = config_factory(fast(relay_agent={"backend": "rpi", "numbering": "BOARD"},
                              relays={"water_heater_north": {"pin": 29}, "water_heater_south": {"pin": 31},
                                      "pool_pump": {"pin": 33}},
                              drm_outputs={"aircon": {"relays": {"drm2": {"pin": 11}, "drm3": {"pin": 13}}}}))
    env = {"PYTHONPATH": str(Path(__file__).parent / "fake_rpi"), "FAKE_GPIO_LOG": str(log)}
    agent = start_agent(service_factory, cfg, user_probe, env=env)
    mark = user_probe.mark()
    command(probe_factory(broker, "scheduler"), "pool_pump", "off")
    user_probe.on_topic(relay_state("pool_pump"), lambda m: m.json()["level"] == "off", since=mark)
    assert agent.stop() == 0
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls[:2] == [["setwarnings", False], ["setmode", FakeGPIO.BCM]]
    setups = [c for c in calls if c[0] == "setup"]
    assert [c[1] for c in setups] == [5, 6, 13, 17, 27]  # BOARD 29, 31, 33, 11, 13 as BCM
    assert all(c[3] is not None for c in setups)
    first_output = next(i for i, c in enumerate(calls) if c[0] == "output")
    assert first_output > calls.index(setups[-1])  # every pin set up (at its boot level) first
    # the example wires the pool pump through an NC contact (active_low: false): off is a LOW
    # output (coil energised, contact open), its safe state on is HIGH (coil released)
    assert ["output", 13, 0] in calls  # pool pump off
    assert calls[-1] == ["output", 13, 1]  # SIGTERM: back to safe (on)
    assert not [c for c in calls if c[0] == "cleanup"]


def test_watchdog_stays_quiet_while_the_loop_runs(tmp_path, secrets_path):
    codes = []
    agent = make_agent(tmp_path, secrets_path, {"relay_agent": {"watchdog_s": 1}}, exit=codes.append)
    agent.start()
    runner = threading.Thread(target=agent.loop.run, daemon=True)
    runner.start()
    time.sleep(2.2)
    agent.loop.stop()
    runner.join(2)
    agent.shutdown()
    assert codes == []


def test_lock_file_that_cannot_be_created_is_a_clear_error_before_any_pin(tmp_path, secrets_path, capsys):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("")  # the lock's directory cannot exist (a read-only mount behaves alike)
    cfg = write_config(tmp_path / "c.yaml", None, secrets_path, tmp_path / "state",
                       {**NO_BROKER, "relay_agent": {"lock_file": str(blocker / "relay_agent.lock")}})
    assert run("relay_agent", build, ["--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "relay_agent.lock_file" in err and str(blocker / "relay_agent.lock") in err
    assert not load_config(cfg).relay_agent.sim_state_file.exists(), "a pin was set up without the lock"


def test_watchdog_exits_even_when_putting_outputs_safe_hangs():
    """The loop may be stuck inside a GPIO call that never returns; the watchdog's own writes
    to that pin can hang the same way. docker restarts only processes that exit: exit anyway."""
    from services.relay_agent.watchdog import Watchdog
    exited = threading.Event()
    codes = []
    hang = threading.Event()

    def on_stall(age):
        hang.wait(30)  # a write that never returns

    wd = Watchdog(lambda: 0.0, time.monotonic, 0.2, on_stall,
                  exit=lambda code: (codes.append(code), exited.set()), stall_budget_s=0.5)
    wd.start()
    try:
        assert exited.wait(3), "watchdog hung with the stuck write"
        assert codes == [EXIT_WATCHDOG]
    finally:
        hang.set()
