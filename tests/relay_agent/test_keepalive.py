"""The keepers outside the agent: systemd's watchdog (sd_notify on a fake NOTIFY_SOCKET) and
the board's watchdog device (a plain file standing in for /dev/watchdog). Fed from the event
loop while it runs; when the loop stalls they stop, the agent drives its outputs safe and
exits, and only a clean stop disarms the device."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from services.relay_agent.keepalive import MAGIC_CLOSE
from services.relay_agent.watchdog import EXIT_WATCHDOG

from .helpers import command, fast, on, start_agent, wait_until

ROOT = Path(__file__).resolve().parents[2]


class FakeSystemd:
    """A unix datagram socket like systemd's notify socket; records (monotonic time, message)."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.got: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            self.got.append((time.monotonic(), data.decode()))

    def messages(self, text: str) -> list[float]:
        return [t for t, m in list(self.got) if m == text]

    def close(self):
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def systemd(tmp_path):
    s = FakeSystemd(tmp_path / "notify.sock")
    yield s
    s.close()


def keepers_env(systemd) -> dict:
    # WATCHDOG_USEC 600 ms: systemd wants a ping every half of it.
    return {"NOTIFY_SOCKET": str(systemd.path), "WATCHDOG_USEC": "600000"}


def test_fed_while_running_disarmed_only_after_a_clean_stop(config_factory, service_factory, user_probe,
                                                            systemd, tmp_path):
    device = tmp_path / "watchdog"
    device.write_bytes(b"")
    cfg = config_factory(fast(relay_agent={"watchdog_device": str(device), "watchdog_device_timeout_s": 2}))
    agent = start_agent(service_factory, cfg, user_probe, env=keepers_env(systemd))
    wait_until(lambda: systemd.messages("READY=1") and len(systemd.messages("WATCHDOG=1")) >= 5, 20,
               what="READY=1 and the keep-alives")
    assert systemd.messages("READY=1")[0] <= systemd.messages("WATCHDOG=1")[0]  # pins set up first
    wait_until(lambda: len(device.read_bytes()) >= 3, 20, what="keep-alives written to the device")
    assert MAGIC_CLOSE not in device.read_bytes()
    assert agent.stop() == 0
    assert "STOPPING=1" in [m for _, m in systemd.got]
    assert device.read_bytes().endswith(MAGIC_CLOSE)  # outputs safe, then disarmed


def test_a_stalled_loop_stops_the_keepalives_then_goes_safe_and_exits(config_factory, service_factory,
                                                                      user_probe, probe_factory, broker,
                                                                      systemd, tmp_path):
    device = tmp_path / "watchdog"
    device.write_bytes(b"")
    cfg = config_factory(fast(relay_agent={"watchdog_s": 4, "watchdog_device": str(device)},
                              relays={"pool_pump": {"safe_state": "on"}}))
    sched = probe_factory(broker, "scheduler")
    # tests/relay_agent/stall_agent.py: a command with id "hang" blocks the loop forever.
    with open(tmp_path / "stall.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tests.relay_agent.stall_agent", "--config", str(cfg)],
                                cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", **keepers_env(systemd)},
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: len(systemd.messages("WATCHDOG=1")) >= 3, 20, what="keep-alives")
        command(sched, "pool_pump", "off")
        wait_until(lambda: on(cfg)["pool_pump"] is False, 20, what="pool_pump off")
        before = len(systemd.messages("WATCHDOG=1"))
        command(sched, "pool_pump", "off", id="hang")
        assert proc.wait(60) == EXIT_WATCHDOG
        # Pings (every 0.3 s) stop once a command has hung for watchdog_s / 2 (2 s): about 7
        # after the hang began, where a fed-on agent would send 20 until its watchdog gives up
        # at watchdog_s (4 s) plus up to 2 s for the lock. Counted, not timed: the count does not
        # depend on how fast this loaded machine runs the test.
        after = len(systemd.messages("WATCHDOG=1")) - before
        assert after <= 12, after
        assert on(cfg)["pool_pump"] is True  # safe state applied by the agent's own watchdog
        assert "STOPPING=1" not in [m for _, m in systemd.got]
        assert not device.read_bytes().endswith(MAGIC_CLOSE)  # armed: the board resets the Pi
    finally:
        proc.kill()
        proc.wait()
