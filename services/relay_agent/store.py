"""Relay wear and recent history in `state_dir/relay_agent.json`, written atomically
(tmp + fsync + os.replace) on every switch so a power cut never loses or corrupts the counts.
Songle SRD relays are good for ~100,000 operations: the count is the budget's odometer."""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from circuitq.state import read_json, write_json_atomic

from .core import Wear

log = logging.getLogger(__name__)
VERSION = 1


def load(path: Path) -> dict[str, dict[str, Wear]]:
    try:
        data = read_json(path)  # not JSON: kept as <name>.bad for a person, with a warning
    except OSError as exc:
        log.error("%s unreadable (%s): switch counts start again from 0", path, exc)
        return {}
    if data is None:
        return {}
    out: dict[str, dict[str, Wear]] = {}
    for kind, outputs in (data.get("outputs") or {}).items():
        for name, w in outputs.items():
            try:
                out.setdefault(kind, {})[name] = Wear(
                    value=w.get("value"), switch_count=int(w.get("switch_count", 0)),
                    since=datetime.fromisoformat(w["since"]) if w.get("since") else None,
                    events=tuple(datetime.fromisoformat(t) for t in w.get("events", ())),
                    operations={str(r): int(n) for r, n in (w.get("operations") or {}).items()})
            except (TypeError, ValueError, AttributeError) as exc:
                log.error("%s: bad entry %s.%s (%s), ignored", path, kind, name, exc)
    return out


def save(path: Path, wear: dict[str, dict[str, Wear]]) -> None:
    data = {"version": VERSION, "outputs": {
        kind: {name: {"value": w.value, "switch_count": w.switch_count,
                      "since": w.since.isoformat() if w.since else None,
                      "events": [t.isoformat() for t in w.events], "operations": w.operations}
               for name, w in outputs.items()}
        for kind, outputs in wear.items()}}
    write_json_atomic(path, data, private=False)  # wear counts are not secret
