"""Hot-water draws: stochastic daily profiles at 1-minute resolution, after DHWcalc's method
(Jordan & Vajen, IEA SHC Task 26): a daily volume, draw categories with their flow rates and
durations, and start times drawn from a time-of-day probability curve.

Volumes are litres of MIXED water at 40 C at the tap (see spec.TAP_C). Showers and baths are
habits: each has a usual time and happens on most days (see HABIT_P). Per local day:
  volume = mean x weekend/holiday factor x lognormal day-to-day variation x (heavy day factor),
normalised so the long-run mean is `litres_per_day` x the tank's share. Weekdays have a sharp
morning peak (06-08) and an evening peak (18-22); weekends a later, flatter morning. Each
tank has its own random stream (seed, tank index): the same seed gives the same draws.
"""
from __future__ import annotations

import numpy as np

from circuitq.config.simulation import SimHotWater

from .days import DayGrid

# category: share of the day's volume, flow at the tap (L/min at 40 C), duration (min: mean, sd)
CATEGORIES = (
    ("short", 0.14, 1.5, 1.0, 0.0),   # hands, a glass
    ("medium", 0.22, 6.0, 1.5, 0.7),  # sink, dishes
    ("shower", 0.54, 8.0, 7.0, 2.5),
    ("bath", 0.10, 14.0, 9.0, 2.0),
)
# relative probability of a draw starting in each local hour
WEEKDAY = np.array([0.2, 0.1, 0.1, 0.1, 0.3, 2.0, 5.0, 5.0, 2.5, 1.5, 1.2, 1.2,
                    1.5, 1.2, 1.0, 1.0, 1.3, 2.0, 3.0, 3.5, 3.5, 3.0, 1.8, 0.8])
WEEKEND = np.array([0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.8, 2.0, 3.5, 4.0, 3.5, 2.5,
                    2.0, 1.5, 1.3, 1.3, 1.5, 2.0, 2.8, 3.2, 3.2, 2.8, 1.8, 0.8])
MINUTE_P = {False: np.repeat(WEEKDAY / WEEKDAY.sum() / 60, 60), True: np.repeat(WEEKEND / WEEKEND.sum() / 60, 60)}


def day_volume(hw: SimHotWater, share: float, weekend: bool, rng) -> float:
    """Litres at 40 C for one local day (long-run mean = litres_per_day x share)."""
    f = hw.weekend_factor
    base = hw.litres_per_day * share * 7 / (5 + 2 * f) / (1 + hw.heavy_day_prob * (hw.heavy_day_factor - 1))
    sigma = hw.day_sigma
    var = rng.lognormal(-sigma * sigma / 2, sigma) if sigma > 0 else 1.0
    heavy = rng.random() < hw.heavy_day_prob
    return base * (f if weekend else 1.0) * var * (hw.heavy_day_factor if heavy else 1.0)


# Showers and baths are people's habits, not independent events: each habit (a person's
# shower) has its own time of day and happens on most days. Counting them as Poisson events
# made one tank serve 21 L on one day and 668 L two days before (a day-to-day spread near
# 90 %), where single-family measurements show about 20-35 %.
HABITUAL = ("shower", "bath")
HABIT_P = 0.9  # a habit happens on this share of ordinary days (more on heavy days, fewer on light)
HABIT_JITTER_MIN = 25.0  # sd of a habit's start around its usual time (min)
WEEKEND_LATER_MIN = 90  # morning habits start later at weekends


def _habit_times(hw: SimHotWater, share: float, seed: int, tank_index: int) -> dict[str, list[int]]:
    """Usual start minute of each habit of this tank, fixed for the household (one stream
    per tank, independent of the run's dates)."""
    rng = np.random.default_rng([seed, tank_index, 4243])
    mean_vol = hw.litres_per_day * share
    out = {}
    for name, cat_share, flow, dur_mean, _ in CATEGORIES:
        if name in HABITUAL:
            n = max(1, round(mean_vol * cat_share / (flow * dur_mean) / HABIT_P))
            out[name] = [int(rng.choice(1440, p=MINUTE_P[False])) for _ in range(n)]
    return out


def draws(hw: SimHotWater, share: float, grid: DayGrid, seed: int, tank_index: int) -> np.ndarray:
    """Litres per minute at 40 C for the whole run, for one tank. Each date has its own
    random stream (seed, tank, date): a day's draws do not depend on where the run starts."""
    out = np.zeros(grid.n)
    habits = _habit_times(hw, share, seed, tank_index)
    for d, day in enumerate(grid.days):
        rng = np.random.default_rng([seed, tank_index, 4242, day.toordinal()])
        we = bool(grid.weekend[d])
        vol = day_volume(hw, share, we, rng)
        p = MINUTE_P[we]
        for name, cat_share, flow, dur_mean, dur_sd in CATEGORIES:
            expected = vol * cat_share / (flow * dur_mean)  # events today, on average
            starts = []
            if name in habits:
                usual = habits[name]
                # each habit happens with the day's share of its usual count; beyond every
                # habit (a heavy day: guests), extra ones at the day's usual hours
                prob = min(0.97, expected / len(usual))
                for t in usual:
                    if rng.random() < prob:
                        t2 = t + (WEEKEND_LATER_MIN if we and t < 720 else 0) + rng.normal(0, HABIT_JITTER_MIN)
                        starts.append(int(t2) % 1440)
                extra = expected - 0.97 * len(usual)
                if extra > 0:
                    starts += [int(rng.choice(1440, p=p)) for _ in range(rng.poisson(extra))]
            else:  # many small draws a day: Poisson counts at the day's usual hours
                starts = [int(rng.choice(1440, p=p)) for _ in range(rng.poisson(expected))]
            for start in starts:
                dur = max(1, int(round(rng.normal(dur_mean, dur_sd)))) if dur_sd else 1
                grid.add(out, d, start, np.full(dur, flow * rng.uniform(0.8, 1.2)))
    return out
