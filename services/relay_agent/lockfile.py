"""One relay agent per host: two processes driving the same pins would fight over mains."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path


class AlreadyRunning(RuntimeError):
    pass


class LockUnavailable(RuntimeError):
    """The lock file cannot be created at all (a config or volume problem, not a second instance)."""


class InstanceLock:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # read-only mount, missing volume: no lock, so no pins either
            raise LockUnavailable(f"cannot create the lock file {self.path}: "
                                  f"{exc.strerror or exc}; refusing to start, no pin touched") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise AlreadyRunning(f"another relay_agent (pid {holder}) holds {self.path}; "
                                 f"refusing to start, no pin touched") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
