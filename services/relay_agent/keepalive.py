"""Proof of life for what sits outside the process: systemd's watchdog and the board's.

A dead or hung relay agent enforces no lease. Two keepers outside it act then:
- systemd (`WatchdogSec=` in the unit, `Type=notify`): the agent sends `WATCHDOG=1` on the
  notify socket from its event loop; when they stop, systemd kills the agent and restarts it,
  and the restart rule (core.py) puts every output whose lease lapsed in its safe state;
- the board's hardware watchdog (`/dev/watchdog`, `relay_agent.watchdog_device`): the agent
  writes to it from its event loop; when the writes stop (agent dead and not restarted,
  kernel hung, Pi frozen) the SoC resets the Pi, and a Pi that resets releases every relay:
  with the wiring rule (docs/relay_agent.md: a de-energised relay is the safe state, NC
  contacts for loads whose safe state is on) every load is then safe.

Both are fed from the event loop, so a loop that stalls stops feeding them: the agent's own
watchdog thread (watchdog.py) acts first (safe states, exit 70), and the outer keepers cover
the case where even that cannot run. A clean stop disarms the device (magic close 'V') after
the outputs are safe; a crash does not, so the reset comes.
"""
from __future__ import annotations

import fcntl
import logging
import os
import socket
import struct
from pathlib import Path

log = logging.getLogger(__name__)
WDIOC_SETTIMEOUT = 0xC0045706  # _IOWR('W', 6, int), linux/watchdog.h
MAGIC_CLOSE = b"V"


class SystemdNotifier:
    """sd_notify(3) over $NOTIFY_SOCKET (a unix datagram socket); silent without systemd."""

    def __init__(self, env: dict[str, str] | None = None):
        env = os.environ if env is None else env
        addr = env.get("NOTIFY_SOCKET") or None
        if addr and addr.startswith("@"):
            addr = "\0" + addr[1:]  # abstract namespace
        self.addr = addr
        usec = env.get("WATCHDOG_USEC")
        pid = env.get("WATCHDOG_PID")
        mine = pid is None or pid == str(os.getpid())
        # systemd's advice: ping at half the watchdog interval (seconds).
        self.interval_s = int(usec) / 2e6 if usec and usec.isdigit() and int(usec) > 0 and mine else None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) if addr else None

    def notify(self, state: str) -> bool:
        if self.sock is None:
            return False
        try:
            self.sock.sendto(state.encode(), self.addr)
            return True
        except OSError as exc:
            log.warning("sd_notify %s failed: %s", state.split("=")[0], exc)
            return False

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class HardwareWatchdog:
    """The kernel watchdog device: any write is a keep-alive; 'V' then close disarms it."""

    def __init__(self, device: Path, timeout_s: int):
        self.device, self.timeout_s = Path(device), timeout_s
        self.fd: int | None = None

    def open(self) -> None:
        """Arm it (OSError: the caller refuses to start, naming the device)."""
        self.fd = os.open(self.device, os.O_WRONLY)
        try:
            fcntl.ioctl(self.fd, WDIOC_SETTIMEOUT, struct.pack("i", self.timeout_s))
        except OSError as exc:  # not a watchdog (a test's FIFO) or fixed timeout: keep its own
            log.warning("%s: cannot set the timeout to %d s (%s); the device keeps its own",
                        self.device, self.timeout_s, exc.strerror or exc)

    def pet(self) -> None:
        if self.fd is not None:
            try:
                os.write(self.fd, b"\0")
            except OSError as exc:
                log.error("%s: keep-alive failed: %s", self.device, exc)

    def disarm(self) -> None:
        """Clean stop only, after the outputs are safe: magic close."""
        if self.fd is None:
            return
        try:
            os.write(self.fd, MAGIC_CLOSE)
        except OSError as exc:
            log.error("%s: could not disarm: %s", self.device, exc)
        os.close(self.fd)
        self.fd = None


class Keepalive:
    """Feeds both keepers from the event loop: `start(loop)`, `stop(clean)`."""

    def __init__(self, device: Path | None, device_timeout_s: int, env: dict[str, str] | None = None):
        self.systemd = SystemdNotifier(env)
        self.hw = HardwareWatchdog(device, device_timeout_s) if device else None
        periods = [p for p in (self.systemd.interval_s, self.hw and device_timeout_s / 4) if p]
        self.period_s = min(periods) if periods else None
        self.loop = None

    def open(self) -> None:
        if self.hw is not None:
            self.hw.open()

    def start(self, loop, healthy=lambda: True) -> None:
        """Pins are set up: tell systemd we are ready, then feed both from the loop while
        `healthy()` (no command hung on another thread)."""
        self.loop, self.healthy = loop, healthy
        self.systemd.notify("READY=1")
        if self.period_s:
            log.info("keep-alive every %.1f s to%s%s", self.period_s,
                     " systemd" if self.systemd.interval_s else "", f" {self.hw.device}" if self.hw else "")
            self._feed()

    def _feed(self) -> None:
        if self.healthy():
            if self.systemd.interval_s:
                self.systemd.notify("WATCHDOG=1")
            if self.hw is not None:
                self.hw.pet()
        self.loop.call_later(self.period_s, self._feed)

    def stop(self, clean: bool) -> None:
        self.systemd.notify("STOPPING=1")
        if self.hw is not None and clean:
            self.hw.disarm()
        self.systemd.close()
