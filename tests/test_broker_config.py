"""The shipped broker files run as shipped.

mosquitto/mosquitto.conf (the policy) is read untouched by every test broker, through a
local file of the test's own that includes it, the way docker compose and Debian include it.
Mosquitto reads an inline comment as part of the value, so the files keep one setting per
line and comments on lines of their own. The password file must belong to the user the
broker drops to (Mosquitto 2 reads it after dropping privileges).
"""
from __future__ import annotations

import base64
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from mosquitto.make_passwd import build as build_passwd, hash_password
from sim.broker import ACL, CONF, Broker, free_port, mosquitto_exe
from tests.mqtt_probe import Probe

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [CONF, ROOT / "mosquitto" / "compose" / "mosquitto.conf", ROOT / "deploy" / "debian" / "circuitq-local.conf"]
REPEATABLE = {"log_type", "log_dest", "listener", "include_dir"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_settings_one_per_line_and_comments_on_their_own_lines(path):
    seen = set()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        assert "#" not in line, f"{path.name}:{n}: Mosquitto would read the comment as part of the value: {line!r}"
        assert line == line.strip(), f"{path.name}:{n}: stray blanks around {line!r}"
        key = line.split()[0]
        assert key in REPEATABLE or key not in seen, f"{path.name}:{n}: {key} set twice"
        seen.add(key)


def test_the_policy_is_the_shipped_file_untouched_and_in_force(broker, secrets, tmp_path):
    text = broker.conf_path.read_text()
    assert f"include_dir {CONF.parent}\n" in text
    assert "max_packet_size" not in text and "allow_anonymous" not in text, "the policy comes only from the shipped file"
    # allow_anonymous false: no login, no connection.
    anon = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    codes = []
    anon.on_connect = lambda c, u, f, rc, p=None: codes.append(rc)
    anon.connect("127.0.0.1", broker.port)
    anon.loop_start()
    deadline = time.monotonic() + 10
    while not codes and time.monotonic() < deadline:
        time.sleep(0.02)
    anon.loop_stop()
    assert codes and codes[0].is_failure
    # max_packet_size 65536: a 60 KB override passes; a 70 KB one gets its sender thrown out.
    sched = Probe(broker.port, "scheduler", secrets.mqtt_users["scheduler"])
    phone = Probe(broker.port, "user", secrets.mqtt_users["user"])
    dropped = threading.Event()
    phone.c.on_disconnect = lambda *a: dropped.set()
    try:
        sched.subscribe("circuitq/load/+/set")
        phone.publish("circuitq/load/big/set", "x" * 60_000)
        sched.on_topic("circuitq/load/big/set", timeout=10)
        phone.c.publish("circuitq/load/big/set", "x" * 70_000, qos=1)
        assert dropped.wait(10), "a packet over max_packet_size was accepted"
    finally:
        phone.close()
        sched.close()


def test_a_config_error_in_the_policy_stops_the_broker_with_its_message(tmp_path, secrets):
    """Any error in the shipped policy fails every test that starts a broker, with Mosquitto's words."""
    bad = tmp_path / "policy"
    bad.mkdir()
    (bad / "mosquitto.conf").write_text(CONF.read_text().replace(
        "max_queued_messages 1000", "max_queued_mesages 1000"))
    with pytest.raises(RuntimeError, match="mosquitto exited") as e:
        Broker(tmp_path / "b", secrets, policy_dir=bad).start()
    assert "max_queued_mesages" in str(e.value)


def test_hashes_are_mosquitto_passwd_s_own(tmp_path):
    plain = tmp_path / "pw"
    plain.write_text("someone:a long password\n")
    subprocess.run([shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd", "-U", str(plain)], check=True)
    _, kind, iterations, salt, digest = plain.read_text().strip().split(":", 1)[1].split("$")
    assert (kind, iterations) == ("7", "101")
    ours = hash_password("a long password", base64.b64decode(salt), int(iterations))
    assert ours == f"$7${iterations}${salt}${digest}"
    assert base64.b64decode(digest) == hashlib.pbkdf2_hmac("sha512", b"a long password", base64.b64decode(salt), 101, 64)


def test_placeholder_passwords_from_the_example_are_refused(tmp_path):
    secrets = tmp_path / "secrets.yaml"
    shutil.copy(ROOT / "config" / "secrets.example.yaml", secrets)
    secrets.chmod(0o600)
    r = subprocess.run([sys.executable, "-m", "mosquitto.make_passwd", "--secrets", str(secrets),
                        "--out", str(tmp_path / "passwd")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "relay_agent, scheduler" in r.stderr and "placeholder password (change-me-...)" in r.stderr
    assert not (tmp_path / "passwd").exists()


def test_missing_password_for_a_service_is_refused(tmp_path):
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("mqtt_users:\n  scheduler: a-real-password\n")
    secrets.chmod(0o600)
    r = subprocess.run([sys.executable, "-m", "mosquitto.make_passwd", "--secrets", str(secrets),
                        "--out", str(tmp_path / "passwd")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no password for" in r.stderr and "relay_agent" in r.stderr


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mosquitto drops privileges only when started as root")


@needs_root
def test_a_root_started_broker_reads_only_a_password_file_given_to_its_user(secrets):
    """Mosquitto 2 drops to `mosquitto` before reading passwd: root's mode-600 file is
    unreadable (the reported 'Unable to open pwfile'); `--owner mosquitto` fixes it."""
    work = Path(tempfile.mkdtemp(prefix="circuitq-drop-"))
    try:
        work.chmod(0o755)  # the broker's user must reach the files, as under /etc/mosquitto
        mosq = pwd.getpwnam("mosquitto")
        (work / "data").mkdir()
        os.chown(work / "data", mosq.pw_uid, mosq.pw_gid)
        port = free_port()
        conf = work / "local.conf"
        conf.write_text(f"listener {port} 127.0.0.1\npassword_file {work / 'passwd'}\nacl_file {ACL}\n"
                        f"persistence_location {work / 'data'}/\nlog_dest stdout\ninclude_dir {CONF.parent}\n")

        def run_broker() -> subprocess.Popen:
            return subprocess.Popen([mosquitto_exe(), "-c", str(conf)], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)

        build_passwd(secrets, work / "passwd")  # owned by root, mode 600
        proc = run_broker()
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode != 0 and "Unable to open pwfile" in out

        build_passwd(secrets, work / "passwd", owner="mosquitto")
        st = (work / "passwd").stat()
        assert (st.st_uid, st.st_mode & 0o777) == (mosq.pw_uid, 0o600)
        proc = run_broker()
        try:
            deadline = time.monotonic() + 20
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            p = Probe(port, "scheduler", secrets.mqtt_users["scheduler"])
            p.close()
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=20)
        assert "Error" not in out, out
    finally:
        shutil.rmtree(work)
