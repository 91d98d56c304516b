"""Relay agent section: GPIO backend, relays, DRM outputs and their hard safety limits."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from .base import OnOff, StrictModel

Numbering = Literal["BCM", "BOARD"]


class RelayLimits(StrictModel):
    """Hard limits enforced by the relay agent whatever the scheduler asks (relay wear, compressors)."""
    min_on_s: float = Field(60, ge=0)
    min_off_s: float = Field(60, ge=0)
    max_starts_per_hour: int = Field(6, ge=1)
    max_lease_s: float = Field(900, gt=0, description="longest lease a command may ask for")


class RelayConfig(RelayLimits):
    pin: int = Field(ge=1, le=40)
    numbering: Numbering | None = None  # default: relay_agent.numbering
    active_low: bool = True  # most Pi relay boards energise the coil on a LOW input
    boot_state: OnOff = "on"  # applied before connecting to anything
    safe_state: OnOff = "on"  # what the appliance would be without circuitq
    description: str = ""
    name: str | None = Field(None, max_length=80, description="what people call it, e.g. 'North water "
                             "heater' (Home Assistant); default: the key, readable")


class DrmRelayConfig(StrictModel):
    pin: int = Field(ge=1, le=40)
    numbering: Numbering | None = None
    active_low: bool = True


class DrmOutputConfig(StrictModel):
    """A DRED output (AS/NZS 4755). Default wiring is dreadpi's: relay drm2 asserts DRM2;
    relay drm3, fed through drm2's NC contact, asserts DRM3; both released is mode 0."""
    wiring: Literal["dreadpi", "direct"] = "dreadpi"
    relays: dict[str, DrmRelayConfig]
    # mode -> relay name -> level; default filled from the wiring.
    modes: dict[int, dict[str, OnOff]] | None = None
    safe_mode: Literal[0, 1, 2, 3] = 0
    boot_mode: Literal[0, 1, 2, 3] = 0
    min_dwell_s: float = Field(60, ge=0, description="shortest time in a mode before another")
    max_changes_per_hour: int = Field(12, ge=1)
    max_lease_s: float = Field(1800, gt=0)
    description: str = ""
    name: str | None = Field(None, max_length=80, description="what people call it, e.g. 'Air "
                             "conditioner' (Home Assistant); default: the key, readable")

    @model_validator(mode="after")
    def _modes(self):
        if self.modes is None:
            if self.wiring == "dreadpi":
                if set(self.relays) != {"drm2", "drm3"}:
                    raise ValueError("dreadpi wiring needs exactly two relays named drm2 and drm3")
                self.modes = {0: {"drm2": "off", "drm3": "off"},
                              2: {"drm2": "on", "drm3": "off"},
                              3: {"drm2": "off", "drm3": "on"}}
            else:
                # direct: relay `drm<N>` asserts DRM N; all released is mode 0.
                bad = [r for r in self.relays if r not in ("drm1", "drm2", "drm3")]
                if bad:
                    raise ValueError(f"direct wiring without a 'modes' table needs relays named "
                                     f"drm1/drm2/drm3 (got {bad})")
                self.modes = {0: {r: "off" for r in self.relays}}
                for r in self.relays:
                    self.modes[int(r[3])] = {x: ("on" if x == r else "off") for x in self.relays}
        for mode, levels in self.modes.items():
            if mode not in (0, 1, 2, 3):
                raise ValueError(f"modes: {mode} is not a DRM mode (0, 1, 2, 3)")
            if set(levels) != set(self.relays):
                raise ValueError(f"modes.{mode}: must give a level for each of {sorted(self.relays)}")
        for key in ("safe_mode", "boot_mode"):
            if getattr(self, key) not in self.modes:
                raise ValueError(f"{key} {getattr(self, key)} is not in modes")
        return self


class RelayAgentConfig(StrictModel):
    backend: Literal["sim", "rpi"] = "sim"
    numbering: Numbering = "BCM"
    sim_state_file: Path = Path("run/gpio.json")  # sim backend writes pin levels here
    lock_file: Path = Path("run/relay_agent.lock")
    broker_grace_s: float = Field(120, gt=0, description="broker unreachable this long -> safe states")
    scheduler_offline_safe: bool = True  # scheduler status 'offline' -> safe states at once
    # The event loop wakes at least every 0.5 s (EventLoop.run tick), so anything under ~1 s
    # would fire on a healthy loop.
    watchdog_s: float = Field(10, ge=1, description="main loop stalled this long -> safe states")
    # The board's hardware watchdog (e.g. /dev/watchdog): fed from the event loop; a dead agent
    # or a frozen Pi is reset, which releases every relay (services/relay_agent/keepalive.py).
    watchdog_device: Path | None = None
    watchdog_device_timeout_s: int = Field(15, ge=2, le=255, description="reset after this long unfed")
