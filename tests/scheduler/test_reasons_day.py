"""A simulated July day of the example house (the planner on) and of the CircuitQueueing house
(solar gates, windows, block_when, the DRM output): after every decision of the real core,
every retained load and DRM state says the current reason, every figure a text quotes is the
one of that moment (one solar average for all loads, the production the DRM acts on), an
observed load is 'running' exactly when it counts as running, and every code is in the
catalogue."""
from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from services.scheduler import model as m
from services.scheduler.reasons import PLANNER_CODES, REASONS, text
from sim.simulate import policies
from sim.simulate.build import build
from sim.simulate.cli import CIRCUITQUEUEING, make_controller
from sim.simulate.runner import run

from ..sim.conftest import house_config_path
from .reason_walk import code_matches

SOLAR = re.compile(r"solar (\d+) W \(")
PRODUCTION = re.compile(r"production (\d+) W")
# the planner's tank sentence (planner/verdicts.py): (the mean estimate, the full tank, the
# cautious estimate the plan works from), in either of its wordings
TANKS = ((re.compile(r"tank about ([\d.]+) kWh short of full \(([\d.]+) kWh\), planned as up to ([\d.]+) short"),
          (0, 1, 2)),
         (re.compile(r"tank up to ([\d.]+) of ([\d.]+) kWh short \(at most ([\d.]+) expected\)"), (2, 1, 0)))


def check(st, now, retained: dict, whys: dict, seen: dict) -> None:
    tz = st.policy.tz
    avg = st.solar_sum / len(st.solar_samples) if st.solar_samples else None
    for name, lt in st.loads.items():
        if lt.why is not whys.get(name):  # made at this decision: from its why, now
            assert lt.text == text(lt.why, now, tz)
            whys[name] = lt.why
        assert retained[name] == (lt.code, lt.text), (name, retained[name], lt.code, lt.text)
        assert lt.code in PLANNER_CODES or any(code_matches(lt.code, s.code) for s in REASONS.values()), lt.code
        if lt.code.startswith("observed:"):
            assert (lt.code == "observed:running") == lt.running
        for figure in SOLAR.findall(lt.text):
            assert int(figure) == math.floor(avg), (name, lt.text, avg)
            seen["solar"] += 1
        if "kWh short" in lt.text:  # the planner's tank figures, of this moment too
            tank = st.planner.tanks[name]
            found = [(g, order) for rx, order in TANKS for g in rx.findall(lt.text)]
            assert found, f"a tank sentence this test does not know: {lt.text!r} (add its wording to TANKS)"
            for g, order in found:
                mean, full, cautious = (g[i] for i in order)
                assert (mean, full, cautious) == tuple(f"{x:.1f}" for x in (tank.deficit_kwh, tank.full_kwh,
                                                                           tank.cautious_kwh)), lt.text
                seen["tank"] += 1
    for name, d in st.drm.items():
        if d.mode is not None or d.feedback is not None:
            assert retained["drm " + name] == (d.code, d.text)
        if d.code.startswith(("solar:", "holding:")):
            assert [int(x) for x in PRODUCTION.findall(d.text)] == [math.floor(st.solar_w)], (d.text, st.solar_w)
            seen["production"] += 1
        seen[d.code.split(":")[0]] += 1


@pytest.mark.parametrize("policy", ["circuitq", "circuitqueueing"])
def test_a_day_of_reasons_that_say_the_moment(policy, tmp_path, monkeypatch):
    from circuitq.config import load_config
    cfg = load_config(house_config_path(tmp_path), env={})
    cfg, spec, exo = build(cfg, "greensboro", 2025, 7, 1, 1)
    ctl = make_controller(policy, cfg, spec, exo, None, CIRCUITQUEUEING)
    retained, whys, seen = {}, {}, Counter()
    real = policies.decide

    def checked(now, st, event):
        st, cmds = real(now, st, event)
        for c in cmds:
            if type(c) is m.PublishLoad:
                retained[c.load] = (c.state["reason"]["code"], c.state["reason"]["text"])
            elif type(c) is m.PublishDrm:
                retained["drm " + c.output] = (c.state["reason"]["code"], c.state["reason"]["text"])
        check(st, now, retained, whys, seen)
        seen["decisions"] += 1
        return st, cmds
    monkeypatch.setattr(policies, "decide", checked)
    run(ctl, spec, exo)
    assert seen["decisions"] >= 1440, seen
    if policy == "circuitq":
        assert seen["production"] > 100 and seen["tank"] > 100, seen  # the DRM output, the planner's tanks
    else:
        assert seen["solar"] > 100, seen  # gated heaters quoted the average, every one the same
