"""Logical outputs over a GPIO driver: relay on/off and DRM modes, with numbering, active-low
and read-back. Pin mistakes are ConfigErrors naming the relay, found before any pin is touched.
"""
from __future__ import annotations

import logging

from circuitq.config import CircuitqConfig, ConfigError

from .drm import DrmWiring
from .gpio.base import Channel, GPIODriver
from .gpio.pins import PinError, to_bcm

log = logging.getLogger(__name__)


def resolve_channels(cfg: CircuitqConfig) -> tuple[dict[str, Channel], dict[str, dict[str, Channel]]]:
    """(relay channels, DRM output -> relay -> channel); ConfigError on a bad or shared pin."""
    default = cfg.relay_agent.numbering
    errors: list[str] = []
    used: dict[int, str] = {}

    def channel(key: str, name: str, rc) -> Channel | None:
        numbering = rc.numbering or default
        try:
            bcm = to_bcm(rc.pin, numbering)
        except PinError as exc:
            errors.append(f"{key}.pin: {exc} ({numbering} numbering)")
            return None
        if bcm in used:
            errors.append(f"{key}.pin: GPIO{bcm} is already used by {used[bcm]}")
        used[bcm] = key
        return Channel(name, bcm, rc.active_low, rc.pin if numbering == "BOARD" else None)

    relays = {n: channel(f"relays.{n}", n, rc) for n, rc in cfg.relays.items()}
    drm = {o: {r: channel(f"drm_outputs.{o}.relays.{r}", f"{o}.{r}", rc) for r, rc in dc.relays.items()}
           for o, dc in cfg.drm_outputs.items()}
    if errors:
        raise ConfigError("\n".join(errors))
    return relays, drm


def check_wirings(cfg: CircuitqConfig) -> dict[str, DrmWiring]:
    wirings = {n: DrmWiring(n, dc) for n, dc in cfg.drm_outputs.items()}
    errors = [f"drm_outputs.{n}: {p}" for n, w in wirings.items() for p in w.problems()]
    if errors:
        raise ConfigError("\n".join(errors))
    return wirings


class Hardware:
    def __init__(self, relays: dict[str, Channel], drm: dict[str, dict[str, Channel]],
                 wirings: dict[str, DrmWiring], driver: GPIODriver):
        self.relays, self.drm, self.wirings, self.driver = relays, drm, wirings, driver

    def boot(self, values: dict[str, dict], previous: dict[str, dict] | None = None) -> None:
        """Set every pin up as an output already at its boot level (no glitch at start).

        `previous`: the levels the last run saved. Pins keep their levels when the agent exits,
        so a DRM output's pins are set up in the order of a safe plan from the previous mode
        (mode 3 -> boot 2: energise drm2, then release drm3; never through mode 0)."""
        for name, ch in self.relays.items():
            self.driver.setup_output(ch, ch.level(values["relay"][name] == "on"))
        for out, chans in self.drm.items():
            wiring, mode = self.wirings[out], values["drm"][out]
            prev = ((previous or {}).get("drm") or {}).get(out)
            plan = wiring.plan(wiring.modes[prev], mode) if prev in wiring.modes and prev != mode else None
            order = [r for r, _ in plan or ()]
            for relay in sorted(chans, key=lambda r: order.index(r) if r in order else -1):
                self.driver.setup_output(chans[relay], chans[relay].level(wiring.modes[mode][relay]))

    # ---------------------------------------------------------------- writes
    def write(self, kind: str, name: str, value) -> None:
        WRITERS[kind](self, name, value)

    def _write_relay(self, name: str, value: str) -> None:
        ch = self.relays[name]
        self.driver.write(ch, ch.level(value == "on"))

    def _write_drm(self, out: str, mode: int) -> None:
        wiring, chans = self.wirings[out], self.drm[out]
        current = self.read_drm(out)
        plan = wiring.plan(current, mode)
        if plan is None:  # read-back is not a known mode: cannot keep to old/new; release first
            log.error("%s: read-back %s is not a known mode; releasing first", out, current)
            plan = wiring.release_first(current, mode)
        for relay, energise in plan:
            self.driver.write(chans[relay], chans[relay].level(energise))

    # ---------------------------------------------------------------- read-back
    def read(self, kind: str, name: str):
        return READERS[kind](self, name)

    def read_relay(self, name: str) -> str:
        ch = self.relays[name]
        return "on" if ch.is_on(self.driver.read(ch)) else "off"

    def read_drm(self, out: str) -> dict[str, bool]:
        return {r: ch.is_on(self.driver.read(ch)) for r, ch in self.drm[out].items()}

    def read_mode(self, out: str) -> int | None:
        return self.wirings[out].effective(self.read_drm(out))

    def close(self) -> None:
        self.driver.close()


WRITERS = {"relay": Hardware._write_relay, "drm": Hardware._write_drm}
READERS = {"relay": Hardware.read_relay, "drm": Hardware.read_mode}
