"""The notifier's state file: outbox, de-dup memory and rule timers, written atomically.

One JSON file under cfg.state_dir, replaced with tmp + fsync + os.replace so that a crash
(kill -9, power cut) leaves either the old or the new file, never half of one. Mode 600: the
alert texts describe the house.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from .outbox import Outbox
from .policy import KeyState
from .rules import RuleState

log = logging.getLogger(__name__)
VERSION = 1


@dataclass
class NotifierState:
    outbox: Outbox = field(default_factory=Outbox)
    policy: dict[str, KeyState] = field(default_factory=dict)
    rules: dict[str, RuleState] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"version": VERSION, "outbox": self.outbox.to_json(),
                "policy": {k: v.to_json() for k, v in self.policy.items()},
                "rules": {k: v.to_json() for k, v in self.rules.items()}}

    @classmethod
    def from_json(cls, d: dict) -> "NotifierState":
        return cls(Outbox.from_json(d.get("outbox", {})),
                   {k: KeyState.from_json(v) for k, v in d.get("policy", {}).items()},
                   {k: RuleState.from_json(v) for k, v in d.get("rules", {}).items()})


def save(path: Path, state: NotifierState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(state.to_json(), f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path: Path) -> NotifierState:
    """The saved state; a missing file is a fresh start, a corrupt one is kept aside and logged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return NotifierState.from_json(data)
    except FileNotFoundError:
        return NotifierState()
    except (ValueError, KeyError, TypeError) as exc:
        bad = path.with_name(path.name + ".bad")
        os.replace(path, bad)
        log.error("%s is unreadable (%s); kept as %s, starting with an empty outbox", path, exc, bad)
        return NotifierState()
