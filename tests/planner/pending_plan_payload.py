"""PENDING (not committed): behaviour the planner does not show yet; see
/work/notes/planner-tests.md. Run: .venv/bin/pytest -q tests/planner/pending_plan_payload.py"""
from __future__ import annotations

from .test_plan_payload import house, pool_agreement  # noqa: F401  (the fixture)


def test_the_plan_shows_no_pool_run_its_relay_cannot_make(house):  # noqa: F811
    """A run shown to start while the pump's relay is inside its min_off after a stop (or
    its start gap) is a run the household sees planned but not happening."""
    kept, planned = pool_agreement(house, ())
    assert kept >= 0.95 * planned, f"the pool did not run in {planned - kept} of {planned} planned minutes"
