"""Start Mosquitto with the project's own broker policy, mosquitto/mosquitto.conf, untouched.

Like every deployment (docker compose, Debian), the test broker has a small file of its own
that says where its files are and which port it listens on, and includes the shipped policy
with `include_dir`. The ACL is the committed mosquitto/acl and the password file is built
from the secrets by mosquitto/make_passwd.py, so tests prove the rules docker-compose runs.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from circuitq.config import Secrets
from mosquitto.make_passwd import build as build_passwd

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "mosquitto"
CONF = POLICY_DIR / "mosquitto.conf"
ACL = POLICY_DIR / "acl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_conf(workdir: Path, port: int, tcp_nodelay: bool = True, policy_dir: Path = POLICY_DIR) -> str:
    """This broker's own file: port, paths and user, then the shipped policy."""
    lines = [
        "# Written by sim/broker.py: where this test broker's files are. The rules are the",
        f"# shipped policy, {policy_dir / 'mosquitto.conf'}, included as it is.",
        f"listener {port} 127.0.0.1",
        f"password_file {workdir / 'passwd'}",
        f"acl_file {ACL}",
        f"persistence_location {workdir / 'data'}/",
        "log_dest stdout",
        # As root, mosquitto would drop to `mosquitto`, which cannot read a private test
        # directory; it runs as whoever runs the tests instead.
        f"user {pwd.getpwuid(os.geteuid()).pw_name}",
        f"include_dir {policy_dir}",
    ]
    if not tcp_nodelay:
        lines.append("set_tcp_nodelay false")  # bench/ only: to measure what Nagle costs
    return "\n".join(lines) + "\n"


def mosquitto_exe() -> str:
    return shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker:
    def __init__(self, workdir: Path, secrets: Secrets, port: int | None = None, tcp_nodelay: bool = True,
                 policy_dir: Path = POLICY_DIR):
        self.tcp_nodelay = tcp_nodelay
        self.workdir = Path(workdir)
        self.secrets = secrets
        self.port = port or free_port()
        self.policy_dir = Path(policy_dir)
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / "mosquitto.log"
        self.conf_path = self.workdir / "local.conf"

    def start(self, timeout_s: float = 10.0) -> "Broker":
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "data").mkdir(exist_ok=True)
        build_passwd(self.secrets, self.workdir / "passwd")
        self.conf_path.write_text(local_conf(self.workdir, self.port, self.tcp_nodelay, self.policy_dir))
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([mosquitto_exe(), "-c", str(self.conf_path)], stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited ({self.proc.returncode}): {self.log_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log_text()[-2000:]}")

    def kill(self) -> None:
        """kill -9: no clean shutdown, like a crash or a pulled plug."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> "Broker":
        self.stop()
        return self.start()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
