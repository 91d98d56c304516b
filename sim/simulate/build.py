"""The config (+ its simulation section) -> HouseSpec, and the run -> Exogenous.

Where each number comes from, in order of precedence:
- a tank: simulation.water_heaters.<load> (the physical truth, for what-ifs), else the load's
  hot_water contract, else 190 L / the load's nominal_w / 60 C / 15 C;
- the pool pump: its load's runtime contract (hours, max_hours, window) and simulation.pool_pump;
- a heat pump: simulation.heat_pumps.<load>; the sheddable one is the `kind: thermostat` load,
  its comfort band from its `comfort` contract, else its ecobee min/max_indoor_f;
- the array: solar.system_size_w and solar.array; the site: site.latitude/longitude, or the
  weather file's (always the weather file's when a site is chosen with --site).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from circuitq.calendars import Calendars
from circuitq.config import CircuitqConfig, ConfigError

from .house import draws as draws_mod
from .house import loads as loads_mod
from .house.days import day_grid
from .house.pv import pv_ac_w
from .house.weather import Weather, minute_weather, read_weather
from .house.zone import Zone
from .spec import (Exogenous, HouseSpec, ObservedSpec, PoolSpec, PVSpec, RelaySpec, SiteSpec,
                   TankSpec, ZoneSpec)

DEFAULT_TANK_L, DEFAULT_SETPOINT_C, DEFAULT_INLET_C = 190.0, 60.0, 15.0


def _need_sim(cfg: CircuitqConfig, path: str):
    if cfg.simulation is None:
        raise ConfigError(f"{path}: no `simulation:` section: describe the physical house there "
                          "(see config/example.yaml and docs/simulate.md)")
    if cfg.solar is None:
        raise ConfigError(f"{path}: no `solar:` section: the simulator needs solar.system_size_w")
    if cfg.tariff is None:
        raise ConfigError(f"{path}: no `tariff:` section: the simulator prices every kWh with it "
                          "(see circuitq/config/tariff.py)")
    return cfg.simulation


def site_spec(cfg: CircuitqConfig, w: Weather, from_weather: bool) -> SiteSpec:
    s = cfg.site
    if from_weather or s.latitude is None or s.longitude is None:
        lat, lon, elev = w.latitude, w.longitude, w.altitude_m
    else:
        lat, lon, elev = s.latitude, s.longitude, s.elevation_m
    tz, country, subdiv = s.timezone, s.country, s.subdivision
    if from_weather:
        if w.timezone:
            tz, country, subdiv = w.timezone, w.country or country, w.subdivision
        elif ZoneInfo(tz).utcoffset(datetime(2001, 1, 15)) != timedelta(hours=w.std_offset_h):
            tz = f"Etc/GMT{-int(w.std_offset_h):+d}" if w.std_offset_h == int(w.std_offset_h) else "UTC"
    return SiteSpec(w.name, lat, lon, elev, tz, country, subdiv)


def with_site(cfg: CircuitqConfig, site: SiteSpec) -> CircuitqConfig:
    """The config with the simulated site's time zone and holidays (calendars, tariff)."""
    new_site = cfg.site.model_copy(update={"timezone": site.timezone, "country": site.country,
                                           "subdivision": site.subdivision,
                                           "latitude": site.latitude, "longitude": site.longitude})
    return cfg.model_copy(update={"site": new_site})


def _relay(cfg: CircuitqConfig, load: str) -> RelaySpec:
    lc = cfg.loads[load]
    name = lc.relay or load
    rc = cfg.relays[name]
    return RelaySpec(name, rc.min_on_s, rc.min_off_s, rc.max_starts_per_hour, rc.boot_state == "on")


def house_spec(cfg: CircuitqConfig, site: SiteSpec, path: str = "config") -> HouseSpec:
    sim = _need_sim(cfg, path)
    arr = cfg.solar.array
    pv = PVSpec(cfg.solar.system_size_w, arr.tilt_deg if arr else 20.0, arr.azimuth_deg if arr else 180.0,
                arr.inverter_w if arr else None, arr.losses_pct if arr else 14.0)
    tanks = {}
    for name, st in sim.water_heaters.items():
        lc = cfg.loads[name]
        hw = lc.hot_water
        layers = st.layers
        tanks[name] = TankSpec(
            load=name, circuit=lc.circuit or name, relay=_relay(cfg, name),
            tank_l=st.tank_l or (hw.tank_l if hw else DEFAULT_TANK_L),
            element_w=st.element_w or (hw.element_w if hw else lc.nominal_w or 4500.0),
            setpoint_c=st.setpoint_c or (hw.setpoint_c if hw else DEFAULT_SETPOINT_C),
            deadband_c=st.deadband_c,
            inlet_c=st.inlet_c if st.inlet_c is not None else (hw.inlet_c if hw else DEFAULT_INLET_C),
            ambient_c=st.ambient_c, ua_w_k=st.ua_w_k, layers=layers,
            upper_layer=min(layers - 1, int(st.upper_element_at * layers)),
            lower_layer=int(st.lower_element_at * layers), max_off_h=lc.max_off_h)
    pool = None
    if sim.pool_pump is not None:
        p = sim.pool_pump
        lc = cfg.loads[p.load]
        rt = lc.runtime
        pool = PoolSpec(p.load, lc.circuit or p.load, _relay(cfg, p.load), p.watts, rt.hours,
                        rt.max_hours, rt.window, p.timer_start.hour * 60 + p.timer_start.minute)
    zones, observed = {}, {}
    for name, z in sim.heat_pumps.items():
        lc = cfg.loads[name]
        shed = lc.kind == "thermostat"
        band = (None, None)
        if shed and lc.comfort is not None:
            band = (lc.comfort.min_c, lc.comfort.max_c)
        elif shed and cfg.ecobee and (lc.thermostat or name) in cfg.ecobee.thermostats:
            t = cfg.ecobee.thermostats[lc.thermostat or name]
            band = ((t.min_indoor_f - 32) / 1.8, (t.max_indoor_f - 32) / 1.8)
        zones[name] = ZoneSpec(
            load=name, circuit=lc.circuit or name, thermostat=(lc.thermostat or name) if shed else None,
            sheddable=shed, electric_w=z.electric_w, ua_w_k=z.ua_w_k, capacity_j_k=z.capacity_kj_k * 1e3,
            solar_m2=z.solar_m2, internal_w=z.internal_w, heat_c=z.heat_c, cool_c=z.cool_c,
            deadband_c=z.deadband_c, min_on_s=z.min_on_s, min_off_s=z.min_off_s,
            cop_heat_eta=z.cop_heat_eta, cop_cool_eta=z.cop_cool_eta, comfort_min_c=band[0],
            comfort_max_c=band[1], initial_c=(z.heat_c + z.cool_c) / 2)
        if not shed:
            observed[name] = ObservedSpec(name, lc.circuit or name, "zone")
    for key in ("dryer", "kitchen"):
        part = getattr(sim, key)
        if part is not None:
            lc = cfg.loads[part.load]
            observed[part.load] = ObservedSpec(part.load, lc.circuit or part.load, key)
    return HouseSpec(
        site=site, pv=pv, tanks=tanks, pool=pool, zones=zones, observed=observed,
        circuits={n: lc.circuit or n for n, lc in cfg.loads.items()},
        running_w={n: lc.running_w for n, lc in cfg.loads.items() if lc.counts and lc.kind != "drm"},
        max_running=cfg.scheduler.max_running, base_w_mean=sim.base_w)


def run_window(site: SiteSpec, year: int, month: int, days: int) -> tuple[datetime, int]:
    """UTC start (local midnight on the 1st) and minutes of `days` local days."""
    tz = site.tz
    start = datetime.combine(date(year, month, 1), time(0), tzinfo=tz)
    end = datetime.combine(date(year, month, 1) + timedelta(days=days), time(0), tzinfo=tz)
    t0 = start.astimezone(timezone.utc)
    return t0, int((end - start).total_seconds() // 60)


def exogenous(cfg: CircuitqConfig, spec: HouseSpec, w: Weather, t0: datetime, n: int, seed: int) -> Exogenous:
    sim = cfg.simulation
    tz = spec.site.tz
    idx = pd.date_range(t0, periods=n, freq="1min", tz=timezone.utc).tz_convert(tz)
    first = idx[0].date()
    day_num = (idx.normalize().tz_localize(None) - pd.Timestamp(first)).days.to_numpy().astype(np.int32)
    days = [first + timedelta(days=i) for i in range(int(day_num[-1]) + 1)]
    local_min = (idx.hour * 60 + idx.minute).to_numpy().astype(np.int16)
    grid = day_grid(day_num, days, spec.site.country, spec.site.subdivision)
    mw = minute_weather(w, t0, n, seed)
    pv = pv_ac_w(spec.pv, mw)
    draws = {name: draws_mod.draws(sim.hot_water, sim.water_heaters[name].share, grid, seed, i)
             for i, name in enumerate(spec.tanks)}
    observed = {}
    for name, ob in spec.observed.items():
        if ob.model == "dryer":
            observed[name] = loads_mod.dryer(sim.dryer, grid, seed)
        elif ob.model == "kitchen":
            observed[name] = loads_mod.kitchen(sim.kitchen, grid, seed)
        else:
            observed[name] = _observed_zone(spec.zones[name], mw["temp_air"], mw["ghi"])
    base = loads_mod.base(spec.base_w_mean, grid, local_min, seed)
    exo = Exogenous(t0=t0, n=n, timezone=spec.site.timezone, ts=mw["ts"], local_day=day_num,
                    local_min=local_min, days=days, pv_w=pv, t_out_c=mw["temp_air"], ghi_w_m2=mw["ghi"],
                    draw_l40=draws, observed_w=observed, base_w=base, seed=seed, weather=w.source)
    exo.windows = calendar_masks(cfg, t0, n)
    if spec.pool is not None:
        exo.pool_timer = loads_mod.pool_timer(grid, spec.pool.timer_start_min, spec.pool.hours)
    return exo


def _observed_zone(z: ZoneSpec, t_out: np.ndarray, ghi: np.ndarray) -> np.ndarray:
    zone = Zone(z)
    ch, cc = z.cop_heat(t_out), z.cop_cool(t_out)
    out = np.empty(len(t_out))
    step = zone.step
    t_l, g_l, ch_l, cc_l = t_out.tolist(), ghi.tolist(), ch.tolist(), cc.tolist()
    for k in range(len(t_out)):
        out[k] = step(k, t_l[k], g_l[k], ch_l[k], cc_l[k])
    return out


def calendar_masks(cfg: CircuitqConfig, t0: datetime, n: int) -> dict[str, np.ndarray]:
    """Each scheduler calendar as a bool per minute (inside at the minute's start)."""
    cals = Calendars(cfg.scheduler.calendars, cfg.site.tz, cfg.site.country, cfg.site.subdivision)
    out = {}
    for name in cfg.scheduler.calendars:
        mask = np.zeros(n, dtype=bool)
        k = 0
        while k < n:
            t = t0 + timedelta(minutes=k)
            inside, nxt = cals.status(name, t)
            end = n if nxt is None else min(n, max(k + 1, -(-int((nxt - t0).total_seconds()) // 60)))
            mask[k:end] = inside
            k = end
        out[name] = mask
    return out


def build(cfg: CircuitqConfig, site: str | None, year: int | None, month: int, days: int,
          seed: int | None, path: str = "config"):
    """(cfg with the site applied, HouseSpec, Exogenous) for one run."""
    sim = _need_sim(cfg, path)
    w = read_weather(site or sim.weather)
    s = site_spec(cfg, w, from_weather=site is not None)
    cfg = with_site(cfg, s)
    spec = house_spec(cfg, s, path)
    t0, n = run_window(s, year or sim.year, month, days)
    exo = exogenous(cfg, spec, w, t0, n, sim.seed if seed is None else seed)
    return cfg, spec, exo
