"""Fixtures for the page's tests: the simulated fleet with the page, and Debian's Chromium
driven by Playwright (headless; never a browser downloaded by a test tool)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml

from sim.fleet import SimFleet
from sim.secrets import dev_web_login
from tests.recorder.helpers import TZ
from tests.web.helpers import seed_day, wait_http

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-gpu"]
RELAYS = ("water_heater_north", "water_heater_south", "pool_pump")
FAST = {
    "relays": {r: {"min_on_s": 0, "min_off_s": 0, "max_starts_per_hour": 100} for r in RELAYS},
    "loads": {r: {"min_on_s": 0, "min_off_s": 0} for r in RELAYS},
    "scheduler": {"startup_grace_s": 1, "settle_s": 5},
    "recorder": {"rollup_every_min": 0.05},
    "web": {"confirm_s": 15},
}


@pytest.fixture(scope="module")
def web_fleet(tmp_path_factory):
    """The whole simulated fleet, the page included, with yesterday already recorded."""
    run_dir = tmp_path_factory.mktemp("webfleet")
    yesterday = datetime.now(TZ).date() - timedelta(days=1)
    (run_dir / "state").mkdir(parents=True)
    seed_day(run_dir / "state" / "recorder.sqlite", yesterday)
    fleet = SimFleet(run_dir, port=None, overrides=FAST).start()
    try:
        port = yaml.safe_load(fleet.config.read_text())["web"]["port"]
        fleet.url = f"http://127.0.0.1:{port}"
        fleet.login = dev_web_login(fleet.secrets_path)
        fleet.yesterday = yesterday.isoformat()
        wait_http(fleet.url + "/login")
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
