"""dreadpi's external script (safe name, nobody, timeout, output format) and the MQTT source."""
from __future__ import annotations

import os
import pwd
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.solar_collector.conftest import PROD, src_health


@pytest.fixture
def scripts():
    """A directory `nobody` can read and write, outside pytest's private tmp_path."""
    d = Path(tempfile.mkdtemp(prefix="solar-scripts-"))
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _script(d: Path, name: str, body: str) -> str:
    p = d / name
    p.write_text("#!/bin/sh\n" + body + "\n")
    os.chmod(p, 0o755)
    return str(p)


def test_external_script_runs_unprivileged_with_timeout_and_output_checks(solar, scripts, user_probe):
    good = _script(scripts, "good.sh", f'id -un > {scripts}/who\necho "1234 $(( $(date +%s) - 30 ))"')
    slow = _script(scripts, "slow.sh", f"echo $$ > {scripts}/slow.pid\nexec sleep 30")
    chatty = _script(scripts, "chatty.sh", "echo hello")
    svc = solar([{"kind": "script", "command": [good], "poll_s": 0.3},
                 {"kind": "script", "name": "slow", "command": [slow], "timeout_s": 0.5, "poll_s": 5},
                 {"kind": "script", "name": "chatty", "command": [chatty], "poll_s": 5}])
    r = user_probe.on_topic(PROD).json()
    assert r["w"] == 1234 and r["source"] == "script" and 29 <= r["age_s"] < 45
    expected = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    assert (scripts / "who").read_text().strip() == expected

    h = user_probe.on_topic(src_health("slow"), lambda m: m.json()["consecutive_failures"] > 0).json()
    assert h["state"] == "offline" and "timed out after 0.5 s" in h["message"]
    pid = int((scripts / "slow.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the hung script was killed, not left behind

    err = user_probe.on_topic("circuitq/error", lambda m: "'chatty'" in m.json()["error"]).json()
    assert "not a number" in err["error"] and err["payload"] == "hello"
    assert svc.alive()


def test_unsafe_script_name_is_refused_at_start(solar):
    svc = solar([{"kind": "script", "command": "/bin/echo;rm -rf /"}])
    assert svc.proc.wait(15) == 2
    log = svc.log()
    assert "solar.sources.0.script.command" in log and "may only contain" in log


def test_mqtt_topic_source_from_node_red(solar, user_probe):
    solar([{"kind": "mqtt", "name": "nodered"}], freshness_s=1.5)
    # published after the (re)subscription on connect: the broker now routes the input to it
    h = user_probe.on_topic(src_health("nodered")).json()
    assert h["state"] == "offline" and "no reading yet" in h["message"]
    topic = "circuitq/solar/input/nodered"  # the `user` account may publish here (generated ACL)
    user_probe.publish(topic, {"w": 812.5, "ts": round(time.time() - 0.2, 3)})
    r = user_probe.on_topic(PROD).json()
    assert r["w"] == 812.5 and r["source"] == "nodered" and r["stale"] is False
    # no newer message: the retained production turns stale by itself
    assert user_probe.on_topic(PROD, lambda m: m.json()["stale"] is True, timeout=30).json()["w"] == 812.5
    user_probe.publish(topic, "sunny")
    err = user_probe.on_topic("circuitq/error").json()
    assert err["topic"] == topic and "'nodered'" in err["error"]
    user_probe.publish(topic, "905")
    assert user_probe.on_topic(PROD, lambda m: m.json()["w"] == 905).json()["stale"] is False
