"""The web service as docker-compose runs it, and an HTTP client logged in to it."""
from __future__ import annotations

import json
import math
import threading
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as paho
import requests
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from services.recorder.classify import classify
from services.recorder.store import Store
from services.web.auth import hash_password
from sim.secrets import write_private_yaml
from tests.conftest import ServiceProcess, write_config
from tests.mqtt_probe import Probe
from tests.recorder.helpers import TZ, reading

PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22"}


def secrets_with_users(src: Path, dst: Path) -> Path:
    """The test session's dev secrets plus two page users with known passwords."""
    data = yaml.safe_load(src.read_text())
    data["web"] = {"users": {u: hash_password(pw) for u, pw in PASSWORDS.items()}}
    write_private_yaml(dst, data)
    return dst


def seed_day(db: Path, day) -> None:
    """A recorded day for the history: minute readings with a sun, heaters on solar at noon."""
    store = Store(db)
    start = datetime.combine(day, datetime.min.time(), tzinfo=TZ)
    for i in range(24 * 60):
        ts = start + timedelta(minutes=i)
        h = i / 60
        sun = max(0.0, math.sin(math.pi * (h - 6.5) / 13)) * 5200 if 6.5 < h < 19.5 else 0.0
        circuits = {"kitchen": 350.0 + (4200.0 if 17.5 < h < 18.5 else 0.0),
                    "heat_pump_north": 3100.0 if int(i / 20) % 4 == 0 else 0.0,
                    "water_heater_north": 4500.0 if 11 <= h < 12.5 else 0.0,
                    "water_heater_south": 4500.0 if 12.5 <= h < 13.5 else 0.0,
                    "pool_pump": 1100.0 if 10 <= h < 16 else 0.0, "dryer": 2500.0 if 19 <= h < 20 else 0.0}
        store.add(classify("circuitq", "circuitq/curb/reading", reading(ts, circuits, sun).encode(), True),
                  ts.timestamp())
    store.close()


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Web:
    def __init__(self, tmp: Path, broker, secrets_path: Path, overrides: dict | None = None, name: str = "web"):
        self.secrets = secrets_with_users(secrets_path, tmp / f"{name}-secrets.yaml")
        self.config = write_config(tmp / f"{name}.yaml", broker, self.secrets, tmp / "state",
                                   {"web": {"confirm_s": 3}, **(overrides or {})})
        self.port = yaml.safe_load(self.config.read_text())["web"]["port"]
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.proc: ServiceProcess | None = None

    def start(self) -> "Web":
        self.proc = ServiceProcess("web", self.config, log_dir=self.tmp)
        wait_http(self.url + "/login")
        return self

    def stop(self) -> int:
        return self.proc.stop() if self.proc else 0

    def login(self, user: str = "alice", password: str | None = None) -> requests.Session:
        s = requests.Session()
        r = s.post(self.url + "/login", data={"user": user, "password": password or PASSWORDS[user]},
                   allow_redirects=False, headers={"Origin": self.url})
        assert r.status_code == 303 and r.headers["location"] == "/", (r.status_code, r.headers.get("location"))
        me = s.get(self.url + "/api/me").json()
        s.headers["X-CSRF-Token"] = me["csrf"]
        s.headers["Origin"] = self.url
        return s


class FakeScheduler:
    """Answers each /set the way the scheduler does: a new retained load state (MQTT 5, so the
    `by` user property of each override is seen)."""

    def __init__(self, port: int, password: str, answer: bool = True):
        self.sets: list[tuple[str, str, str | None]] = []
        self.answer = answer
        self.cond = threading.Condition()
        self.c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"fs-{uuid.uuid4().hex[:6]}", protocol=paho.MQTTv5)
        self.c.username_pw_set("scheduler", password)
        ready = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe("circuitq/load/+/set", qos=1)
        self.c.on_subscribe = lambda *a: ready.set()
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert ready.wait(10)

    def _on_message(self, c, u, msg):
        by = dict(getattr(msg.properties, "UserProperty", None) or []).get("by")
        load = msg.topic.split("/")[2]
        text = msg.payload.decode()
        with self.cond:
            self.sets.append((load, text, by))
            self.cond.notify_all()
        if not self.answer or load == "water_heater_south":  # a load whose scheduler never answers
            return
        data = json.loads(text) if text.startswith("{") else {"mode": text.lower()}
        mode = data["mode"]
        until = None
        if mode != "auto":
            until = time.time() + 60 * data.get("minutes", 120)
        state = {"mode": mode, "permitted": mode != "off", "running": mode == "on",
                 "reason": {"code": f"override:{mode}", "text": f"{mode.upper()} by a user"},
                 "until": None if until is None else time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(until)),
                 "since": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
        c.publish(f"circuitq/load/{load}/state", json.dumps(state), qos=1, retain=True)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def publish_plan(port: int, password: str) -> None:
    """A Plan payload as the planner will publish it (payloads.Plan), from the scheduler's user."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    start = now + timedelta(hours=2)
    slots = [{"start": (now + timedelta(minutes=15 * i)).isoformat(), "import_per_kwh": 0.11 + (0.18 if 20 <= i < 40 else 0),
              "export_per_kwh": 0.04, "solar_w": max(0.0, 4000 - abs(i - 30) * 200)} for i in range(96)]
    plan = {"made": now.isoformat(), "slot_min": 15, "currency": "USD", "slots": slots, "cost": 0.42,
            "loads": {"water_heater_north": {"contract": "hot_water", "text": "heats on solar",
                                             "runs": [{"start": start.isoformat(),
                                                       "end": (start + timedelta(hours=1)).isoformat(),
                                                       "code": "planned:solar", "kwh": 4.5, "cost": 0.18}]}}}
    p = Probe(port, "scheduler", password)
    try:
        p.publish("circuitq/plan", plan, retain=True)
    finally:
        p.close()
