"""solar_collector: solar production from Enlighten, the IQ Gateway, PVOutput, a script or MQTT.

Replaces dreadpi's collectors. See docs/solar_collector.md.
"""
from __future__ import annotations


def build(ctx):
    from .service import SolarCollector
    return SolarCollector(ctx)
