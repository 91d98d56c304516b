"""`make demo`: the whole circuitq fleet on simulated hardware, in this terminal.

    python -m sim.demo [--port 1884] [--duration SECONDS] [--day-s 600]

Starts Mosquitto from mosquitto/, fake Curb/Enphase/PVOutput/ecobee/Prowl clouds, every
service as a process (exactly as docker-compose runs them), and a simulated house whose
appliances draw power when the relay agent's simulated relays let them. The sun runs a
compressed day every --day-s seconds so DRM modes and the solar gate move while you watch.
Prints the activity log as it happens and a status table every --table-s seconds.
Override a load from another terminal with the mosquitto_pub line printed at start, or on
the page (http://127.0.0.1:8080/, --web-port; its login is printed at start).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from sim.broker import free_port
from sim.fleet import ROOT, SimFleet
from sim.house import House
from sim.secrets import dev_web_login


class Dashboard:
    """A phone-like client on the `user` account: it sees exactly what a user's app would."""

    def __init__(self, port: int, password: str, out=sys.stdout):
        self.state: dict[str, dict] = {}
        self.out = out
        self.lock = threading.Lock()
        self.c = paho.Client(CallbackAPIVersion.VERSION2, client_id="circuitq-demo-dashboard")
        self.c.username_pw_set("user", password)
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe("circuitq/#", qos=1)
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def _on_message(self, c, u, msg) -> None:
        text = msg.payload.decode("utf-8", "replace")
        with self.lock:
            self.state[msg.topic] = text
        if msg.topic == "circuitq/activity":
            a = json.loads(text)
            self.print(f"{a['ts'][11:19]} {a['service']:<12} {a['subject']}: {a['message']}")
        elif msg.topic == "circuitq/alert":
            a = json.loads(text)
            tag = "resolved" if a.get("resolved") else "ALERT"
            self.print(f"{a['ts'][11:19]} {tag:<12} {a['title']}: {a['message']}")
        elif msg.topic == "circuitq/error":
            e = json.loads(text)
            self.print(f"{e['ts'][11:19]} error        {e['service']} on {e['topic']}: {e['error']}")

    def print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def _json(self, topic: str) -> dict | None:
        with self.lock:
            raw = self.state.get(topic)
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def table(self) -> str:
        with self.lock:
            topics = sorted(self.state)
        rows = ["", "load                 mode  running  reason"]
        for t in topics:
            if t.startswith("circuitq/load/") and t.endswith("/state"):
                s = self._json(t) or {}
                r = s.get("reason") or {}
                rows.append(f"{t.split('/')[2]:<20} {s.get('mode', '?'):<5} {str(s.get('running', '?')):<8} "
                            f"{r.get('code', '')}: {r.get('text', '')}")
        for t in topics:
            if t.startswith("circuitq/drm/") and t.endswith("/state"):
                s = self._json(t) or {}
                r = s.get("reason") or {}
                rows.append(f"{'DRED ' + t.split('/')[2]:<20} {s.get('mode', '?'):<5} DRM{s.get('drm_mode', '?'):<5} "
                            f"{r.get('code', '')}: {r.get('text', '')}")
        relays = []
        for t in topics:
            if t.startswith("circuitq/relay/") and t.endswith("/state"):
                s = self._json(t) or {}
                pend = f" (pending {s['pending']['state']})" if s.get("pending") else ""
                relays.append(f"{t.split('/')[2]}={s.get('level')}{pend}")
            if t.startswith("circuitq/dred/") and t.endswith("/state"):
                s = self._json(t) or {}
                relays.append(f"{t.split('/')[2]}=DRM{s.get('mode')}")
        rows += self.plan_lines()
        prod = self._json("circuitq/solar/production") or {}
        rows.append("relays: " + ", ".join(relays))
        rows.append(f"solar: {prod.get('w', '?')} W from {prod.get('source', '?')}"
                    f"{' (stale)' if prod.get('stale') else ''}")
        with self.lock:
            online = [t.split("/")[1] for t in topics if t.endswith("/status") and self.state[t] == "online"]
        rows.append("online: " + ", ".join(sorted(online)))
        return "\n".join(rows) + "\n"

    def plan_lines(self) -> list[str]:
        """The planner's next runs per load (circuitq/plan), in the site's local times."""
        plan = self._json("circuitq/plan")
        if not plan:
            return []
        made = plan["made"][11:16]
        out = [f"plan (made {made}, expected cost {plan['cost']:.2f} {plan['currency']}):"]
        for name, lp in sorted(plan["loads"].items()):
            runs = ", ".join(f"{r['start'][11:16]}-{r['end'][11:16]} {r['code'].split(':')[-1]}"
                             for r in lp["runs"][:3]) or "nothing in the next 24 h"
            more = f" (+{len(lp['runs']) - 3})" if len(lp["runs"]) > 3 else ""
            out.append(f"  {name:<20} {runs}{more}")
        return out

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=1884, help="broker port (0: any free port)")
    ap.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    ap.add_argument("--day-s", type=float, default=600, help="seconds per simulated sun day")
    ap.add_argument("--table-s", type=float, default=20, help="status table every N seconds")
    ap.add_argument("--run-dir", type=Path, default=ROOT / "run" / "demo")
    ap.add_argument("--web-port", type=int, default=8080, help="the page's port (0: any free port)")
    a = ap.parse_args(argv)

    web_port = a.web_port or free_port()
    fleet = SimFleet(a.run_dir, port=a.port or None, echo_prowl=True, overrides={"web": {"port": web_port}})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *x: stop.set())
    signal.signal(signal.SIGINT, lambda *x: stop.set())
    print(f"circuitq demo: starting broker, fake clouds and {len(fleet.services)} services in {a.run_dir} ...", flush=True)
    fleet.start()
    house = House(a.run_dir / "gpio.json", fleet.cloud.curb, fleet.cloud.solar, fleet.cloud.ecobee,
                  config=fleet.config, day_s=a.day_s)
    pw = fleet.secrets.mqtt_users["user"]
    dash = Dashboard(fleet.port, pw)
    print(f"broker on 127.0.0.1:{fleet.port}; logs in {a.run_dir}/*.log\n"
          f"override from another terminal (or MQTT Explorer, user 'user'):\n"
          f"  mosquitto_pub -p {fleet.port} -u user -P '{pw}' -t circuitq/load/pool_pump/set -m OFF\n"
          f"  mosquitto_sub -p {fleet.port} -u user -P '{pw}' -t 'circuitq/#' -v\n", flush=True)
    web_user, web_pw = dev_web_login(fleet.secrets_path)
    print(f"the page: http://127.0.0.1:{web_port}/  (log in as {web_user} / {web_pw})\n", flush=True)
    started = time.monotonic()
    next_table = started + 5
    code = 0
    try:
        while not stop.is_set():
            house.step()
            now = time.monotonic()
            if now >= next_table:
                dash.print(dash.table() + house.summary())
                next_table = now + a.table_s
            dead = [n for n, ok in fleet.alive().items() if not ok]
            if dead:
                dash.print(f"service(s) exited: {', '.join(dead)}; see {a.run_dir}/<name>.log")
                code = 1
                break
            if a.duration is not None and now - started >= a.duration:
                break
            stop.wait(2)
    finally:
        dash.print(dash.table())
        dash.close()
        codes = fleet.stop()
        print("stopped: " + ", ".join(f"{n} exit {c}" for n, c in codes.items()), flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
