"""PENDING (not committed): behaviour the planner does not show yet; see
/work/notes/planner-tests.md. Run: .venv/bin/pytest -q tests/planner/pending_cloudy.py"""
from __future__ import annotations

from .test_cloudy import DAYS, SUNNY_DAYS, shares, spell  # noqa: F401  (the fixture)


def test_heat_moves_to_the_night_discount(spell):
    r = spell
    sunny_disc, _ = shares(r, [1])  # day 0 starts with full tanks: day 1 is the sunny reference
    cloudy_disc, cloudy_sun = shares(r, range(SUNNY_DAYS + 1, DAYS))  # after a day to notice
    assert cloudy_sun <= 0.05
    assert cloudy_disc >= sunny_disc + 0.15, f"discount share {sunny_disc:.0%} sunny, {cloudy_disc:.0%} cloudy"
    assert cloudy_disc >= 0.35
