"""Memory and start-up of each service: the whole fleet on one small machine (a Pi 4 has 1-8 GiB).

The six services started together as in the demo (SimFleet, 2 cores shared); RSS and PSS read
from /proc once all are online, and the time from spawning them to each one's `online`.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from circuitq import SERVICES
from sim.fleet import SimFleet
from tests.mqtt_probe import Probe


def _kib(pid: int, key: str) -> int:
    path = f"/proc/{pid}/smaps_rollup" if key == "Pss" else f"/proc/{pid}/status"
    for line in Path(path).read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def run() -> list[tuple[str, str]]:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        fleet = SimFleet(Path(d), port=None, services=()).start()  # broker and fake clouds
        try:
            fleet.authorize_ecobee()
            phone = Probe(fleet.port, "user", fleet.secrets.mqtt_users["user"])
            phone.subscribe("circuitq/+/status")
            t0 = time.monotonic()
            for name in SERVICES:
                fleet.procs[name] = fleet._spawn(name)
            for name in SERVICES:
                m = phone.on_topic(f"circuitq/{name}/status", lambda m: m.text == "online", timeout=30)
                rows.append((f"{name}: spawn -> online", f"{(m.t - t0) * 1000:.0f} ms"))
            time.sleep(5)  # let each settle (first polls, first decisions)
            core = ("curb_collector", "solar_collector", "scheduler", "relay_agent", "ecobee_agent", "notifier")
            mem = {}
            for name, proc in fleet.procs.items():
                mem[name] = rss, pss = _kib(proc.pid, "VmRSS"), _kib(proc.pid, "Pss")
                rows.append((f"{name}: memory", f"RSS {rss / 1024:.1f} MiB, PSS {pss / 1024:.1f} MiB"))
            for label, names in ((f"the six control services ({', '.join(core)})", core),
                                 (f"all {len(mem)} services (with the recorder and the page)", tuple(mem))):
                rss, pss = sum(mem[n][0] for n in names if n in mem), sum(mem[n][1] for n in names if n in mem)
                rows.append((label, f"RSS {rss / 1024:.0f} MiB, PSS {pss / 1024:.0f} MiB"))
            phone.close()
        finally:
            fleet.stop()
    return rows


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
