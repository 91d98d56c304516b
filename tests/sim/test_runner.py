"""The runner: deterministic for a seed, and the core fed only what it would see live."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from services.scheduler import model as m
from sim.simulate import policies
from sim.simulate.build import build
from sim.simulate.policies import CoreController
from sim.simulate.runner import run

DAYS = 2


@pytest.fixture(scope="module")
def world(house_cfg):
    return build(house_cfg, "greensboro", 2025, 1, DAYS, seed=1)


def test_same_seed_same_world_other_seed_other_draws(house_cfg, world):
    _, _, exo = world
    _, _, again = build(house_cfg, "greensboro", 2025, 1, DAYS, seed=1)
    for name in exo.draw_l40:
        assert np.array_equal(exo.draw_l40[name], again.draw_l40[name])
    for name in exo.observed_w:
        assert np.array_equal(exo.observed_w[name], again.observed_w[name])
    assert np.array_equal(exo.pv_w, again.pv_w) and np.array_equal(exo.base_w, again.base_w)
    _, _, other = build(house_cfg, "greensboro", 2025, 1, DAYS, seed=2)
    assert not np.array_equal(exo.draw_l40["water_heater_north"], other.draw_l40["water_heater_north"])
    _, _, longer = build(house_cfg, "greensboro", 2025, 1, DAYS + 2, seed=1)  # a date's household
    for name in exo.draw_l40:                                                # is the same in a longer run
        assert np.array_equal(exo.draw_l40[name], longer.draw_l40[name][:exo.n])
    assert np.array_equal(exo.observed_w["dryer"], longer.observed_w["dryer"][:exo.n])


def test_same_seed_same_run(world):
    cfg, spec, exo = world
    a = run(CoreController("circuitq", cfg, spec, exo), spec, exo)
    b = run(CoreController("circuitq", cfg, spec, exo), spec, exo)
    assert np.array_equal(a.total_w, b.total_w)
    for name in spec.controllable:
        assert np.array_equal(a.permit[name], b.permit[name])
    assert a.relay_ops == b.relay_ops and a.decisions == b.decisions


LIVE = {m.Tick, m.Solar, m.Reading, m.RelayFeedback, m.ThermostatFeedback}


def test_core_sees_only_what_it_would_see_live(world, monkeypatch):
    cfg, spec, exo = world
    seen = []
    real = policies.decide

    def spy(now, st, event):
        evs = event.events if isinstance(event, m.Batch) else [event]
        seen.append((now, [type(e)(**{f: getattr(e, f) for f in e.__slots__}) for e in evs]))
        return real(now, st, event)

    monkeypatch.setattr(policies, "decide", spy)
    tr = run(CoreController("circuitq", cfg, spec, exo), spec, exo)
    circuits = set(spec.circuits.values())
    readings = 0
    for now, evs in seen:
        for e in evs:
            assert type(e) in LIVE, type(e)  # no tank temperature, no forecast of draws
            if type(e) is m.Reading:
                readings += 1
                k = int((now - exo.t0) / timedelta(minutes=1)) - 1  # the minute that just ended
                assert e.ts == now and set(e.circuits) <= circuits
                for load, w in tr.load_w.items():  # last minute's average watts, nothing else
                    assert e.circuits[spec.circuits[load]] == pytest.approx(w[k])
                assert e.production_w == pytest.approx(exo.pv_w[k])
            if type(e) is m.ThermostatFeedback:
                k = int((now - exo.t0) / timedelta(minutes=1)) - 1
                assert e.indoor_c == pytest.approx(float(tr.zone_c[k]), abs=1e-3)
    assert readings == exo.n  # one reading per minute, none skipped
    ticks = [now for now, evs in seen if type(evs[0]) is m.Tick]
    assert all(t > exo.t0 for t in ticks)


def test_relay_agent_limits_hold_whatever_the_policy(world):
    """Relay levels come from the relay agent core: min on/off times are never violated."""
    cfg, spec, exo = world
    tr = run(CoreController("circuitq", cfg, spec, exo), spec, exo)
    for name, ts in spec.tanks.items():
        lv = tr.permit[name].astype(np.int8)
        edges = np.flatnonzero(np.diff(lv)) + 1
        runs = np.diff(np.concatenate([[0], edges, [len(lv)]]))
        inner = runs[1:-1]  # the first and last stretches are cut by the run's ends
        limit = min(ts.relay.min_on_s, ts.relay.min_off_s) / 60
        assert (inner >= limit - 1).all(), (name, inner.min())


def test_a_declared_tank_sensor_reads_the_top_of_the_tank(house_path, tmp_path, monkeypatch):
    """hot_water.sensor: true -> the core also gets that tank's temperature, as live (and only
    that tank's): the top of the simulated tank at the end of each minute."""
    import yaml

    from circuitq.config import load_config
    data = yaml.safe_load(house_path.read_text())
    data["loads"]["water_heater_north"].setdefault("hot_water", {"tank_l": 190, "element_w": 4500})
    data["loads"]["water_heater_north"]["hot_water"]["sensor"] = True
    path = tmp_path / "sensor.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    cfg, spec, exo = build(load_config(path, env={}), "greensboro", 2025, 1, 1, seed=1)
    temps = []
    real = policies.decide

    def spy(now, st, event):
        for e in (event.events if isinstance(event, m.Batch) else [event]):
            if type(e) is m.TankTemp:
                temps.append((now, e.load, e.temp_c))
        return real(now, st, event)

    monkeypatch.setattr(policies, "decide", spy)
    tr = run(CoreController("circuitq", cfg, spec, exo), spec, exo)
    assert len(temps) == exo.n and {load for _, load, _ in temps} == {"water_heater_north"}
    for now, load, c in temps[::97]:
        k = int((now - exo.t0) / timedelta(minutes=1)) - 1
        assert c == pytest.approx(float(tr.top_c[load][k]), abs=1e-3)
    assert min(c for _, _, c in temps) < max(c for _, _, c in temps)  # it moves with draws and heat
