"""recorder section: the fleet's history in SQLite (services/recorder, docs/recorder.md).

    recorder:
      file: recorder.sqlite      # relative to state_dir
      keep_days: 90              # states, commands, overrides, alerts, activity
      keep_readings_days: 400    # Curb and solar readings (CSV export, replay)
      session_expiry_h: 24       # the broker queues for the recorder this long while it is away
      max_span_s: 180            # one reading stands for at most this long (a gap is not energy)
      rollup_every_min: 5        # today's totals are refreshed this often
      production: curb           # solar figure for import/export: curb | solar (solar_collector)
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from .base import StrictModel


class RecorderConfig(StrictModel):
    file: Path = Field(Path("recorder.sqlite"), description="the database; relative: inside state_dir")
    keep_days: float = Field(90, gt=0, description="days of states, commands, overrides, alerts, activity")
    keep_readings_days: float = Field(400, gt=0, description="days of Curb and solar readings")
    session_expiry_h: float = Field(24, gt=0, le=24 * 30, description="the broker keeps the recorder's "
                                    "session (and queues its messages) this long while it is away")
    max_span_s: float = Field(180, gt=0, description="a reading stands for the time since the previous "
                              "one, at most this long: a longer gap is missing data, not energy")
    rollup_every_min: float = Field(5, gt=0, description="refresh today's totals this often")
    production: Literal["curb", "solar"] = Field(
        "curb", description="where production comes from for import/export: the Curb reading's "
        "production_w (a CT on the solar feed) or the solar collector's reading")
    solar_fresh_s: float = Field(1000, gt=0, description="production: solar: a solar reading counts "
                                 "this long after its own timestamp")

    def path(self, state_dir: Path) -> Path:
        return self.file if self.file.is_absolute() else Path(state_dir) / self.file
