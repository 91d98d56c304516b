"""The tariff per minute of the run: import and export prices and the period's name.

Cost of a minute = import kWh x import price - export kWh x export credit, net of the whole
house (PV included). Shared by the KPIs and the optimum (same numbers, same minutes).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from circuitq.tariff import Tariff

from .spec import Exogenous


@dataclass
class Prices:
    import_per_kwh: np.ndarray  # currency per kWh bought, per minute
    export_per_kwh: np.ndarray  # currency per kWh sold, per minute
    period: np.ndarray  # period name per minute (object array)
    peak_period: str  # the period with the highest import price in the run (on-peak)
    currency: str


def prices(tariff: Tariff, exo: Exogenous) -> Prices:
    imp = np.empty(exo.n)
    exp = np.empty(exo.n)
    per = np.empty(exo.n, dtype=object)
    k = 0
    while k < exo.n:  # one lookup per price change, not per minute
        t = exo.t0 + timedelta(minutes=k)
        p = tariff.price(t)
        nxt = tariff.next_change(t)
        end = min(exo.n, max(k + 1, -(-int((nxt - exo.t0).total_seconds()) // 60)))
        imp[k:end], exp[k:end], per[k:end] = p.import_per_kwh, p.export_per_kwh, p.period
        k = end
    by_price = {}
    for name in set(per.tolist()):
        by_price[name] = float(imp[per == name].max())
    peak = max(by_price, key=by_price.get)
    return Prices(imp, exp, per, peak, tariff.currency)
