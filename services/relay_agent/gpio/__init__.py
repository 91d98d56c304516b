"""GPIO drivers, mqtt-io style: a small ABC and one file per driver.

`backend: rpi` picks its library at run time (gpio/board.py): lgpio or RPi.GPIO on a Pi 1-4,
rpi-lgpio (RPi.GPIO's API over lgpio) or lgpio on a Pi 5. Libraries are imported lazily so
the service (and the sim) runs on a machine without them; a missing one is a one-line error
naming the package to install for this board.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import sys

from .base import Channel, GPIODriver
from .board import choose_library, gpiochip_number, read_model

log = logging.getLogger(__name__)


def _sim(ra_cfg) -> GPIODriver:
    from .sim import SimGPIO
    return SimGPIO.from_config(ra_cfg)


def _rpi_gpio_provider() -> str | None:
    """Which distribution provides the `RPi.GPIO` module, or None when it cannot be imported."""
    if sys.modules.get("RPi.GPIO") is None:  # (already imported: e.g. a test's stand-in)
        try:
            if importlib.util.find_spec("RPi.GPIO") is None:
                return None
        except (ImportError, ValueError):
            return None
    try:
        importlib.metadata.distribution("rpi-lgpio")
        return "rpi-lgpio"
    except importlib.metadata.PackageNotFoundError:
        return "RPi.GPIO"


def open_pi_gpio(ra_cfg) -> GPIODriver:
    from circuitq.service import StartupError

    model = read_model()
    choice = choose_library(model, importlib.util.find_spec("lgpio") is not None, _rpi_gpio_provider())
    if isinstance(choice, str):
        raise StartupError(f"GPIO: {choice}")
    log.info("GPIO on %s: %s (%s)", model or "an unknown board", choice.library, choice.device)
    if choice.library == "lgpio":
        from .lgpio_driver import LgpioGPIO
        return LgpioGPIO(gpiochip_number())
    from .rpi import RpiGPIO
    return RpiGPIO()


# backend name -> factory(relay_agent config section) -> driver
DRIVERS = {"sim": _sim, "rpi": open_pi_gpio}


def make_driver(ra_cfg) -> GPIODriver:
    """The driver for `relay_agent.backend` (config section RelayAgentConfig)."""
    return DRIVERS[ra_cfg.backend](ra_cfg)


__all__ = ["Channel", "GPIODriver", "DRIVERS", "make_driver", "open_pi_gpio"]
