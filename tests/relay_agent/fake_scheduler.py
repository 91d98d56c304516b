"""A stand-in scheduler PROCESS for tests: logs in as `scheduler` with the scheduler's last will
(`circuitq/scheduler/status` offline, retained), says online, commands one relay, then idles
until it is killed with SIGKILL (so the broker, not the process, announces `offline`).

    SCHEDULER_PASSWORD=... python -m tests.relay_agent.fake_scheduler PORT RELAY STATE LEASE_S
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from circuitq import topics


def main(port: int, relay: str, state: str, lease_s: float) -> None:
    status = topics.STATUS.topic("circuitq", service="scheduler")
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id="fake-scheduler")
    c.username_pw_set("scheduler", os.environ["SCHEDULER_PASSWORD"])
    c.will_set(status, topics.OFFLINE, qos=1, retain=True)
    ready = threading.Event()
    c.on_connect = lambda *a: ready.set()
    c.connect("127.0.0.1", port, keepalive=5)
    c.loop_start()
    if not ready.wait(5):
        sys.exit("fake scheduler: no connection")
    c.publish(status, topics.ONLINE, qos=1, retain=True).wait_for_publish(5)
    cmd = {"state": state, "lease_s": lease_s, "id": "fake-sched"}
    c.publish(topics.RELAY_COMMAND.topic("circuitq", relay=relay), json.dumps(cmd), qos=1).wait_for_publish(5)
    print("ready", flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4]))
