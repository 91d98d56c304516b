"""In-memory GPIO for the demo and the tests: every change is also written atomically to
`relay_agent.sim_state_file` as JSON so other processes can watch the pins:

    {"backend": "sim", "pid": 123, "pins": {"pool_pump": {"bcm": 13, "level": 0,
     "active_low": true, "on": true}, "aircon.drm2": {...}}}
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .base import Channel, GPIODriver


class SimGPIO(GPIODriver):
    def __init__(self, state_file: Path | None = None):
        self.state_file = Path(state_file) if state_file else None
        self.levels: dict[int, int] = {}
        self.channels: dict[int, Channel] = {}

    @classmethod
    def from_config(cls, ra_cfg) -> "SimGPIO":
        return cls(ra_cfg.sim_state_file)

    def setup_output(self, ch: Channel, level: int) -> None:
        self.channels[ch.bcm] = ch
        self.levels[ch.bcm] = int(level)
        self._dump()

    def write(self, ch: Channel, level: int) -> None:
        if ch.bcm not in self.levels:
            raise RuntimeError(f"GPIO{ch.bcm} ({ch.name}) written before setup")
        # The file is the simulated wire (sim/house.py reads it): a write that cannot reach it
        # raises and leaves the level unchanged, like a real driver whose write failed, so the
        # read-back tells the truth and the agent writes again.
        old = self.levels[ch.bcm]
        self.levels[ch.bcm] = int(level)
        try:
            self._dump()
        except BaseException:
            self.levels[ch.bcm] = old
            raise

    def read(self, ch: Channel) -> int:
        return self.levels[ch.bcm]

    def snapshot(self) -> dict:
        pins = {ch.name: {"bcm": bcm, "level": self.levels[bcm], "active_low": ch.active_low,
                          "on": ch.is_on(self.levels[bcm])}
                for bcm, ch in sorted(self.channels.items())}
        return {"backend": "sim", "pid": os.getpid(), "pins": pins}

    def _dump(self) -> None:
        if self.state_file is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(f".{self.state_file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.snapshot(), indent=1))
        os.replace(tmp, self.state_file)  # readers never see half a file
