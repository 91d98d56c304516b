"""Files under cfg.state_dir: the ecobee tokens (secret, mode 600) and the holds we set.

Both are written atomically by circuitq.state (temp file in the same directory, fsync,
os.replace), so a crash mid-write leaves the previous file, never a torn one.
"""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from circuitq.state import read_json, write_json_atomic

from .decide import OurHold

TOKENS_FILE = "ecobee_tokens.json"
HOLDS_FILE = "ecobee_holds.json"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds (wall clock; ecobee gives expires_in)
    scope: str = ""


class TokenStore:
    """The current tokens; re-read when the file changes (`authorize` run while we run)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._mtime: int | None = None
        self._tokens: Tokens | None = None

    def load(self) -> Tokens | None:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime_ns
            except FileNotFoundError:
                self._tokens, self._mtime = None, None
                return None
            if mtime != self._mtime:
                try:
                    d = read_json(self.path)
                    self._tokens = Tokens(d["access_token"], d["refresh_token"], float(d.get("expires_at", 0)),
                                          d.get("scope", ""))
                except (OSError, ValueError, KeyError, TypeError):
                    self._tokens = None
                self._mtime = mtime
            return self._tokens

    def save(self, tokens: Tokens) -> None:
        with self._lock:
            write_json_atomic(self.path, {**asdict(tokens), "saved_at": datetime.now().astimezone().isoformat()})
            self._tokens, self._mtime = tokens, self.path.stat().st_mtime_ns


def tokens_from_response(d: dict, now_epoch: float) -> Tokens:
    return Tokens(d["access_token"], d["refresh_token"], now_epoch + float(d.get("expires_in", 3600)),
                  d.get("scope", ""))


class HoldStore:
    """thermostat name -> the hold circuitq set there (so a restart can resume it)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> dict[str, OurHold]:
        try:
            raw = read_json(self.path, {})
        except OSError:
            return {}
        out = {}
        for name, d in raw.items():
            try:
                out[name] = OurHold(int(d["heat"]), int(d["cool"]), datetime.fromisoformat(d["end"]),
                                    d["end_local"], datetime.fromisoformat(d["set_at"]),
                                    datetime.fromisoformat(d["confirmed_end"]) if d.get("confirmed_end") else None)
            except (KeyError, TypeError, ValueError):
                continue
        return out

    def save(self, holds: dict[str, OurHold]) -> None:
        write_json_atomic(self.path, {
            name: {"heat": h.heat, "cool": h.cool, "end": h.end.isoformat(), "end_local": h.end_local,
                   "set_at": h.set_at.isoformat(),
                   "confirmed_end": h.confirmed_end.isoformat() if h.confirmed_end else None}
            for name, h in holds.items()})
