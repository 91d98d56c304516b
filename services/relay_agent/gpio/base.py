"""The GPIO driver interface: electrical levels on BCM-numbered output pins, nothing more.

Logical on/off and active-low live in `Channel`, so a driver is ~50 lines (mqtt-io's
GenericGPIO idea). Drivers never decide anything.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    """One output pin: `name` is the relay (or `<drm output>.<relay>`), `bcm` the GPIO number."""
    name: str
    bcm: int
    active_low: bool
    header_pin: int | None = None  # the BOARD pin, when configured that way (for messages)

    def level(self, on: bool) -> int:
        """Electrical level that energises (on=True) or releases the relay."""
        return int(on != self.active_low)

    def is_on(self, level: int) -> bool:
        return bool(level) != self.active_low


class GPIODriver(abc.ABC):
    """Output pins by BCM number. Implementations must be safe to call under one lock."""

    @classmethod
    def from_config(cls, ra_cfg) -> "GPIODriver":
        return cls()

    @abc.abstractmethod
    def setup_output(self, ch: Channel, level: int) -> None:
        """Make the pin an output driving `level` from the first instant (no glitch: mqtt-io #23)."""

    @abc.abstractmethod
    def write(self, ch: Channel, level: int) -> None:
        ...

    @abc.abstractmethod
    def read(self, ch: Channel) -> int:
        """The level the pin is driving now (read back, not remembered)."""

    def close(self) -> None:
        """Release the driver WITHOUT changing outputs: pins keep their (safe) levels after exit.

        GPIO.cleanup() would turn the pins into inputs, which releases every relay on an
        active-low board whatever its safe state is, so no driver calls it here.
        """
