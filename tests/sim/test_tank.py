"""The stratified tank: energy balance, cold draws when starved, none when heated."""
from __future__ import annotations

import numpy as np

from sim.simulate.house.tank import Tank
from sim.simulate.spec import RelaySpec, TankSpec


def tank_spec(**kw) -> TankSpec:
    base = dict(load="wh", circuit="wh", relay=RelaySpec("wh", 300, 300, 4, True), tank_l=190.0,
                element_w=4500.0, setpoint_c=60.0, deadband_c=4.0, inlet_c=15.0, ambient_c=20.0,
                ua_w_k=1.6, layers=12, upper_layer=8, lower_layer=1, max_off_h=20.0)
    base.update(kw)
    return TankSpec(**base)


def day_of_showers(days: int, litres_per_day: float = 180.0) -> np.ndarray:
    """Draws at 40 C: showers at 07:00 and 19:30, sink draws through the day (L/min)."""
    d = np.zeros(days * 1440)
    for day in range(days):
        o = day * 1440
        d[o + 420:o + 428] += litres_per_day * 0.35 / 8
        d[o + 1170:o + 1178] += litres_per_day * 0.35 / 8
        for h in (8, 12, 13, 18, 20, 21):
            d[o + h * 60 + 5:o + h * 60 + 7] += litres_per_day * 0.3 / 12
    return d


def run(tank: Tank, draws: np.ndarray, relay) -> np.ndarray:
    w = np.zeros(len(draws))
    for k, dl in enumerate(draws):
        w[k] = tank.step(k, relay(k), dl)
    tank.settle(len(draws))
    return w


def test_energy_balance_closes():
    tank = Tank(tank_spec())
    stored0 = tank.stored_j()
    draws = day_of_showers(5)
    # off half of each day, so the tank cools, stratifies and reheats with both elements
    w = run(tank, draws, lambda k: (k // 720) % 2 == 0)
    stored1 = tank.stored_j()
    energy_in = tank.element_j + tank.inlet_j
    energy_out = tank.outlet_j + tank.loss_j
    assert abs(w.sum() * 60 - tank.element_j) < 1e-6 * tank.element_j  # watts reported = heat put in
    assert abs(energy_in - (energy_out + stored1 - stored0)) <= 0.01 * energy_in
    assert tank.element_j > 0 and tank.outlet_j > 0 and tank.loss_j > 0


def test_starved_tank_gives_cold_draws_and_a_heated_one_none():
    draws = day_of_showers(3)
    heated = Tank(tank_spec())
    run(heated, draws, lambda k: True)
    assert heated.cold_l == 0 and heated.cold_min == 0
    assert min(heated.T) > 15 and heated.T[-1] > 50  # the top stayed hot
    starved = Tank(tank_spec())
    run(starved, draws, lambda k: False)  # relay open for three days
    assert starved.cold_l > 50 and starved.cold_min > 10
    assert starved.element_j == 0


def test_upper_element_first_and_never_both():
    tank = Tank(tank_spec(), start_c=15.0)  # a cold tank: both thermostats call
    w = run(tank, np.zeros(50), lambda k: True)
    # the upper element heats the top third first: hot water at the tap within the hour
    assert tank.T[-1] >= 55.0 and tank.T[0] < 16.0
    w2 = run(tank, np.zeros(200), lambda k: True)
    assert max(w.max(), w2.max()) <= 4500.0 + 1e-9  # one element at a time, never both
    assert min(tank.T[1:]) >= 55.0  # then the lower one heats the rest


def test_stratified_tank_delivers_hot_water_before_the_mean_says_so():
    """Plug flow: with half the tank drawn, the top is still near the setpoint."""
    tank = Tank(tank_spec())
    draws = np.zeros(60)
    draws[:10] = 9.5 * (60 - 15) / (40 - 15)  # at 40 C taps: 9.5 L/min of 60 C water, 95 L
    run(tank, draws, lambda k: False)
    assert tank.T[-1] > 55 and tank.T[0] < 25
    assert tank.cold_l == 0
