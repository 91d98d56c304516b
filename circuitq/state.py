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
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def write_json_atomic(path: Path | str, data: Any, *, private: bool = True) -> None:
    path = Path(path)
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
