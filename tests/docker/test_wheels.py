"""scripts/check_wheels.py: every dependency of the image has a wheel on arm64 and armv7
(or comes from Debian), and its output says which, one line per dependency."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_image_dependency_installs_from_a_wheel_on_a_pi():
    r = subprocess.run([sys.executable, "-m", "scripts.check_wheels"], cwd=ROOT, capture_output=True,
                       text=True, timeout=900)
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = {line.split()[0]: line for line in r.stdout.splitlines()[1:-1]}
    for dep in ("paho-mqtt", "pydantic", "pydantic_core", "requests", "holidays", "apprise", "lgpio"):
        assert dep in lines, f"{dep} missing from the check:\n{r.stdout}"
    assert "cp311-linux_armv7l.whl" in lines["lgpio"] and "aarch64.whl" in lines["lgpio"]
    assert "armv7l" in lines["pydantic_core"] and "aarch64" in lines["pydantic_core"]
    assert "from Debian: python3-yaml" in lines["pyyaml"]
