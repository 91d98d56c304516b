"""docker-compose itself accepts the shipped file (defaults, no .env), and the check is real."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def config(path: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("docker-compose"), "-f", str(path), "config", "-q"], capture_output=True,
                          text=True, cwd=cwd, timeout=60)


def test_docker_compose_accepts_the_file():
    r = config(COMPOSE, ROOT)
    assert r.returncode == 0, r.stderr


def test_docker_compose_rejects_a_broken_file(tmp_path):
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["scheduler"]["depends_on"] = ["no_such_service"]
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(broken))
    assert config(tmp_path / "docker-compose.yml", tmp_path).returncode != 0
