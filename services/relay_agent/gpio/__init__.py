"""GPIO drivers, mqtt-io style: a small ABC and one file per driver.

Drivers are imported lazily from this table so that the service (and the sim) runs on a
machine without RPi.GPIO; the rpi driver imports it inside its constructor.
"""
from __future__ import annotations

import importlib

from .base import Channel, GPIODriver

# backend name -> (module, class)
DRIVERS = {
    "sim": ("services.relay_agent.gpio.sim", "SimGPIO"),
    "rpi": ("services.relay_agent.gpio.rpi", "RpiGPIO"),
}


def make_driver(ra_cfg) -> GPIODriver:
    """The driver for `relay_agent.backend` (config section RelayAgentConfig)."""
    module, cls = DRIVERS[ra_cfg.backend]
    return getattr(importlib.import_module(module), cls).from_config(ra_cfg)


__all__ = ["Channel", "GPIODriver", "DRIVERS", "make_driver"]
