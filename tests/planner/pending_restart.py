"""PENDING (not committed): behaviour the planner does not show yet; see
/work/notes/planner-tests.md. Run: .venv/bin/pytest -q tests/planner/pending_restart.py"""
from __future__ import annotations

from datetime import date

from .harness import Restart, house_cfg, simulate, world


def test_a_heater_heating_through_an_instant_restart_keeps_heating():
    """The restart of test_restart.py (Tuesday 7 January 2025, seed 1, in the middle of the
    longest planned heating of the day): the fresh core stops the heater within a minute
    (planned:wait, 'next heating 12:30 on solar': the sky's recent clearness is not saved),
    where the run without a restart heats on until 11:45."""
    from .test_restart import longest_planned_run
    cfg, spec, exo = world(house_cfg(), date(2025, 1, 6), 2)
    ref = simulate(cfg, spec, exo)
    heater, a, b = longest_planned_run(ref, int((exo.local_day < 1).sum()))
    at = (a + b) // 2
    r = simulate(cfg, spec, exo, restart=Restart(at))
    assert (ref.trace.load_w[heater][at:at + 3] > 0).all()
    assert (r.trace.load_w[heater][at:at + 3] > 0).all(), f"{heater} stopped heating at the restart"
