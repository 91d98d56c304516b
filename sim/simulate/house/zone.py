"""A heat-pump zone: 1R1C rooms and a single-stage heat pump under its thermostat.

    C dT/dt = UA (T_out - T) + internal + solar_m2 x GHI + Q_hp      (W; C in J/K)

Q_hp = +COP_heat x electric_w heating, -COP_cool x electric_w cooling, 0 off. The thermostat
is dual-setpoint ("auto"): it starts heating below heat_c - deadband/2 and stops at
heat_c + deadband/2, starts cooling above cool_c + deadband/2 and stops at cool_c - deadband/2,
and keeps the compressor's minimum on and off times. While `held` (a circuitq shed through
the thermostat's hold) it does not start, and a running compressor stops once its minimum
on time is served. Explicit Euler at 60 s: the zone's time constant is hours.
"""
from __future__ import annotations

from ..spec import ZoneSpec


class Zone:
    def __init__(self, spec: ZoneSpec, start_c: float | None = None):
        self.spec = spec
        self.T = spec.initial_c if start_c is None else start_c
        self.mode = 0  # +1 heating, -1 cooling, 0 off
        self.since_min = -10**6  # minute index the compressor last changed
        self.k_dt_c = 60.0 / spec.capacity_j_k  # K per W for one minute
        half = spec.deadband_c / 2
        self.heat_on, self.heat_off = spec.heat_c - half, spec.heat_c + half
        self.cool_on, self.cool_off = spec.cool_c + half, spec.cool_c - half
        self.min_on = spec.min_on_s / 60.0
        self.min_off = spec.min_off_s / 60.0
        self.run_min = 0

    def step(self, k: int, t_out: float, ghi: float, cop_heat: float, cop_cool: float,
             held: bool = False) -> float:
        """Minute k; returns electric watts. cop_* at this minute's outdoor temperature."""
        T, s = self.T, self.spec
        age = k - self.since_min
        mode = self.mode
        if mode == 0:
            if not held and age >= self.min_off:
                if T < self.heat_on:
                    mode = 1
                elif T > self.cool_on:
                    mode = -1
        elif age >= self.min_on and (held or (mode == 1 and T >= self.heat_off)
                                     or (mode == -1 and T <= self.cool_off)):
            mode = 0
        if mode != self.mode:
            self.mode, self.since_min = mode, k
        q = s.ua_w_k * (t_out - T) + s.internal_w + s.solar_m2 * ghi
        if mode == 1:
            q += cop_heat * s.electric_w
        elif mode == -1:
            q -= cop_cool * s.electric_w
        self.T = T + q * self.k_dt_c
        if mode:
            self.run_min += 1
            return s.electric_w
        return 0.0
