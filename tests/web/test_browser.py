"""The page in a real browser (Debian's Chromium, headless) against the simulated fleet: log in,
watch live states change, override a load and see the simulated relay switch, read the next
24 h and a recorded day. Screenshots for a phone and a desktop land in run/screenshots/."""
from __future__ import annotations

import json
import time

from playwright.sync_api import expect

from tests.conftest import ROOT

SHOTS = ROOT / "run" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 1000}


def relay_pin(fleet, relay: str) -> bool | None:
    """The simulated relay's level, from the sim GPIO file the relay agent writes."""
    try:
        return bool(json.loads((fleet.run_dir / "gpio.json").read_text())["pins"][relay]["on"])
    except (OSError, ValueError, KeyError):
        return None


def wait_until(pred, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.1)


def log_in(page, fleet) -> None:
    page.goto(fleet.url + "/")
    assert page.url.endswith("/login")  # no anonymous access
    user, password = fleet.login
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error:not([hidden])")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready='1']", timeout=30000)


def test_the_household_page_end_to_end(web_fleet, browser):
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "/login" not in r.url else None)
    log_in(page, web_fleet)
    page.wait_for_selector("#live.on", timeout=20000)
    pool = page.locator("article[data-load='pool_pump']")
    pool.locator(".reason").wait_for()
    expect(pool.locator(".meta")).to_contain_text("relay", timeout=30000)

    # live: the kitchen starts cooking in the (fake) Curb; the page shows it without a reload
    web_fleet.cloud.curb.set_watts({"curb-kitchen": 5200.0})
    expect(page.locator("#observed span", has_text="Kitchen 5.2 kW")).to_have_count(1, timeout=30000)

    # override: OFF for 30 min; the simulated relay opens and the card says who did it
    wait_until(lambda: relay_pin(web_fleet, "pool_pump") is not None, what="the sim GPIO file")
    pool.locator("select").select_option("30")
    pool.locator("button[data-mode='off']").click()
    page.wait_for_selector("#toast:not([hidden])")
    assert "OFF until" in page.text_content("#toast"), page.text_content("#toast")
    wait_until(lambda: relay_pin(web_fleet, "pool_pump") is False, what="pool pump relay off")
    expect(pool.locator(".meta")).to_contain_text("relay off", timeout=30000)
    assert "set by household" in pool.locator(".meta").text_content()
    assert "override OFF" in pool.locator(".pill").text_content()
    pool.locator("button[data-mode='auto']").click()
    expect(pool.locator(".pill")).not_to_contain_text("override", timeout=30000)

    # next 24 h: the simulated house's scheduler plans (the example config), and the page
    # shows its plan (the calendars-then-plan switch is tested with a fake scheduler in test_api)
    expect(page.locator("#plan-source")).to_contain_text("planned", timeout=30000)
    rows = page.locator("#timeline .tl-row")
    assert rows.count() >= 4
    # the pool's daily runtime is in every 24 h ahead
    expect(page.locator(".tl-row[data-load='pool_pump'] .tl-span.run").first).to_be_visible(timeout=30000)
    assert page.locator("#price-chart canvas").count() == 1

    # history: yesterday was recorded (seeded); its totals, loads and chart
    page.select_option("#day-select", web_fleet.yesterday)
    expect(page.locator("#csv-link")).to_have_attribute("href", f"/api/history/{web_fleet.yesterday}/readings.csv")
    page.wait_for_selector(".bar-row[data-load='water_heater_north']")
    tiles = page.text_content("#day-tiles")
    assert "used" in tiles and "with no control (estimate)" in tiles and "saved" in tiles
    assert page.locator("#day-chart canvas").count() == 1
    assert "1440 readings" in page.text_content("#day-note")
    page.wait_for_selector(".health-list li[data-name='recorder'] .dot.ok", timeout=20000)

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.getElementById('toast').hidden = true")  # the last override's note
    page.screenshot(path=str(SHOTS / "desktop.png"), full_page=True)
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                storage_state=ctx.storage_state())
    p2 = phone.new_page()
    p2.goto(web_fleet.url + "/")
    p2.wait_for_selector("body[data-ready='1']", timeout=30000)
    p2.select_option("#day-select", web_fleet.yesterday)
    p2.wait_for_selector(".bar-row[data-load='pool_pump']")
    p2.screenshot(path=str(SHOTS / "phone.png"), full_page=True)
    assert p2.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than a phone
    phone.close()
    ctx.close()
    assert not errors, errors
