"""Relay wear and recent history in `state_dir/relay_agent.json`, written atomically
(tmp + fsync + os.replace) on every switch so a power cut never loses or corrupts the counts.
Songle SRD relays are good for ~100,000 operations: the count is the budget's odometer."""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path

from .core import Wear

log = logging.getLogger(__name__)
VERSION = 1


def load(path: Path) -> dict[str, dict[str, Wear]]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.error("%s unreadable (%s): switch counts start again from 0", path, exc)
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
