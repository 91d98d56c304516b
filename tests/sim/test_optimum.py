"""The perfect-foresight optimum: hand-checkable plans on small synthetic houses, then its
permits played through the simulator's own physics (tank, zone, the whole house)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from circuitq.config.tariff import TariffConfig
from circuitq.tariff import Tariff, from_config
from sim.simulate import optimum
from sim.simulate.house.tank import Tank
from sim.simulate.house.zone import Zone
from sim.simulate.spec import (COLD_DRAW_C, Exogenous, HouseSpec, PoolSpec, PVSpec, RelaySpec,
                               SiteSpec, TankSpec, ZoneSpec)

TZ = "America/New_York"
T0 = datetime(2025, 1, 6, 5, 0, tzinfo=timezone.utc)  # Monday 00:00 local (EST)
DAYS = 2
N = DAYS * 1440


def hhmm(h: float) -> int:
    return int(round(h * 60))


# ------------------------------------------------------------------ a small synthetic house
def tariff(cheap=((1, 6),), peak=((6, 9),), default=0.13, cheap_price=0.09, peak_price=0.27,
           export=0.04) -> Tariff:
    def windows(spans):
        return [{"start": f"{a:02d}:00", "end": f"{b:02d}:00"} for a, b in spans]
    periods = {}
    if peak:
        periods["on_peak"] = {"per_kwh": peak_price, "windows": windows(peak)}
    if cheap:
        periods["cheap"] = {"per_kwh": cheap_price, "windows": windows(cheap)}
    cfg = TariffConfig(default_per_kwh=default, export_per_kwh=export, holidays=False, periods=periods)
    return Tariff(cfg, ZoneInfo(TZ), None)


def tank_spec(name="wh", max_off_h=20.0) -> TankSpec:
    return TankSpec(load=name, circuit=name, relay=RelaySpec(name, 300, 300, 4, True), tank_l=190,
                    element_w=4500, setpoint_c=60, deadband_c=4, inlet_c=15, ambient_c=20,
                    ua_w_k=1.6, layers=12, upper_layer=8, lower_layer=1, max_off_h=max_off_h)


def zone_spec() -> ZoneSpec:
    return ZoneSpec(load="hp", circuit="hp", thermostat="hp", sheddable=True, electric_w=2800,
                    ua_w_k=180, capacity_j_k=14e6, solar_m2=2.0, internal_w=300, heat_c=20.5,
                    cool_c=24.5, deadband_c=1.0, min_on_s=300, min_off_s=300, cop_heat_eta=0.4,
                    cop_cool_eta=0.3, comfort_min_c=18.9, comfort_max_c=26.1, initial_c=20.5)


def house(tanks=(), pool=None, zone=None, max_running=1, observed_running_w=None):
    """A house with only the given loads, 2 local days from a Monday midnight, no PV."""
    tz = ZoneInfo(TZ)
    ts = int(T0.timestamp()) + 60 * np.arange(N, dtype=np.int64)
    local = [datetime.fromtimestamp(int(t), tz) for t in ts]
    days = sorted({t.date() for t in local})
    exo = Exogenous(
        t0=T0, n=N, timezone=TZ, ts=ts,
        local_day=np.array([days.index(t.date()) for t in local], dtype=np.int32),
        local_min=np.array([t.hour * 60 + t.minute for t in local], dtype=np.int16),
        days=days, pv_w=np.zeros(N), t_out_c=np.full(N, 2.0), ghi_w_m2=np.zeros(N),
        draw_l40={t.load: np.zeros(N) for t in tanks},
        observed_w={} if observed_running_w is None else {"dryer": observed_running_w},
        base_w=np.full(N, 300.0), windows={})
    running_w = {t.load: 500.0 for t in tanks}
    if observed_running_w is not None:
        running_w["dryer"] = 350.0
    spec = HouseSpec(
        site=SiteSpec("test", 36.1, -79.9, 270, TZ, None, None),
        pv=PVSpec(5000, 25, 180, None, 14), tanks={t.load: t for t in tanks}, pool=pool,
        zones={zone.load: zone} if zone else {}, observed={}, circuits={}, running_w=running_w,
        max_running=max_running, base_w_mean=300)
    return spec, exo


def draw(exo, tank, at_h, litres, minutes=10, day=0):
    k = day * 1440 + hhmm(at_h)
    exo.draw_l40[tank][k:k + minutes] += litres / minutes


def play_tank(t: TankSpec, permit: np.ndarray, draws: np.ndarray) -> tuple[Tank, np.ndarray]:
    tank = Tank(t)
    watts = np.array([tank.step(k, bool(permit[k]), draws[k]) for k in range(len(permit))])
    return tank, watts


# ------------------------------------------------------------------ hand-checkable plans
def test_a_draw_before_the_peak_is_heated_in_the_cheap_hours_before_it():
    t = tank_spec()
    spec, exo = house(tanks=[t])
    draw(exo, "wh", 0.5, 150)  # 00:30: the full tank falls near its reserve
    draw(exo, "wh", 8.0, 100)  # 08:00, inside the 06-09 peak: needs heat before it
    permits = optimum.solve(spec, exo, tariff())
    tank, watts = play_tank(t, permits["wh"], exo.draw_l40["wh"])
    before = watts[:hhmm(8)]
    heated = np.flatnonzero(before > 0)
    assert len(heated) >= 30  # about 1.5 kWh had to go in before the 08:00 draw
    assert hhmm(1) <= heated.min() and heated.max() < hhmm(6)  # all of it in the 0.09 hours
    assert tank.cold_l == 0


def test_the_pool_runs_exactly_its_hours_in_the_cheapest_slots_of_its_window():
    relay = RelaySpec("pool", 600, 600, 2, True)
    pool = PoolSpec("pool", "pool", relay, watts=1500, hours=2.0, max_hours=2.25,
                    window="pool_day", timer_start_min=660)
    spec, exo = house(pool=pool)
    exo.windows["pool_day"] = (exo.local_min >= hhmm(11)) & (exo.local_min < hhmm(23))
    # cheapest inside the window: 13:00-15:00 (0.09); 01:00-06:00 is cheaper but outside it
    permits = optimum.solve(spec, exo, tariff(cheap=((13, 15), (1, 6))))["pool"]
    for d in range(DAYS):
        day = permits[d * 1440:(d + 1) * 1440]
        assert day.sum() == 120
        assert np.array_equal(np.flatnonzero(day), np.arange(hhmm(13), hhmm(15)))


def test_two_tanks_and_a_running_dryer_never_exceed_the_big_load_cap():
    a, b = tank_spec("wh_a"), tank_spec("wh_b")
    dryer = np.zeros(N)
    dryer[hhmm(2):hhmm(3)] = 2500.0  # a big observed load inside the cheap hours
    spec, exo = house(tanks=[a, b], max_running=1, observed_running_w=dryer)
    for name in ("wh_a", "wh_b"):
        draw(exo, name, 0.5, 150)  # both tanks want the same cheap hours
    permits = optimum.solve(spec, exo, tariff())
    heat = {t.load: play_tank(t, permits[t.load], exo.draw_l40[t.load])[1] > 0 for t in (a, b)}
    running = heat["wh_a"].astype(int) + heat["wh_b"] + (dryer >= 350)
    assert running.max() <= 1
    assert heat["wh_a"].sum() > 0 and heat["wh_b"].sum() > 0


def play_zone(z: ZoneSpec, exo, permit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    zone = Zone(z)
    temps, watts = np.empty(exo.n), np.empty(exo.n)
    for k in range(exo.n):
        t_out = exo.t_out_c[k]
        watts[k] = zone.step(k, t_out, exo.ghi_w_m2[k], float(z.cop_heat(t_out)),
                             float(z.cop_cool(t_out)), held=not permit[k])
        temps[k] = zone.T
    return temps, watts


def test_the_zone_is_shed_through_the_peak_and_the_room_stays_in_its_band():
    z = zone_spec()
    spec, exo = house(zone=z)
    permit = optimum.solve(spec, exo, tariff())["hp"]
    temps, watts = play_zone(z, exo, permit)
    _, always = play_zone(z, exo, np.ones(exo.n, bool))
    peak = (exo.local_min >= hhmm(6)) & (exo.local_min < hhmm(9))
    assert (~permit[peak]).sum() >= 60  # it sheds in the peak ...
    assert watts[peak].sum() < 0.7 * always[peak].sum()  # ... where it draws less
    assert z.comfort_min_c <= temps.min() and temps.max() <= z.comfort_max_c  # in its band


def test_the_solve_is_deterministic():
    t = tank_spec()
    spec, exo = house(tanks=[t], zone=zone_spec())
    draw(exo, "wh", 7.0, 120)
    draw(exo, "wh", 19.0, 150, day=1)
    a = optimum.solve(spec, exo, tariff())
    b = optimum.solve(spec, exo, tariff())
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_a_tank_is_never_left_off_longer_than_max_off_h():
    t = tank_spec(max_off_h=6.0)  # no draws: nothing else would ever permit it
    spec, exo = house(tanks=[t])
    permit = optimum.solve(spec, exo, tariff())["wh"]
    longest = 0
    run = 0
    for p in permit:
        run = 0 if p else run + 1
        longest = max(longest, run)
    assert longest <= 6 * 60


# ------------------------------------------------------------------ in the simulator's physics
@pytest.fixture(scope="module")
def world(house_cfg):
    from sim.simulate.build import build
    return build(house_cfg, "greensboro", 2025, 1, 3, seed=2)


def test_the_reserve_keeps_every_draw_hot_in_the_stratified_tank(world):
    """The simulator's draws, the optimum's permits (tanks only, so heating goes where it is
    cheapest and tanks run low), the simulator's tank: never a cold draw."""
    cfg, spec, exo = world
    tanks_only = HouseSpec(spec.site, spec.pv, spec.tanks, None, {}, spec.observed, spec.circuits,
                           spec.running_w, spec.max_running, spec.base_w_mean)
    permits = optimum.solve(tanks_only, exo, from_config(cfg))
    for t in spec.tanks.values():
        tank = Tank(t)
        lowest = 99.0
        for k in range(exo.n):
            if exo.draw_l40[t.load][k] > 0:
                lowest = min(lowest, tank.top_at(k))
            tank.step(k, bool(permits[t.load][k]), exo.draw_l40[t.load][k])
        assert tank.cold_l == 0, t.load
        assert lowest >= COLD_DRAW_C
        assert lowest < COLD_DRAW_C + 10  # the plan does use the tank: the test can fail


def test_in_the_physics_the_optimum_costs_less_than_no_control_and_the_cron_rules(house_cfg):
    from sim.simulate.cli import simulate
    *_, results = simulate(house_cfg, "greensboro", 2025, 1, 2, 1,
                           ["no_control", "circuitqueueing", "optimum"], progress=False)
    opt = results["optimum"]
    assert opt["service_ok"], opt
    assert opt["cost"] <= results["no_control"]["cost"]
    assert opt["cost"] <= results["circuitqueueing"]["cost"]
    ops = opt["relay_ops_per_day"]
    assert all(v["max"] <= 24 for v in ops.values()), ops
