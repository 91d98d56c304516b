"""What the container tests install: the checkout as a user clones it, and a house config
that runs on simulated GPIO with every cloud refused at once inside the machine."""
from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from sim.fleet import deep_update

ROOT = Path(__file__).resolve().parents[2]
USER_FILES = {"config/config.yaml", "config/secrets.yaml", "mosquitto/passwd", ".env"}
NOWHERE = "http://127.0.0.1:9"  # clouds: refused at once where the service runs, no traffic leaves
RELAYS = ("water_heater_north", "water_heater_south", "pool_pump")
FAST = {  # test-friendly durations, as in tests/test_fleet_e2e.py
    "relays": {r: {"min_on_s": 0, "min_off_s": 0, "max_starts_per_hour": 100} for r in RELAYS},
    "loads": {r: {"min_on_s": 0, "min_off_s": 0} for r in RELAYS},
    "scheduler": {"startup_grace_s": 1, "settle_s": 5},
}


def checkout_files() -> list[str]:
    """Tracked and new files, as a clone has them, plus the page's vendored library (built by
    scripts/setup.sh, which the suite runs first)."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    files = [f for f in out if f and f not in USER_FILES and (ROOT / f).is_file()]
    vendor = ROOT / "services" / "web" / "static" / "vendor"
    return files + [str(p.relative_to(ROOT)) for p in sorted(vendor.glob("*"))]


def copy_checkout(dest: Path, with_vendor: bool = False) -> None:
    import shutil
    for f in checkout_files():
        if not with_vendor and "/static/vendor/" in f:
            continue
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dest / f)


def house_config(sim_state_file: str) -> dict:
    config = yaml.safe_load((ROOT / "config" / "example.yaml").read_text())
    deep_update(config, {
        "relay_agent": {"backend": "sim", "sim_state_file": sim_state_file},
        "curb": {"auth_host": NOWHERE, "api_host": NOWHERE},
        "solar": {"sources": [{"kind": "mqtt", "name": "meter", "topic": "circuitq/solar/input/meter"}]},
        "ecobee": {"api_host": NOWHERE},
        "notifier": {"prowl": {"host": NOWHERE}},
        **FAST,
    })
    return config
