"""Source drivers: one file each, one tiny interface (evcc-style).

    class Driver:
        describe: str                       # where it reads, for logs and error reports
        def read(self, now) -> Sample       # or raise a core.SourceError subclass
        def first_delay(self, now) -> float # wait before the first poll (persisted budgets)

`make_driver(src, ctx)` builds the driver for a config entry.
"""
from __future__ import annotations

from typing import Protocol

from ..core import Sample


class Driver(Protocol):
    describe: str

    def read(self, now) -> Sample: ...

    def first_delay(self, now) -> float: ...


def make_driver(src, ctx):
    from . import enlighten, envoy, mqtt_input, pvoutput, script
    table = {"enlighten": enlighten.Enlighten, "envoy": envoy.Envoy, "pvoutput": pvoutput.PVOutput,
             "script": script.Script, "mqtt": mqtt_input.MqttInput}
    return table[src.kind](src, ctx)
