"""The example house (config/example.yaml) for the simulator's tests, priced with a test
tariff when the example has none yet (tests/sim/tariff.yaml)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from circuitq.config import load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example.yaml"


def house_config_path(tmp: Path) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    if not data.get("tariff"):
        data.update(yaml.safe_load((Path(__file__).with_name("tariff.yaml")).read_text()))
    path = tmp / "house.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def house_path(tmp_path_factory) -> Path:
    return house_config_path(tmp_path_factory.mktemp("sim"))


@pytest.fixture(scope="session")
def house_cfg(house_path):
    return load_config(house_path, env={})
