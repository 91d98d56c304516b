"""The optimum's time grid: slots that never straddle a local midnight, and the minute
series of the simulator averaged onto them.

The committed day is cut into 15-min slots: the tariff's periods change on the quarter hour
at the finest, and a tank's permit is placed to the minute inside its slot anyway
(permits.py). 5-min slots would triple the binaries for no change in price resolution: the
15-min grid already solves in seconds a day, and the solve time grows faster than the
number of slots.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from sim.simulate.spec import Exogenous, HouseSpec

SLOT_MIN = 15
# The day after the committed one only tells today's plan what tomorrow will need: hour
# slots there (move blocking) make a 48 h horizon 120 slots instead of 192.
LATER_SLOT_MIN = 60


@dataclass
class Grid:
    """Slots k = 0..n-1 covering minutes [start[k], start[k] + length[k]) of the run."""
    start: np.ndarray  # int: first minute of each slot (run minute index)
    length: np.ndarray  # int: minutes in each slot (SLOT_MIN, shorter at a day's edge)
    day: np.ndarray  # int: local day index of each slot (Exogenous.local_day)

    @property
    def n(self) -> int:
        return len(self.start)

    @property
    def hours(self) -> np.ndarray:
        return self.length / 60.0

    @property
    def end(self) -> np.ndarray:
        return self.start + self.length

    def mean(self, minute_series: np.ndarray) -> np.ndarray:
        """Per-slot mean of a per-minute series."""
        sums = np.add.reduceat(minute_series[self.start[0]:self.end[-1]].astype(float),
                               self.start - self.start[0])
        return sums / self.length

    def max(self, minute_series: np.ndarray) -> np.ndarray:
        """Per-slot maximum of a per-minute series."""
        return np.maximum.reduceat(minute_series[self.start[0]:self.end[-1]], self.start - self.start[0])

    def spread(self, per_slot: np.ndarray) -> np.ndarray:
        """Per-minute values from per-slot values (minutes start[0] .. end[-1])."""
        return np.repeat(per_slot, self.length)


def day_bounds(exo: Exogenous) -> list[tuple[int, int]]:
    """[first, end) minute of each local day of the run."""
    change = np.flatnonzero(np.diff(exo.local_day)) + 1
    edges = np.concatenate([[0], change, [exo.n]])
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def grid(exo: Exogenous, days: list[tuple[int, int]]) -> Grid:
    """Slots over consecutive local days: the first in SLOT_MIN slots from its start, the
    others in LATER_SLOT_MIN slots."""
    starts, lengths, day = [], [], []
    for i, (a, b) in enumerate(days):
        step = SLOT_MIN if i == 0 else LATER_SLOT_MIN
        s = np.arange(a, b, step)
        starts.append(s)
        lengths.append(np.minimum(s + step, b) - s)
        day.append(np.full(len(s), exo.local_day[a]))
    return Grid(np.concatenate(starts), np.concatenate(lengths), np.concatenate(day))


@dataclass
class SlotSeries:
    """What the horizon's MILP needs from the world, per slot."""
    import_price: np.ndarray  # currency per kWh
    export_price: np.ndarray
    fixed_kwh: np.ndarray  # net energy of everything not decided (base + observed - PV), kWh
    observed_running: np.ndarray  # big observed loads running, mean over the slot (load-minutes/min)
    t_out_c: np.ndarray
    gains_w: np.ndarray  # solar + internal gains of the sheddable zone (W)
    draw_kwh: dict[str, np.ndarray]  # tank -> heat asked in the slot (kWh from the inlet)
    window: np.ndarray | None  # the pool may run in the whole slot


def observed_running(spec: HouseSpec, exo: Exogenous) -> np.ndarray:
    """Big observed loads running in each minute (each takes a place under max_running)."""
    running = np.zeros(exo.n)
    for name, watts in exo.observed_w.items():
        if name in spec.running_w:
            running = running + (watts >= spec.running_w[name])
    return running


def series(spec: HouseSpec, exo: Exogenous, tariff, g: Grid) -> SlotSeries:
    prices = [tariff.price(exo.t0 + timedelta(minutes=int(m))) for m in g.start]
    fixed_w = exo.base_w - exo.pv_w + sum(exo.observed_w.values())
    running = observed_running(spec, exo)
    for z in spec.zones.values():  # an unshed-able zone simulated by the runner, not observed
        if not z.sheddable and z.load not in exo.observed_w:
            raise ValueError(f"zone {z.load}: not sheddable and not in Exogenous.observed_w")
    zone = spec.sheddable
    gains = (zone.solar_m2 * exo.ghi_w_m2 + zone.internal_w) if zone else np.zeros(exo.n)
    window = None
    if spec.pool is not None:
        w = exo.windows[spec.pool.window].astype(float)
        window = g.mean(w) >= 1.0 - 1e-9
    return SlotSeries(
        import_price=np.array([p.import_per_kwh for p in prices]),
        export_price=np.array([p.export_per_kwh for p in prices]),
        fixed_kwh=g.mean(fixed_w) * g.hours / 1000.0,
        observed_running=g.mean(running),
        t_out_c=g.mean(exo.t_out_c),
        gains_w=g.mean(gains),
        draw_kwh={t.load: g.mean(exo.draw_kwh(t)) * g.length for t in spec.tanks.values()},
        window=window)
