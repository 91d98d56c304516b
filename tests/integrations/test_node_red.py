"""examples/node-red/circuitq-flow.json in a real Node-RED 4, headless, against the real
broker, scheduler and relay agent: a load's state arrives in the flow's debug view, and the
flow's override button moves the simulated relay.

Node-RED comes from npm (tests/integrations/nodered/package.json, `npm ci` on first run;
scripts/setup.sh does the same). The flow is loaded as shipped; only what a user fills in
after importing it is set here: the broker node's host, port and `user` credentials.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from sim.broker import free_port
from tests.scheduler.service_helpers import fast_house, load_state, pins_on, wait_until

ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "examples" / "node-red" / "circuitq-flow.json"
RUNTIME = Path(__file__).resolve().parent / "nodered"
RED = RUNTIME / "node_modules" / "node-red" / "red.js"
WHN = "water_heater_north"


def install_node_red() -> Path:
    if not RED.exists():
        npm = shutil.which("npm")
        assert npm, "npm not found: `bash scripts/setup.sh` installs Debian's npm (Node-RED 4 needs Node 18+)"
        print(f"installing Node-RED 4 for the flow test: npm ci --prefix {RUNTIME} (once)")
        subprocess.run([npm, "ci", "--prefix", str(RUNTIME), "--no-audit", "--no-fund", "--loglevel=error"],
                       check=True, timeout=600)
    return RED


@pytest.fixture
def node_red(tmp_path, broker, secrets):
    """Start Node-RED with the shipped flow; yields (admin URL, log path)."""
    red = install_node_red()
    user_dir = tmp_path / "node-red"
    user_dir.mkdir()
    flow = json.loads(FLOW.read_text())
    for node in flow:
        if node["type"] == "mqtt-broker":  # what a user sets in the broker node after import
            node["broker"], node["port"] = "127.0.0.1", str(broker.port)
            (user_dir / "flows_cred.json").write_text(json.dumps(
                {node["id"]: {"user": "user", "password": secrets.mqtt_users["user"]}}))
    (user_dir / "flows.json").write_text(json.dumps(flow))
    (user_dir / "settings.js").write_text(
        "module.exports = { uiHost: '127.0.0.1', credentialSecret: false, flowFile: 'flows.json',\n"
        "  logging: { console: { level: 'info', metrics: false, audit: false } } };\n")
    port = free_port()
    log = tmp_path / "node-red.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["node", str(red), "--userDir", str(user_dir), "--port", str(port),
                                 "--settings", str(user_dir / "settings.js"), "--no-telemetry"],
                                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NODE_ENV": "test"})
    try:
        wait_until(lambda: "Connected to broker" in log.read_text(), timeout=60,
                   what=f"Node-RED connected to the broker ({log})")
        yield f"http://127.0.0.1:{port}", log
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_flow_shows_states_and_its_override_moves_the_relay(config_factory, service_factory, user_probe,
                                                                  node_red):
    cfg = config_factory(fast_house())
    mark = user_probe.mark()
    service_factory("relay_agent", cfg)
    service_factory("scheduler", cfg)
    user_probe.on_topic(load_state(WHN), lambda m: not m.json()["permitted"], since=mark, timeout=20)
    wait_until(lambda: pins_on(cfg)[WHN] is False, what="relay off (policy: off all day)")
    url, log = node_red
    # states in: the debug view (console too) has a line for the north water heater
    wait_until(lambda: f"{WHN}: OFF (auto)" in log.read_text(), timeout=30, what="a load state in Node-RED")
    # overrides out: the flow's button, as a click in the editor does (POST /inject/<node>)
    mark = user_probe.mark()
    req = urllib.request.Request(f"{url}/inject/cq_on", method="POST")
    assert urllib.request.urlopen(req, timeout=10).status == 200
    st = user_probe.on_topic(load_state(WHN), lambda m: m.json()["mode"] == "on", since=mark, timeout=10).json()
    assert st["permitted"] and st["reason"]["code"] == "override:on"
    wait_until(lambda: pins_on(cfg)[WHN] is True, timeout=10, what="relay on after the Node-RED override")
    wait_until(lambda: f"{WHN}: ON (on)" in log.read_text(), timeout=10, what="the new state back in Node-RED")
    assert "circuitq errors" not in log.read_text()
