"""The three solar fakes together, for `make demo`: one sun drives them all.

    fakes = SolarFakes(tz="America/New_York").start()
    cfg["solar"] = {"system_size_w": 5250, "sources": fakes.sources()}
    fakes.set_production(sun_w(clock.now(), 5250, tz))   # e.g. every few seconds
"""
from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from sim.fakes.enphase import FakeEnlighten, FakeEnvoy
from sim.fakes.pvoutput import FakePVOutput


def sun_w(now: datetime, size_w: float, tz: ZoneInfo, sunrise_h: float = 6.5, sunset_h: float = 19.5,
          derate: float = 0.8) -> float:
    """A clear-sky half sine between sunrise and sunset (local hours), derated for losses."""
    local = now.astimezone(tz)
    h = local.hour + local.minute / 60 + local.second / 3600
    if not sunrise_h < h < sunset_h:
        return 0.0
    return round(size_w * derate * math.sin(math.pi * (h - sunrise_h) / (sunset_h - sunrise_h)), 1)


class SolarFakes:
    def __init__(self, tz: str = "America/New_York", envoy_tls: bool = False):
        self.envoy = FakeEnvoy(tls=envoy_tls)
        self.pvoutput = FakePVOutput(tz=tz)
        self.enlighten = FakeEnlighten(per_minute=10)

    def start(self) -> "SolarFakes":
        for f in (self.envoy, self.pvoutput, self.enlighten):
            f.start()
        return self

    def stop(self) -> None:
        for f in (self.envoy, self.pvoutput, self.enlighten):
            f.stop()

    def set_production(self, w: float) -> None:
        for f in (self.envoy, self.pvoutput, self.enlighten):
            f.set_production(w)

    def sources(self) -> list[dict]:
        """solar.sources pointing at these fakes, in the usual fallback order."""
        return [{"kind": "envoy", "host": self.envoy.url},
                {"kind": "pvoutput", "host": self.pvoutput.url},
                {"kind": "enlighten", "host": self.enlighten.url, "system_id": self.enlighten.system_id}]
