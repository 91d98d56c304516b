"""A simulated house for `make demo`: appliances that draw power when their relay lets them.

It reads the relay levels the relay agent's sim backend writes (relay_agent.sim_state_file),
models each appliance's own thermostat or timer, and feeds the resulting circuit watts to
the fake Curb cloud and the sun to the fake solar sources. Nothing here decides anything:
the real scheduler does, through the real relay agent.
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class WaterHeater:
    """A tank: loses ~1.5 °F an hour idle, more when someone showers; heats ~20 °F an hour."""
    circuit_id: str
    temp_f: float = 128.0
    set_f: float = 140.0
    heating: bool = False
    power_w: float = 4500.0

    def step(self, powered: bool, dt_h: float, draw_f_per_h: float) -> float:
        self.temp_f -= (1.5 + draw_f_per_h) * dt_h
        if self.temp_f < self.set_f - 8:
            self.heating = True  # the tank's own thermostat, with its own deadband
        elif self.temp_f >= self.set_f:
            self.heating = False
        if powered and self.heating:
            self.temp_f += 20 * dt_h
            return self.power_w
        return 0.0


class House:
    """Circuit watts from relay levels and a few people; sun compressed to `day_s` seconds."""

    def __init__(self, gpio_file: Path, curb, solar, ecobee=None, size_w: float = 5250,
                 day_s: float = 600, seed: int = 7):
        self.gpio_file, self.curb, self.solar, self.ecobee = Path(gpio_file), curb, solar, ecobee
        self.size_w, self.day_s = size_w, day_s
        self.rng = random.Random(seed)
        self.heaters = {"water_heater_north": WaterHeater("curb-wh-north", temp_f=126),
                        "water_heater_south": WaterHeater("curb-wh-south", temp_f=133)}
        self.t0 = time.monotonic()
        self.last = self.t0
        self.dryer_left_s = 0.0
        self.production_w = 0.0

    def relay_levels(self) -> dict[str, bool]:
        """relay name -> appliance powered ("on"), from the sim GPIO file the agent writes."""
        try:
            pins = json.loads(self.gpio_file.read_text())["pins"]
        except (OSError, ValueError, KeyError):
            return {}
        return {name: bool(p.get("on")) for name, p in pins.items()}

    def sun(self, now_mono: float) -> float:
        """Half a sine over the bright part of a compressed day (day_s seconds)."""
        phase = ((now_mono - self.t0) / self.day_s) % 1.0  # 0 = sunrise
        return round(max(0.0, math.sin(math.pi * phase / 0.6)) * self.size_w * 0.8, 1) if phase < 0.6 else 0.0

    def step(self) -> dict[str, float]:
        now = time.monotonic()
        dt_h = (now - self.last) / 3600 * 60  # the house runs an hour per real minute
        self.last = now
        levels = self.relay_levels()
        watts: dict[str, float] = {}
        for name, heater in self.heaters.items():
            shower = 30.0 if self.rng.random() < 0.05 else 0.0
            watts[heater.circuit_id] = heater.step(levels.get(name, True), dt_h, shower)
        watts["curb-pool"] = 1100.0 if levels.get("pool_pump", True) else 0.0
        watts["curb-kitchen"] = 5200.0 if self.rng.random() < 0.08 else 300.0 + self.rng.random() * 200
        if self.dryer_left_s <= 0 and self.rng.random() < 0.03:
            self.dryer_left_s = 120
        self.dryer_left_s -= 2
        dryer = 2500.0 if self.dryer_left_s > 0 else 0.0
        watts["curb-dryer-1"] = watts["curb-dryer-2"] = dryer / 2
        watts["curb-hp-north"] = 3100.0 if (now // 90) % 3 == 0 else 0.0
        south_running = True
        if self.ecobee is not None:
            hold = self.ecobee.hold_of()
            south_running = hold is None
        watts["curb-hp-south"] = 1800.0 if south_running and (now // 60) % 2 == 0 else 0.0
        self.production_w = self.sun(now)
        self.curb.set_watts(watts, production_w=self.production_w)
        self.solar.set_production(self.production_w)
        return watts
