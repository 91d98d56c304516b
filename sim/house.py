"""The simulated house of `make demo`: the simulator's physics (sim/simulate) in real time.

The house described by the config's `simulation:` section (config/example.yaml): stratified
water heaters with a household's draws, the pool pump, the sheddable heat pump's rooms, and
the observed dryer, kitchen and north heat pump, under Greensboro's July sun (the TMY file
pvlib ships). Its clock runs a simulated day every `day_s` real seconds (default 600), from
06:00, so that a few minutes of demo show the sun rise, production cross the thresholds,
showers empty the tanks and the elements heat them again while their relays allow it.

Nothing here decides anything: the real relay agent's simulated GPIO (relay_agent
sim_state_file) says which relays are closed, the fake ecobee says whether circuitq holds
the south heat pump off; the house feeds circuit watts to the fake Curb (by the config's
curb mapping: labels, ids, a 240 V dryer on two CTs) and production to the fake solar
sources, and the room temperature and demand to the fake thermostat.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from circuitq.config import load_config
from sim.simulate.build import build
from sim.simulate.house.tank import Tank
from sim.simulate.house.zone import Zone

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example.yaml"
DAYS = 7  # simulated days of weather and household prepared; the clock wraps after them
START_MIN = 6 * 60  # the demo's day starts at 06:00: sunrise comes a minute or so in


class House:
    def __init__(self, gpio_file: Path, curb, solar, ecobee=None, config: Path | None = None,
                 day_s: float = 600, seed: int = 1, month: int = 7):
        self.gpio_file, self.curb, self.solar, self.ecobee = Path(gpio_file), curb, solar, ecobee
        cfg = load_config(config or EXAMPLE, env={})
        self.cfg, self.spec, self.exo = build(cfg, None, None, month, DAYS, seed)
        self.per_s = 1440.0 / day_s  # simulated minutes per real second
        self.tanks = {n: Tank(ts) for n, ts in self.spec.tanks.items()}
        z = self.spec.sheddable
        self.zone = Zone(z) if z else None
        self.t0 = time.monotonic()
        self.k = START_MIN  # next simulated minute to compute
        self.production_w = 0.0
        self.watts: dict[str, float] = {}
        self.fake_ids = self._curb_ids()
        self.tstat = None
        if z is not None and self.cfg.ecobee and z.thermostat in self.cfg.ecobee.thermostats:
            self.tstat = self.cfg.ecobee.thermostats[z.thermostat].identifier

    # ------------------------------------------------------------------ inputs from the fleet
    def relay_levels(self) -> dict[str, bool]:
        """relay name -> appliance powered ("on"), from the sim GPIO file the agent writes."""
        try:
            pins = json.loads(self.gpio_file.read_text())["pins"]
        except (OSError, ValueError, KeyError):
            return {}
        return {name: bool(p.get("on")) for name, p in pins.items()}

    def held(self) -> bool:
        if self.ecobee is None:
            return False
        try:
            hold = self.ecobee.hold_of(self.tstat) if self.tstat else self.ecobee.hold_of()
        except KeyError:
            hold = self.ecobee.hold_of()
        return hold is not None

    # ------------------------------------------------------------------ the house's minutes
    def step(self) -> dict[str, float]:
        """Run the physics up to now (simulated), then publish the last minute to the fakes."""
        target = START_MIN + int((time.monotonic() - self.t0) * self.per_s)
        levels = self.relay_levels()
        held = self.held()
        while self.k <= target:
            self._minute(self.k, levels, held)
            self.k += 1
        self._publish()
        return self.watts

    def _minute(self, k_abs: int, levels: dict[str, bool], held: bool) -> None:
        exo, spec = self.exo, self.spec
        k = k_abs % exo.n
        w: dict[str, float] = {}
        for name, tank in self.tanks.items():
            on = levels.get(spec.tanks[name].relay.relay, True)
            w[spec.tanks[name].circuit] = tank.step(k_abs, on, float(exo.draw_l40[name][k]))
        if spec.pool:
            on = levels.get(spec.pool.relay.relay, True)
            w[spec.pool.circuit] = spec.pool.watts if on else 0.0
        if self.zone is not None:
            z = self.zone.spec
            t = float(exo.t_out_c[k])
            w[z.circuit] = self.zone.step(k_abs, t, float(exo.ghi_w_m2[k]), float(z.cop_heat(t)),
                                          float(z.cop_cool(t)), held)
        for name, ob in spec.observed.items():
            w[ob.circuit] = float(exo.observed_w[name][k])
        w["_base"] = float(exo.base_w[k])
        self.watts = w
        self.production_w = round(float(exo.pv_w[k]), 1)

    # ------------------------------------------------------------------ outputs to the fakes
    def _curb_ids(self) -> dict[str, list[str]]:
        """circuitq circuit -> the fake Curb's circuit ids, by the config's curb mapping."""
        by_label: dict[str, list[str]] = {}
        for c in self.curb.circuits:
            by_label.setdefault(c["label"], []).append(c["id"])
        out = {}
        for name, m in (self.cfg.curb.circuits.items() if self.cfg.curb else ()):
            ids = [m.id] if getattr(m, "id", None) else by_label.get(getattr(m, "label", None) or "", [])
            out[name] = ids if getattr(m, "sum", False) else ids[:1]
        return out

    def _publish(self) -> None:
        watts: dict[str, float] = {}
        loads = set(self.spec.circuits.values())
        spare = [n for n in self.fake_ids if n not in loads]  # garage, bedrooms: the base load
        for name, w in self.watts.items():
            if name == "_base":
                for s in spare:
                    for i in self.fake_ids[s]:
                        watts[i] = round(w / max(len(spare), 1), 1)
                continue
            ids = self.fake_ids.get(name, [])
            for i in ids:
                watts[i] = round(w / len(ids), 1)
        self.curb.set_watts(watts, production_w=self.production_w)
        self.solar.set_production(self.production_w)
        if self.ecobee is not None and self.zone is not None:
            fields = {"actualTemperature": int(round((self.zone.T * 1.8 + 32) * 10)),
                      "demand": "heatPump,fan" if self.zone.mode else ""}
            try:
                self.ecobee.set_thermostat(self.tstat, **fields) if self.tstat else self.ecobee.set_thermostat(**fields)
            except KeyError:
                self.ecobee.set_thermostat(**fields)

    @property
    def clock(self) -> str:
        """The house's simulated local time, for the dashboard."""
        k = self.k % self.exo.n
        day = self.exo.days[int(self.exo.local_day[k])]
        m = int(self.exo.local_min[k])
        return f"{day} {m // 60:02d}:{m % 60:02d}"

    def summary(self) -> str:
        """One line for the demo's table: the house's time, sun, tanks and rooms."""
        tanks = ", ".join(f"{n} top {t.T[-1]:.0f} C" for n, t in self.tanks.items())
        room = f"; {self.zone.spec.load} rooms {self.zone.T:.1f} C" if self.zone else ""
        return f"house {self.clock}: PV {self.production_w / 1000:.1f} kW; {tanks}{room}\n"
