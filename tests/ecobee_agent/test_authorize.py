"""`python -m services.ecobee_agent authorize`: the PIN flow against the fake ecobee."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from services.ecobee_agent.store import TOKENS_FILE
from tests.conftest import ROOT

from .conftest import ecobee_section


def start_authorize(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "services.ecobee_agent", "authorize", "--config", str(config)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def read_until(proc: subprocess.Popen, needle: str, timeout: float = 10) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} not printed; got {lines}")


def test_pin_pending_then_approved_stores_private_tokens(fake, config_factory, tmp_path):
    proc = start_authorize(config_factory(ecobee_section(fake)))
    lines = read_until(proc, "Waiting")
    pin = next(l for l in lines if l.startswith("PIN: ")).split()[1]
    assert any("My Apps" in l and "Add Application" in l for l in lines)
    time.sleep(1.3)  # a poll answered authorization_pending
    assert len(fake.calls("POST", "/token")) >= 1 and proc.poll() is None
    fake.approve_pin(pin)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0, out
    path = tmp_path / "state" / TOKENS_FILE
    assert "Authorized" in out and str(path) in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens = json.loads(path.read_text())
    assert tokens["access_token"] in fake.access and tokens["refresh_token"] in fake.refresh
    # never polled faster than the interval ecobee gave (1 s here)
    times = [e["t"] for e in fake.calls("POST", "/token")]
    assert all(b - a >= 0.9 for a, b in zip(times, times[1:]))


def test_slow_down_makes_it_wait_longer(fake, config_factory, tmp_path):
    fake.enforce_interval_s = 1.5  # ecobee says 1 s but wants 1.5 s: slow_down, then we double
    proc = start_authorize(config_factory(ecobee_section(fake)))
    read_until(proc, "Waiting")
    read_until(proc, "slow down", timeout=6)
    fake.approve_pin()
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0, out
    assert (tmp_path / "state" / TOKENS_FILE).exists()


def test_expired_pin_is_reported(fake, config_factory, tmp_path):
    fake.pin_ttl_s = 1.5
    proc = start_authorize(config_factory(ecobee_section(fake)))
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 1
    assert "expired" in out and "authorize again" in out
    assert not (tmp_path / "state" / TOKENS_FILE).exists()
