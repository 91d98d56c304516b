"""`python -m sim.simulate`: what a user runs and what they get back."""
from __future__ import annotations

import json

import pytest
import yaml

from circuitq.config import ConfigError, load_config
from sim.simulate.cli import main


def test_one_day_writes_table_json_and_plots(house_path, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["--config", str(house_path), "--site", "sandpoint", "--month", "1", "--days", "1",
               "--seed", "3", "--policies", "circuitq,no_control", "--out", str(out), "--quiet"])
    assert rc == 0
    md = (out / "results.md").read_text()
    assert "| | circuitq | no_control |" in md and "service_ok" in md and "cold draws" in md
    data = json.loads((out / "results.json").read_text())
    assert data["run"]["site"] == "sandpoint" and data["run"]["timezone"] == "America/Anchorage"
    assert data["run"]["seed"] == 3
    for p in ("circuitq", "no_control"):
        r = data["policies"][p]
        assert {"cost", "service_ok", "tanks", "pool", "comfort", "over_max_running_min"} <= set(r)
    assert (out / "day.png").stat().st_size > 10_000 and (out / "month.png").stat().st_size > 10_000
    assert "written:" in capsys.readouterr().out


def test_a_missing_simulation_section_is_named(tmp_path, house_path, capsys):
    data = yaml.safe_load(house_path.read_text())
    data.pop("simulation")
    cfg = tmp_path / "nosim.yaml"
    cfg.write_text(yaml.safe_dump(data))
    assert main(["--config", str(cfg), "--days", "1", "--quiet", "--out", str(tmp_path / "o")]) == 2
    assert "simulation:" in capsys.readouterr().err


def test_simulated_appliances_must_be_loads_of_the_right_kind(tmp_path, house_path):
    data = yaml.safe_load(house_path.read_text())
    data["simulation"]["water_heaters"]["kitchen"] = data["simulation"]["water_heaters"].pop("water_heater_south")
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="simulation.water_heaters.kitchen: load 'kitchen' is kind observed"):
        load_config(cfg, env={})
