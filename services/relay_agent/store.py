"""Relay wear and recent history in `state_dir/relay_agent.json`, written atomically
(tmp + fsync + os.replace) on every switch so a power cut never loses or corrupts the counts.
Songle SRD relays are good for ~100,000 operations: the count is the budget's odometer."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, NonNegativeInt, StrictInt, ValidationError

from circuitq.state import read_json, write_json_atomic

from .core import Wear

log = logging.getLogger(__name__)
VERSION = 1


class _Entry(BaseModel):
    """One output's saved wear. Read before any pin is set up, so anything odd in the file (an
    older version, a hand edit) must be refused here, entry by entry: a naive timestamp or an
    unhashable value reaching the core would crash every start and leave the pins unmanaged."""
    model_config = ConfigDict(extra="ignore")
    value: Union[Literal["on", "off"], StrictInt, None] = None  # relay level or DRM mode
    switch_count: NonNegativeInt = 0
    since: AwareDatetime | None = None
    events: list[AwareDatetime] = []
    operations: dict[str, NonNegativeInt] = {}


def load(path: Path) -> dict[str, dict[str, Wear]]:
    try:
        data = read_json(path)  # not JSON: kept as <name>.bad for a person, with a warning
    except OSError as exc:
        log.error("%s unreadable (%s): switch counts start again from 0", path, exc)
        return {}
    if data is None:
        return {}
    out: dict[str, dict[str, Wear]] = {}
    kinds = data.get("outputs") or {}
    if not isinstance(kinds, dict):
        log.error("%s: 'outputs' is not an object, ignored", path)
        return {}
    for kind, outputs in kinds.items():
        if not isinstance(outputs, dict):
            log.error("%s: outputs.%s is not an object, ignored", path, kind)
            continue
        for name, w in outputs.items():
            try:
                e = _Entry.model_validate(w)
            except ValidationError as exc:
                log.error("%s: bad entry %s.%s (%s), ignored", path, kind, name, exc)
                continue
            out.setdefault(kind, {})[name] = Wear(e.value, e.switch_count, e.since, tuple(e.events),
                                                  dict(e.operations))
    return out


def save(path: Path, wear: dict[str, dict[str, Wear]]) -> None:
    data = {"version": VERSION, "outputs": {
        kind: {name: {"value": w.value, "switch_count": w.switch_count,
                      "since": w.since.isoformat() if w.since else None,
                      "events": [t.isoformat() for t in w.events], "operations": w.operations}
               for name, w in outputs.items()}
        for kind, outputs in wear.items()}}
    write_json_atomic(path, data, private=False)  # wear counts are not secret
