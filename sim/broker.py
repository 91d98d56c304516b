"""Start Mosquitto from the project's own mosquitto/mosquitto.conf on a free port.

Only the lines marked `# local:` (listener port and file paths) are changed; the ACL is
the committed mosquitto/acl and the password file is built from the secrets, so tests
prove the broker configuration that docker-compose runs.
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
CONF = ROOT / "mosquitto" / "mosquitto.conf"
ACL = ROOT / "mosquitto" / "acl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render_conf(workdir: Path, port: int, tcp_nodelay: bool = True) -> str:
    """The committed config with only the `# local:` lines pointed at workdir and port."""
    out = []
    for line in CONF.read_text().splitlines():
        if "# local:" in line and not line.lstrip().startswith("#"):
            key = line.split()[0]
            line = {
                "password_file": f"password_file {workdir / 'passwd'}",
                "acl_file": f"acl_file {ACL}",
                "persistence_location": f"persistence_location {workdir / 'data'}/",
                "listener": f"listener {port} 127.0.0.1",
                # As root, mosquitto would drop to `mosquitto`, which cannot read a private
                # test directory; run it as whoever runs the tests instead.
                "user": f"user {pwd.getpwuid(os.geteuid()).pw_name}",
            }[key]
        elif line.startswith("set_tcp_nodelay") and not tcp_nodelay:
            line = "set_tcp_nodelay false"  # bench/ only: to measure what Nagle costs
        out.append(line)
    return "\n".join(out) + "\n"


class Broker:
    def __init__(self, workdir: Path, secrets: Secrets, port: int | None = None, tcp_nodelay: bool = True):
        self.tcp_nodelay = tcp_nodelay
        self.workdir = Path(workdir)
        self.secrets = secrets
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / "mosquitto.log"

    def start(self, timeout_s: float = 10.0) -> "Broker":
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "data").mkdir(exist_ok=True)
        build_passwd(self.secrets, self.workdir / "passwd")
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(render_conf(self.workdir, self.port, self.tcp_nodelay))
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([exe, "-c", str(conf)], stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log_path.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on {self.port}")

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
