"""Loads nobody controls: the dryer, the kitchen and the rest of the house (stochastic, seeded),
and the pool pump's own timer (the no-control baseline). Watts per minute over the run.

- dryer: `loads_per_week` cycles (more at weekends), weekday evenings or weekend days,
  back to back on laundry days; the element heats steadily, then cycles in the last third,
  and the drum tumbles cool for 5 min at the end (motor only).
- kitchen: idle fridge and small appliances; breakfast (kettle, toaster: 1.5 kW for a few
  min); dinner most days: the oven (preheat, then its thermostat cycles) and the cooktop
  together for part of it, which is when the kitchen circuit exceeds 4 kW; the dishwasher
  after dinner on some days (two heating phases of 1.2 kW).
- base: everything else, a daily shape (low at night, up in the morning and the evening)
  around `base_w` with the fridge-like cycling and noise of a real house.
"""
from __future__ import annotations

import numpy as np

from circuitq.config.simulation import SimDryer, SimKitchen

from .days import DayGrid

# base load: relative level per local hour (mean 1)
BASE_SHAPE = np.array([0.7, 0.65, 0.62, 0.6, 0.6, 0.7, 0.95, 1.15, 1.1, 0.95, 0.9, 0.9,
                       0.95, 0.9, 0.9, 0.95, 1.05, 1.25, 1.45, 1.5, 1.45, 1.3, 1.05, 0.85])
BASE_SHAPE = BASE_SHAPE / BASE_SHAPE.mean()


def dryer(cfg: SimDryer, grid: DayGrid, seed: int) -> np.ndarray:
    out = np.zeros(grid.n)
    per_day = cfg.loads_per_week / 7
    for d, day in enumerate(grid.days):
        rng = np.random.default_rng([seed, 1, 777, day.toordinal()])  # a date's own stream
        we = bool(grid.weekend[d])
        n = rng.poisson(per_day * (1.5 if we else 0.8))  # 5 weekdays x 0.8 + 2 x 1.5 = 7
        if n == 0:
            continue
        t = int(rng.uniform(9 * 60, 16 * 60) if we else rng.uniform(17 * 60, 20.5 * 60))
        for _ in range(n):
            dur = max(20, int(rng.normal(cfg.minutes, 10)))
            grid.add(out, d, t, _dryer_cycle(cfg, dur, rng))
            t += dur + int(rng.uniform(5, 40))  # the next load goes in when someone notices
    return out


def _dryer_cycle(cfg: SimDryer, dur: int, rng) -> np.ndarray:
    cool = 5
    heat = dur - cool
    w = np.full(dur, cfg.watts)
    steady = int(heat * 0.65)
    period = int(rng.integers(3, 6))
    for i in range(steady, heat):  # the element's thermostat cycles as the load dries
        if (i - steady) % period >= period // 2 + 1:
            w[i] = cfg.motor_w
    w[heat:] = cfg.motor_w
    return w


def kitchen(cfg: SimKitchen, grid: DayGrid, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 2, 777])
    out = np.full(grid.n, cfg.idle_w) + rng.normal(0, 15, grid.n).clip(-cfg.idle_w, None)
    for d, day in enumerate(grid.days):
        rng = np.random.default_rng([seed, 2, 777, day.toordinal()])  # a date's own stream
        we = bool(grid.weekend[d])
        if rng.random() < 0.75:  # breakfast
            t = int(rng.normal(8.5 * 60 if we else 6.75 * 60, 25))
            grid.add(out, d, t, np.full(int(rng.integers(2, 6)), 1500.0))
        if we and rng.random() < 0.5:  # weekend lunch on the cooktop
            t = int(rng.normal(12.5 * 60, 30))
            grid.add(out, d, t, _cycling(cfg.range_w, int(rng.integers(10, 25)), 0.6, rng))
        if rng.random() < 0.85:  # dinner
            t = int(rng.normal(17.75 * 60, 35))
            oven_min = int(rng.integers(30, 75)) if rng.random() < 0.6 else 0
            if oven_min:
                preheat = 12
                oven = np.concatenate([np.full(preheat, cfg.oven_w),
                                       _cycling(cfg.oven_w, oven_min - preheat, 0.45, rng)])
                grid.add(out, d, t, oven)
            top_min = int(rng.integers(12, 35))
            top_at = t + max(0, oven_min - top_min - int(rng.integers(0, 15)))
            grid.add(out, d, top_at, _cycling(cfg.range_w, top_min, 0.7, rng))
            if rng.random() < 0.6:  # dishwasher after dinner: wash and rinse heating phases
                t_dw = t + max(oven_min, top_min) + int(rng.integers(30, 120))
                dw = np.full(100, 80.0)
                dw[10:25] = cfg.dishwasher_w
                dw[60:75] = cfg.dishwasher_w
                grid.add(out, d, t_dw, dw)
    return out


def _cycling(watts: float, minutes: int, duty: float, rng) -> np.ndarray:
    """An element under its own thermostat: full power `duty` of the time, in 2-4 min bursts."""
    w = np.zeros(max(minutes, 0))
    i = 0
    while i < len(w):
        on = int(rng.integers(2, 5))
        w[i:i + on] = watts
        i += on + max(1, int(round(on * (1 - duty) / duty)))
    return w


def base(mean_w: float, grid: DayGrid, local_min: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 3, 777])
    shape = BASE_SHAPE[local_min // 60]
    fridge = np.where((np.arange(grid.n) // 20) % 3 == 0, 120.0, 0.0)  # 20 min on in each hour
    noise = 1.0 + 0.1 * rng.standard_normal(grid.n)
    w = mean_w * shape * noise + fridge - fridge.mean()
    return np.clip(w, 0.3 * mean_w, None)


def pool_timer(grid: DayGrid, start_min: int, hours: float) -> np.ndarray:
    """The pump's own clock: on from start_min for `hours` every local day (bool per minute)."""
    on = np.zeros(grid.n)
    block = np.ones(int(round(hours * 60)))
    for d in range(len(grid.days)):
        grid.add(on, d, start_min, block)
    return on > 0
