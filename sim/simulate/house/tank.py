"""A stratified electric water heater, one minute at a time.

`layers` nodes of equal volume, 0 at the bottom. A draw is plug flow: tank water leaves from
the top, the same volume of cold mains enters at the bottom and every node moves up (upwind,
a node at a time). Two elements with their own thermostats; the upper one has priority and
the two never heat together (a US dual-element tank). A thermostat calls below
setpoint - deadband and stops at the setpoint; an element heats only while its relay is
closed AND its thermostat calls. Heat rises: a node warmer than the one above mixes with it
(buoyancy). Standby loss UA x (T - ambient) is spread evenly over the nodes.

Speed: a minute with no draw and no element heating only cools by standby loss, which is
linear and the same for every node, so it is applied lazily (exactly, as a power of the
one-minute decay factor) when the tank is next touched; the minute a thermostat would start
calling is computed ahead. A month is a few thousand full steps per tank.

Energy bookkeeping (J, enthalpy counted from 0 C): element_j in, inlet_j in with the mains,
outlet_j out with the draws, loss_j out by standby; stored_j() = sum of node enthalpies.
"""
from __future__ import annotations

import math

from ..spec import COLD_DRAW_C, CP_J_PER_KG_K, TAP_C, WATER_KG_PER_L, TankSpec

J_PER_L_K = WATER_KG_PER_L * CP_J_PER_KG_K  # 4177 J per litre per kelvin
NEVER = 1 << 60


class Tank:
    def __init__(self, spec: TankSpec, start_c: float | None = None):
        self.spec = spec
        self.n = spec.layers
        self.layer_l = spec.tank_l / self.n
        self.c_layer = self.layer_l * J_PER_L_K  # J/K per node
        self.T = [spec.setpoint_c if start_c is None else start_c] * self.n
        self.amb = spec.ambient_c
        self.r = math.exp(-spec.ua_w_k * 60.0 / (self.c_layer * self.n))  # one minute's decay
        self.log_r = math.log(self.r)
        self.on_below = spec.setpoint_c - spec.deadband_c
        self.sensors = (spec.upper_layer, spec.lower_layer)
        self.calling = [False, False]  # upper, lower thermostat
        self.k = 0  # standby applied up to the start of this minute
        self.next_call_k = 0  # earliest minute a thermostat may start calling by standby alone
        # bookkeeping
        self.element_j = self.inlet_j = self.outlet_j = self.loss_j = 0.0
        self.drawn_l = 0.0  # tank water delivered (L)
        self.cold_l = 0.0  # tank water delivered below COLD_DRAW_C (L)
        self.cold_min = 0  # minutes with a cold draw
        self.heat_min = 0  # minutes an element heated
        self._check_calls()

    # ------------------------------------------------------------------ the minute
    def step(self, k: int, relay_on: bool, draw_l40: float) -> float:
        """Minute k: the draw (L at 40 C at the tap) and the relay; returns element watts."""
        calling = self.calling[0] or self.calling[1]
        if draw_l40 <= 0.0 and not (relay_on and calling) and k < self.next_call_k:
            return 0.0  # standby only: applied lazily
        self._standby_to(k)
        if draw_l40 > 0.0:
            self._draw(draw_l40)
        self._check_calls()
        w = 0.0
        if relay_on:
            if self.calling[0]:
                w = self._heat(self.sensors[0], 0)
            elif self.calling[1]:
                w = self._heat(self.sensors[1], 1)
        self._standby_to(k + 1)
        self._check_calls()
        return w

    def _draw(self, l40: float) -> None:
        T, tin = self.T, self.spec.inlet_c
        top = T[-1]
        v = l40 * (TAP_C - tin) / (top - tin) if top > TAP_C else l40  # mixing valve
        self.drawn_l += v
        if top < COLD_DRAW_C:
            self.cold_l += v
            self.cold_min += 1
        self.inlet_j += v * J_PER_L_K * tin
        left = v / self.layer_l
        out = 0.0
        while left > 1e-12:
            s = left if left < 1.0 else 1.0
            out += s * self.layer_l * J_PER_L_K * T[-1]
            for i in range(self.n - 1, 0, -1):
                T[i] += s * (T[i - 1] - T[i])
            T[0] += s * (tin - T[0])
            left -= s
        self.outlet_j += out

    def _heat(self, node: int, which: int) -> float:
        """Heat `node` for the minute, or less if its thermostat is satisfied sooner (W)."""
        T = self.T
        full = self.spec.element_w * 60.0
        need = (self.spec.setpoint_c - T[node]) * self.c_layer
        j = full if need >= full else max(need, 0.0)
        T[node] += j / self.c_layer
        self.element_j += j
        if j < full:
            self.calling[which] = False  # reached its setpoint within the minute
        self._mix()
        if j > 0:
            self.heat_min += 1
        return j / 60.0

    def _mix(self) -> None:
        """Buoyancy: merge nodes from the bottom up until no node is warmer than the one above."""
        T = self.T
        blocks: list[list[float]] = []  # [sum of T, node count]
        for t in T:
            s, c = t, 1
            while blocks and blocks[-1][0] / blocks[-1][1] > s / c + 1e-9:
                ps, pc = blocks.pop()
                s, c = s + ps, c + pc
            blocks.append([s, c])
        if len(blocks) == self.n:
            return
        i = 0
        for s, c in blocks:
            m = s / c
            for _ in range(c):
                T[i] = m
                i += 1

    # ------------------------------------------------------------------ standby, thermostats
    def _standby_to(self, k: int) -> None:
        m = k - self.k
        if m <= 0:
            return
        f = self.r ** m
        amb, T = self.amb, self.T
        lost = 0.0
        for i in range(self.n):
            d = T[i] - amb
            T[i] = amb + d * f
            lost += d
        self.loss_j += lost * (1.0 - f) * self.c_layer
        self.k = k

    def _check_calls(self) -> None:
        """Thermostat states at the current node temperatures, and when one would next call."""
        set_c, on_below = self.spec.setpoint_c, self.on_below
        nxt = NEVER
        for which, node in enumerate(self.sensors):
            t = self.T[node]
            if self.calling[which]:
                if t >= set_c:
                    self.calling[which] = False
            elif t < on_below:
                self.calling[which] = True
            if not self.calling[which]:
                nxt = min(nxt, self._minutes_until_below(t, on_below))
        self.next_call_k = self.k + nxt if nxt < NEVER else NEVER

    def _minutes_until_below(self, t: float, thr: float) -> int:
        if thr <= self.amb:
            return NEVER  # standby never takes it below the ambient
        return max(1, math.ceil(math.log((thr - self.amb) / (t - self.amb)) / self.log_r))

    # ------------------------------------------------------------------ reading it
    def settle(self, k: int) -> None:
        """Apply standby up to minute k (before reading temperatures or energies)."""
        self._standby_to(k)

    def stored_j(self) -> float:
        return sum(self.T) * self.c_layer

    def top_at(self, k: int) -> float:
        """The top node's temperature at the start of minute k, standby included (C)."""
        m = k - self.k
        t = self.T[-1]
        return t if m <= 0 else self.amb + (t - self.amb) * self.r ** m

    def usable_kwh(self) -> float:
        """Heat above COLD_DRAW_C in the tank now (kWh): what can still be drawn hot."""
        return sum(max(t - COLD_DRAW_C, 0.0) for t in self.T) * self.c_layer / 3.6e6
