"""The page's first load in headless Chromium and the web service's memory, beside their floors.

The simulated fleet with the page and a recorded day, on this machine. First load: a fresh
browser context (cold cache, logged in) from navigation until the page has drawn every section
(`body[data-ready]`: state, timeline, history, alerts, health). Floor: the login page (static
HTML, one style sheet, one script) in the same browser. Memory: the web service's RSS after the
loads with a live-update stream open; floor: a bare FleetClient process (paho and pydantic, no
web framework), and the recorder's RSS beside it. Goals: first load under 1 s, RSS under 60 MB.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import requests
import yaml

from sim.fleet import ROOT, SimFleet
from sim.secrets import dev_web_login
from tests.recorder.helpers import TZ
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.web.helpers import seed_day, wait_http


def rss_mib(pid: int, key: str = "VmRSS") -> float:
    """RSS (VmRSS) or PSS (Pss: shared pages split among the processes mapping them), MiB."""
    path = f"/proc/{pid}/smaps_rollup" if key == "Pss" else f"/proc/{pid}/status"
    for line in Path(path).read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed_loads(browser, url: str, cookie: dict, path: str, ready: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
        ctx.add_cookies([cookie])
        page = ctx.new_page()
        t0 = time.monotonic()
        page.goto(url + path)
        page.wait_for_selector(ready, timeout=30000)
        out.append((time.monotonic() - t0) * 1000)
        ctx.close()
    return out


def run(n: int = 7) -> list[tuple[str, str]]:
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as d:
        run_dir = Path(d)
        (run_dir / "state").mkdir()
        seed_day(run_dir / "state" / "recorder.sqlite", datetime.now(TZ).date() - timedelta(days=1))
        fleet = SimFleet(run_dir, port=None).start()
        floor = None
        try:
            url = f"http://127.0.0.1:{yaml.safe_load(fleet.config.read_text())['web']['port']}"
            wait_http(url + "/login")
            user, password = dev_web_login(fleet.secrets_path)
            s = requests.Session()
            s.post(url + "/login", data={"user": user, "password": password}, allow_redirects=False)
            cookie = {"name": "circuitq_session", "value": s.cookies["circuitq_session"], "url": url}
            time.sleep(5)  # the recorder's first roll-up, the services' first states
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                timed_loads(browser, url, cookie, "/", "body[data-ready='1']", 1)  # warm the server
                page_ms = timed_loads(browser, url, cookie, "/", "body[data-ready='1']", n)
                login_ms = timed_loads(browser, url, cookie, "/login", "form", n)
                with s.get(url + "/api/events", stream=True, timeout=30):
                    web_rss = rss_mib(fleet.procs["web"].pid)
                    web_pss = rss_mib(fleet.procs["web"].pid, "Pss")
                browser.close()
            api = {}
            for path in ("/api/state", "/api/timeline", "/api/health", "/api/history"):
                samples = []
                for _ in range(n):
                    t0 = time.monotonic()
                    s.get(url + path).raise_for_status()
                    samples.append((time.monotonic() - t0) * 1000)
                api[path] = statistics.median(samples)
            recorder_rss = rss_mib(fleet.procs["recorder"].pid)
            floor = subprocess.Popen([sys.executable, "-m", "tests.helpers.hold_connection", "web", str(fleet.port),
                                      fleet.secrets.mqtt_users["web"]], cwd=ROOT, stdout=subprocess.PIPE, text=True)
            floor.stdout.readline()
            time.sleep(1)
            floor_rss, floor_pss = rss_mib(floor.pid), rss_mib(floor.pid, "Pss")
        finally:
            if floor is not None:
                floor.kill()
                floor.wait()
            fleet.stop()
    med = lambda xs: f"median {statistics.median(xs):.0f} ms, max {max(xs):.0f} ms (n={len(xs)})"  # noqa: E731
    return [("first load of the page, logged in, cold cache (goal < 1 s)", med(page_ms)),
            ("floor: the login page (static) in the same browser", med(login_ms)),
            ("API answers (median)", ", ".join(f"{p} {v:.1f} ms" for p, v in api.items())),
            ("web service RSS with a live stream open (goal < 60 MB)", f"{web_rss:.1f} MiB (PSS {web_pss:.1f} MiB)"),
            ("floor: a bare FleetClient process", f"{floor_rss:.1f} MiB (PSS {floor_pss:.1f} MiB)"),
            ("recorder RSS", f"{recorder_rss:.1f} MiB")]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label}: {value}")
