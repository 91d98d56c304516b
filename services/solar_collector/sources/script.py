"""An external program (dreadpi's external_script), run safely.

- argv list, never a shell; the executable name is limited to [A-Za-z0-9._/-];
- as root it runs as an unprivileged user (`nobody` by default), with no extra groups;
- a clean environment, cwd /, stdin closed, its own process group killed on timeout;
- output: one line, a number of watts optionally followed by a Unix timestamp
  (`1234` or `1234 1767225600`); without a timestamp the content time is now.
"""
from __future__ import annotations

import os
import pwd
import signal
import subprocess
from datetime import datetime

from circuitq.config import ConfigError
from circuitq.config.solar import SAFE_EXECUTABLE

from ..core import BadData, Sample, SourceError, Unreachable, epoch_to_dt, parse_watts

ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


def parse_output(out: str, now: datetime) -> Sample:
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    if len(lines) != 1:
        raise BadData(f"output must be one line, got {len(lines)}", raw=out[:200])
    parts = lines[0].split()
    if len(parts) > 2:
        raise BadData("output must be `watts [unix_time]`", raw=lines[0][:200])
    w = parse_watts(parts[0], "script output")
    ts = epoch_to_dt(parts[1], "script timestamp") if len(parts) == 2 else now
    return Sample(w, ts, lines[0][:200])


def privileges(user: str) -> dict:
    """Popen arguments that drop root to `user`; nothing when not root (already unprivileged)."""
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise ConfigError(f"script source: user {user!r} does not exist (needed to drop root)") from None
    if pw.pw_uid == 0:
        raise ConfigError("script source: refusing to run the script as root")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


class Script:
    def __init__(self, src, ctx):
        if not SAFE_EXECUTABLE.match(src.command[0]):  # config validated it; belt and braces
            raise ConfigError(f"script source: unsafe executable name {src.command[0]!r}")
        self.src, self.argv = src, list(src.command)
        self.describe = "script:" + self.argv[0]
        self.pause_until = None
        self.drop = privileges(src.user)

    def first_delay(self, now: datetime) -> float:
        return 0.0

    def read(self, now: datetime) -> Sample:
        try:
            proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=ENV, cwd="/", close_fds=True,
                                    start_new_session=True, **self.drop)
        except OSError as exc:
            raise SourceError(f"cannot run {self.argv[0]}: {exc.strerror}") from None
        try:
            out, err = proc.communicate(timeout=self.src.timeout_s)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the script and anything it started
            except ProcessLookupError:
                pass
            proc.communicate()
            raise Unreachable(f"{self.argv[0]} timed out after {self.src.timeout_s:g} s") from None
        text, errtext = out.decode("utf-8", "replace"), err.decode("utf-8", "replace").strip()
        if proc.returncode != 0:
            raise SourceError(f"{self.argv[0]} exited with status {proc.returncode}"
                              + (f": {errtext[:160]}" if errtext else ""), raw=text[:200])
        return parse_output(text, now)
