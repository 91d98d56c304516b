"""JSON state files under cfg.state_dir (tokens, outboxes, holds), safe against crashes.

write_json_atomic: a temp file in the same directory (os.replace is atomic only within one
file system), fsync, chmod, os.replace, then fsync of the directory so that the rename itself
survives a power cut. After kill -9 or a power cut the file is the old or the new version,
never half of each. Mode 600 by default: tokens are secrets, and alert texts describe the house.

read_json: a missing file is a fresh start (`default`). A file that is not JSON (a torn write
by some other tool, a bad hand edit) is moved aside to `<name>.bad` for a person to read, with
a warning, and `default` is returned; the next save writes a good file. One `.bad` per file:
a file corrupted again and again does not fill the disk. Other OSErrors (permissions) are
raised: the caller decides whether starting without its state is acceptable.

Failures to persist are never only a log line (a person must learn that wear counts,
overrides or tokens are no longer kept):
- at start, `check_state_dir` turns an unusable state_dir (a file, read-only, full) into a
  `StateDirError` (a ConfigError: one message naming the path and the reason, exit 2);
- while running, every write reports to `MONITOR`; the service's FleetClient listens and
  raises an alert on `<base>/alert` naming the service, the path and what is no longer kept,
  resolved by the next write that succeeds.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

from .config import ConfigError

log = logging.getLogger(__name__)

# path, what it holds (words for a person), error (None: writable again)
Listener = Callable[[Path, str, "str | None"], None]


class StateDirError(ConfigError):
    """The state directory cannot hold state: refuse to start (exit 2), naming path and reason."""


class PersistMonitor:
    """Which state files this process cannot write right now, and who to tell on a change."""

    def __init__(self):
        self._lock = threading.Lock()
        self.failing: dict[Path, tuple[str, str]] = {}  # path -> (what, error)
        self._listeners: list[Listener] = []

    def add(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def record(self, path: Path, what: str, error: str | None) -> None:
        with self._lock:
            before = self.failing.get(path)
            if error is None:
                self.failing.pop(path, None)
            else:
                self.failing[path] = (what, error)
            changed = (before is None) != (error is None)
            listeners = list(self._listeners) if changed else []
        if changed:
            if error is None:
                log.warning("%s is written again: %s kept again", path, what)
            else:
                log.error("cannot persist %s to %s: %s", what, path, error)
        for fn in listeners:
            try:
                fn(path, what, error)
            except Exception:
                log.exception("persistence listener failed")


MONITOR = PersistMonitor()


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def check_state_dir(path: Path | str, needs: str = "saved state") -> Path:
    """Make `path` if needed and prove a file can be written and synced there (StateDirError)."""
    path = Path(path)
    hint = "set state_dir (or CIRCUITQ_STATE_DIR) to a writable directory"
    if path.exists() and not path.is_dir():
        raise StateDirError(f"state_dir {path}: not a directory (it is a file); {needs} cannot be "
                            f"kept there; {hint}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=path)
        try:
            os.write(fd, b"x" * 4096)  # a full disk fails here or at fsync, not at create
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise StateDirError(f"state_dir {path}: cannot write there ({_why(exc)}); {needs} cannot "
                            f"be kept; {hint}") from None
    return path


def write_json_atomic(path: Path | str, data: Any, *, private: bool = True, what: str | None = None) -> None:
    """Write `data` as JSON, atomically and durably. `what`: what the file keeps, in words,
    for the alert when it cannot be written (default: the file's name). Milliseconds on an
    SD card: reaction paths publish first and write right after."""
    path = Path(path)
    what = what or f"the saved state in {path.name}"
    try:
        _write(path, data, private)
    except OSError as exc:
        MONITOR.record(path, what, _why(exc))
        raise
    if path in MONITOR.failing:
        MONITOR.record(path, what, None)


def _write(path: Path, data: Any, private: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600 if private else 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def set_aside(path: Path | str, reason: str) -> Path | None:
    """Move an unusable state file to `<name>.bad` (replacing an older one) and log why."""
    path = Path(path)
    bad = path.with_name(path.name + ".bad")
    try:
        os.replace(path, bad)
    except OSError as exc:
        log.warning("%s is unusable (%s) and could not be moved aside: %s", path, reason, exc)
        return None
    log.warning("%s is unusable (%s); kept as %s, starting without it", path, reason, bad)
    return bad


def read_json(path: Path | str, default: Any = None, *, expect: type = dict) -> Any:
    """The file's JSON if its top level is an `expect` (every state file is an object)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        set_aside(path, f"not valid JSON: {exc}")
        return default
    if not isinstance(data, expect):
        set_aside(path, f"top level is {type(data).__name__}, not {expect.__name__}")
        return default
    return data
