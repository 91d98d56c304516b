"""A GPIO write or read that fails (OSError from the driver: a busy line, a full disk under the
sim's file) must not leave a relay on past its lease, a DRM output half-way through a
transition, or the lease timer unarmed. In-process with a FakeClock; no broker, no sleeps."""
from __future__ import annotations

import pytest

from circuitq.clock import FakeClock
from circuitq.service import arg_parser, make_context
from services.relay_agent.agent import build
from services.relay_agent.gpio.sim import SimGPIO
from tests.conftest import write_config


class FlakyGPIO(SimGPIO):
    """SimGPIO whose next writes (or reads) of the named channels fail like a real driver."""

    def __init__(self, state_file):
        super().__init__(state_file)
        self.fail_writes: dict[str, int] = {}
        self.fail_reads: dict[str, int] = {}
        self.history: list[dict[str, bool]] = []

    def _maybe_fail(self, table, ch):
        if table.get(ch.name, 0) > 0:
            table[ch.name] -= 1
            raise OSError(5, f"injected I/O error on {ch.name}")

    def write(self, ch, level):
        self._maybe_fail(self.fail_writes, ch)
        super().write(ch, level)
        self.history.append({c.name: c.is_on(self.levels[b]) for b, c in self.channels.items()})

    def read(self, ch):
        self._maybe_fail(self.fail_reads, ch)
        return super().read(ch)


SPARE = {"pin": 19, "boot_state": "off", "safe_state": "off", "min_on_s": 600, "min_off_s": 0,
         "max_lease_s": 60}


@pytest.fixture
def rig(tmp_path, secrets_path):
    cfg_path = write_config(tmp_path / "c.yaml", None, secrets_path, tmp_path / "state", {
        "mqtt": {"port": 9},  # never started: these tests drive the agent's handlers directly
        "relay_agent": {"watchdog_s": 600, "broker_grace_s": 600},
        "relays": {"spare": SPARE},
        "drm_outputs": {"aircon": {"min_dwell_s": 0, "max_changes_per_hour": 100}}})
    clock = FakeClock()
    ctx = make_context("relay_agent", arg_parser("relay_agent").parse_args(["--config", str(cfg_path)]), clock)
    agent = build(ctx)
    gpio = FlakyGPIO(ctx.cfg.relay_agent.sim_state_file)
    agent.hw.driver = gpio
    agent.watchdog.exit = lambda code: None
    agent.start()
    agent.loop.run_pending()

    def advance(s):
        clock.advance(s)
        agent.loop.run_pending()

    yield agent, gpio, advance
    agent.watchdog.stop()
    if agent.instance_lock.fd is not None:
        agent.hw.close()
        agent.instance_lock.release()


def relay_cmd(agent, name, state, lease_s, id="t"):
    payload = f'{{"state": "{state}", "lease_s": {lease_s}, "id": "{id}"}}'.encode()
    agent._on_command("relay", f"circuitq/relay/{name}/command", payload, False)
    agent.loop.run_pending()


def drm_cmd(agent, mode, lease_s=60):
    payload = f'{{"mode": {mode}, "lease_s": {lease_s}, "id": "d"}}'.encode()
    agent._on_command("drm", "circuitq/dred/aircon/command", payload, False)
    agent.loop.run_pending()


def test_failed_write_at_lease_expiry_is_retried_until_the_relay_is_off(rig):
    agent, gpio, advance = rig
    relay_cmd(agent, "spare", "on", 5)
    assert agent.hw.read_relay("spare") == "on"
    gpio.fail_writes["spare"] = 2  # the lease-expiry write and the first retry fail
    advance(5.01)
    assert agent.fleet.cores["relay"]["spare"].cause == "safe:lease_expired"
    assert agent.hw.read_relay("spare") == "on"  # the pin really did not move (yet)
    for _ in range(3):
        advance(1.01)
    assert agent.hw.read_relay("spare") == "off", "relay left on past its lease after a failed write"
    assert gpio.fail_writes["spare"] == 0


def test_failed_write_is_put_right_by_shutdown(rig):
    agent, gpio, advance = rig
    relay_cmd(agent, "spare", "on", 5)
    gpio.fail_writes["spare"] = 2  # the lease-expiry write and its immediate retry
    advance(5.01)
    assert agent.hw.read_relay("spare") == "on"
    agent.shutdown()  # SIGTERM right after the failed write: the core already thinks 'off'
    assert gpio.levels[19] == 1 and agent.hw.read_relay("spare") == "off"  # active-low: off = HIGH


def test_drm_transition_interrupted_by_a_failed_write_is_completed_without_another_mode(rig):
    agent, gpio, advance = rig
    drm_cmd(agent, 2)
    assert agent.hw.read_mode("aircon") == 2
    gpio.history.clear()
    gpio.fail_writes["aircon.drm2"] = 1  # 2 -> 3 is: energise drm3, then release drm2 (fails)
    drm_cmd(agent, 3)
    assert agent.hw.read_mode("aircon") in (2, 3)
    advance(1.01)
    assert agent.hw.read_mode("aircon") == 3, "DRM output left half-way through 2 -> 3"
    w = agent.hw.wirings["aircon"]
    seen = {w.effective({r.split(".")[1]: on for r, on in lv.items() if r.startswith("aircon.")})
            for lv in gpio.history}
    assert seen <= {2, 3}


def test_sim_write_that_cannot_reach_its_file_leaves_the_pin_unchanged(tmp_path):
    from services.relay_agent.gpio.base import Channel
    target = tmp_path / "gpio.json"
    gpio = SimGPIO(target)
    ch = Channel("pump", 13, True)
    gpio.setup_output(ch, 1)
    import os
    (tmp_path / f".gpio.json.{os.getpid()}.tmp").mkdir()  # its temp file cannot be written (even as root)
    with pytest.raises(OSError):
        gpio.write(ch, 0)
    assert gpio.read(ch) == 1  # what the file (the simulated house) still says


def test_failed_read_back_does_not_lose_the_lease_timer(rig):
    agent, gpio, advance = rig
    gpio.fail_reads["spare"] = 3  # publishing the state after the command cannot read the pin
    relay_cmd(agent, "spare", "on", 5)
    assert agent.hw.read_relay("spare") == "on"
    advance(5.01)
    advance(1.01)
    assert agent.hw.read_relay("spare") == "off", "lease never expired: the timer was not re-armed"


def test_a_pin_that_never_settles_is_retried_with_backoff_not_every_second(rig):
    """Something else drives the pin (a second agent started with another lock path, a
    shorted driver): re-asserting every second would chatter the relay at 1 Hz."""
    agent, gpio, advance = rig
    relay_cmd(agent, "spare", "on", 50)
    writes = []
    gpio.write = lambda ch, level: writes.append(level)  # the write 'succeeds', the pin never moves
    gpio.levels[19] = 1  # someone else released it
    relay_cmd(agent, "spare", "on", 50, id="renew")  # any event: the mismatch is seen
    for _ in range(300):
        advance(0.2)  # one minute of a fast loop
    assert 1 <= len(writes) <= 8, f"{len(writes)} writes in 60 s"

