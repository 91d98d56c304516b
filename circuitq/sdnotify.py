"""systemd's service notifications (sd_notify), without a library: one datagram per message.

Under a unit with Type=notify, a service says READY=1 once it runs, pings WATCHDOG=1 from
its event loop (so WatchdogSec= restarts a service whose loop is stuck, not just a dead
one), and says STOPPING=1 on its way out. Outside systemd ($NOTIFY_SOCKET unset) every
call does nothing.
"""
from __future__ import annotations

import os
import socket


def notify(message: str, env: dict[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    address = env.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(address)
        s.sendall(message.encode())
    return True


def watchdog_interval_s(env: dict[str, str] | None = None) -> float | None:
    """Half of WatchdogSec= (systemd's advice), or None when no watchdog is asked for."""
    env = os.environ if env is None else env
    usec = env.get("WATCHDOG_USEC")
    if not usec or (env.get("WATCHDOG_PID") and env["WATCHDOG_PID"] != str(os.getpid())):
        return None
    return int(usec) / 1e6 / 2
