"""The KPIs of one policy's run: the bill, and every promise to the household, kept or broken.

Definitions (minute k: its average watts; a "day" is a local day of the site):
- cost: sum over minutes of import kWh x import price - export kWh x export credit, where
  import/export is the whole house's consumption minus PV, positive/negative (net metering
  per minute, no battery).
- on_peak_import_kwh: import in minutes of the run's most expensive tariff period.
- self_consumption: share of the PV energy used in the house (1 - export / PV).
- peak_15min_kw: the highest import averaged over a clock-aligned 15 minutes.
- cold_l / cold_min per tank: tank water that left below 45 C (litres, minutes with any).
- longest_off_h per heater: the longest stretch its relay was open (h); promise: <= max_off_h.
- pool: hours run per day (any minute its pump drew power); days meeting the runtime target
  (>= hours - 1 min), days over the ceiling (> max_hours + 1 min).
- comfort_out_min: minutes the sheddable zone was outside its comfort band.
- over_max_running_min: minutes with more big loads running than scheduler.max_running. A big
  load (counts: true) is running when its circuit's minute average is >= its running_w.
  Split: `observed` = the observed loads alone were more than max_running (no control could
  help); `forced` = not that, and a controllable load running then was on a forced:* or
  override:* reason (a guarantee, a forced window, a runtime deadline, a user); `other` =
  the rest (the policy's own, including its reaction time to an observed load starting).
- relay_ops_per_day per relay (mean, max): switch operations counted by the relay agent core.
- shed_changes_per_day (mean, max): the hold on the sheddable thermostat set or ended.
- service_ok: zero cold-draw litres, no heater off longer than its max_off_h, the pool target
  met every day and its ceiling never exceeded, the comfort band held every minute.
"""
from __future__ import annotations

import numpy as np

from .prices import Prices
from .runner import Trace
from .spec import Exogenous, HouseSpec

TOL_H = 1 / 60  # one minute of slack on the pool's hours


def longest_run(mask: np.ndarray) -> int:
    """Longest stretch of consecutive True minutes."""
    if not mask.any():
        return 0
    x = np.concatenate([[0], mask.astype(np.int8), [0]])
    d = np.diff(x)
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return int((ends - starts).max())


def per_day(values: np.ndarray, exo: Exogenous) -> np.ndarray:
    return np.bincount(exo.local_day, weights=values, minlength=len(exo.days))


def kpis(tr: Trace, spec: HouseSpec, exo: Exogenous, pr: Prices) -> dict:
    net = tr.total_w - exo.pv_w
    imp = np.clip(net, 0, None) / 60000.0  # kWh per minute
    exp = np.clip(-net, 0, None) / 60000.0
    cost_min = imp * pr.import_per_kwh - exp * pr.export_per_kwh
    pv_kwh = exo.pv_w.sum() / 60000.0
    q = exo.n // 15 * 15
    out: dict = {
        "cost": float(cost_min.sum()),
        "import_kwh": float(imp.sum()), "export_kwh": float(exp.sum()),
        "consumption_kwh": float(tr.total_w.sum() / 60000.0), "pv_kwh": float(pv_kwh),
        "on_peak_import_kwh": float(imp[pr.period == pr.peak_period].sum()),
        "self_consumption": float(1 - exp.sum() / pv_kwh) if pv_kwh > 0 else None,
        "peak_15min_kw": float(np.clip(net[:q], 0, None).reshape(-1, 15).mean(axis=1).max() / 1000),
    }
    promises = []
    daily = {"cost": per_day(cost_min, exo)}
    tanks = {}
    for name, ts in spec.tanks.items():
        off_h = longest_run(~tr.permit[name]) / 60
        cold = tr.cold_l[name].astype(float)
        tanks[name] = {"cold_l": float(cold.sum()), "cold_min": int((cold > 0).sum()),
                       "longest_off_h": round(off_h, 2), "max_off_h": ts.max_off_h,
                       "heating_kwh": float(tr.load_w[name].sum() / 60000.0)}
        daily[f"cold_l:{name}"] = per_day(cold, exo)
        promises.append(cold.sum() == 0)
        if ts.max_off_h is not None:
            promises.append(off_h <= ts.max_off_h + 1e-9)
    out["tanks"] = tanks
    if spec.pool:
        p = spec.pool
        hours = per_day((tr.load_w[p.load] > 0).astype(float), exo) / 60
        met, over = hours >= p.hours - TOL_H, hours > p.max_hours + TOL_H
        out["pool"] = {"target_h": p.hours, "max_h": p.max_hours, "days": len(hours),
                       "days_met": int(met.sum()), "days_over": int(over.sum()),
                       "mean_h": float(hours.mean()), "min_h": float(hours.min()), "max_h_run": float(hours.max())}
        daily["pool_h"] = hours
        promises += [bool(met.all()), not over.any()]
    z = spec.sheddable
    if z is not None and tr.zone_c is not None:
        lo = z.comfort_min_c if z.comfort_min_c is not None else -np.inf
        hi = z.comfort_max_c if z.comfort_max_c is not None else np.inf
        outside = (tr.zone_c < lo) | (tr.zone_c > hi)
        out["comfort"] = {"zone": z.load, "band_c": [z.comfort_min_c, z.comfort_max_c],
                          "out_min": int(outside.sum()), "min_c": float(tr.zone_c.min()),
                          "max_c": float(tr.zone_c.max())}
        daily["comfort_out_min"] = per_day(outside.astype(float), exo)
        promises.append(not outside.any())
    out["over_max_running_min"] = _over_max_running(tr, spec)
    days = len(exo.days)
    out["relay_ops_per_day"] = {r: {"mean": float(v.mean()), "max": int(v.max())}
                                for r, v in tr.relay_ops_day.items()}
    sd = tr.shed_changes_day if tr.shed_changes_day is not None else np.zeros(days)
    out["shed_changes_per_day"] = {"mean": float(sd.mean()), "max": int(sd.max())}
    out["service_ok"] = bool(all(promises))
    out["daily"] = {k: [round(float(x), 4) for x in v] for k, v in daily.items()}
    out["decisions"] = tr.decisions
    return out


def _over_max_running(tr: Trace, spec: HouseSpec) -> dict:
    n = len(tr.total_w)
    obs = np.zeros(n, dtype=np.int16)
    ctl = np.zeros(n, dtype=np.int16)
    forced = np.zeros(n, dtype=bool)
    for name, running_w in spec.running_w.items():
        w = tr.load_w.get(name)
        if w is None:
            continue
        on = w >= running_w
        if name in tr.permit:
            ctl += on
            forced |= on & tr.forced[name]
        else:
            obs += on
    over = (obs + ctl) > spec.max_running
    by_observed = over & (obs > spec.max_running)
    by_forced = over & ~by_observed & forced
    return {"total": int(over.sum()), "observed": int(by_observed.sum()),
            "forced": int(by_forced.sum()), "other": int((over & ~by_observed & ~forced).sum())}
