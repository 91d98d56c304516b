"""The notifier's state file: outbox, de-dup memory and rule timers, written atomically.

One JSON file under cfg.state_dir, written by circuitq.state (tmp + fsync + os.replace, mode
600: the alert texts describe the house), so that a crash (kill -9, power cut) leaves either
the old or the new file, never half of one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from circuitq.state import read_json, set_aside, write_json_atomic

from .outbox import Outbox
from .policy import KeyState
from .rules import RuleState

VERSION = 1
WHAT = "alerts waiting for delivery, de-duplication memory and rule timers"


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
    write_json_atomic(path, state.to_json(), what=WHAT)


def load(path: Path) -> NotifierState:
    """The saved state; a missing file is a fresh start, a corrupt one is kept aside and logged."""
    data = read_json(path)  # not JSON: already set aside
    if data is None:
        return NotifierState()
    try:
        return NotifierState.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        set_aside(path, f"not a notifier state: {exc!r}")
        return NotifierState()
