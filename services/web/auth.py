"""Who is asking: password hashes, login sessions, API tokens, and the pause after failed logins.

Passwords: scrypt from the standard library (memory-hard; n=2^14, r=8, p=1 is 16 MiB and about
50-100 ms on a Pi 4, enough to make guessing slow, short enough for a login). Stored in the
secrets file as `scrypt$n$r$p$salt$hash` (base64), never in clear.

Sessions and API tokens are random 256-bit secrets. Only their SHA-256 is kept on disk
(state_dir, mode 600), so a copied state file logs nobody in. Sessions end `session_days`
after login; logout ends one at once. Every state change made with a session must carry
its CSRF token (X-CSRF-Token header); an API token is sent in the Authorization header,
which a browser never adds by itself, so it needs none.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from circuitq.config.web import HASH_PREFIX
from circuitq.state import read_json, write_json_atomic

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
TOKEN_PREFIX = "cq_"


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"{HASH_PREFIX}{n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(want), maxmem=128 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


# A real hash to check against when the user does not exist: the answer takes as long.
_DUMMY = hash_password("not a password")


def check_login(users: dict[str, str], user: str, password: str) -> bool:
    stored = users.get(user)
    ok = verify_password(password, stored or _DUMMY)
    return ok and stored is not None


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass
class Principal:
    """Who made a request: a logged-in person, or an API token (and whose it is)."""
    user: str
    via: str  # "session" | "token"
    token_name: str | None = None
    csrf: str | None = None
    session_id: str | None = None

    @property
    def label(self) -> str:
        """What an override is audited with (MQTT 5 user property `by`)."""
        return self.user if self.via == "session" else f"{self.user} (token {self.token_name})"


class Sessions:
    """Login sessions, kept in state_dir so that a restart logs nobody out."""

    def __init__(self, path: Path, days: float):
        self.path, self.lifetime = path, timedelta(days=days)
        self.lock = threading.Lock()
        self.items: dict[str, dict] = read_json(path, {}) or {}

    def _save(self) -> None:
        write_json_atomic(self.path, self.items, what="the page's login sessions")

    def create(self, user: str, now: datetime) -> tuple[str, Principal]:
        sid = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        with self.lock:
            self.items = {k: v for k, v in self.items.items() if v["expires"] > now.timestamp()}
            self.items[_sha(sid)] = {"user": user, "csrf": csrf, "created": now.timestamp(),
                                     "expires": (now + self.lifetime).timestamp()}
            self._save()
        return sid, Principal(user, "session", csrf=csrf, session_id=sid)

    def get(self, sid: str | None, now: datetime, users: dict[str, str]) -> Principal | None:
        """The session's person, if it is known, unexpired and the user still exists."""
        if not sid:
            return None
        with self.lock:
            s = self.items.get(_sha(sid))
        if s is None or s["expires"] <= now.timestamp() or s["user"] not in users:
            return None
        return Principal(s["user"], "session", csrf=s["csrf"], session_id=sid)

    def end(self, sid: str) -> None:
        with self.lock:
            if self.items.pop(_sha(sid), None) is not None:
                self._save()


class Tokens:
    """API tokens for Shortcuts, Tasker or curl: `cq_<id>_<secret>`, each tied to a user."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        self.items: dict[str, dict] = {}
        self._mtime: float | None = None
        self._reload()

    def _reload(self) -> None:
        """Read the file again if it changed (`python -m services.web token` adds to it)."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            mtime = None
        if mtime != self._mtime:
            self.items, self._mtime = read_json(self.path, {}) or {}, mtime

    def _save(self) -> None:
        write_json_atomic(self.path, self.items, what="the API tokens")
        self._mtime = self.path.stat().st_mtime

    def create(self, name: str, user: str, now: datetime) -> str:
        tid, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        with self.lock:
            self._reload()
            self.items[tid] = {"name": name, "user": user, "hash": _sha(secret), "created": now.isoformat(),
                               "last_used": None}
            self._save()
        return f"{TOKEN_PREFIX}{tid}_{secret}"

    def check(self, token: str, now: datetime, users: dict[str, str]) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX) or token.count("_") < 2:
            return None
        tid, secret = token[len(TOKEN_PREFIX):].split("_", 1)
        with self.lock:
            self._reload()
            t = self.items.get(tid)
            if t is None or not hmac.compare_digest(t["hash"], _sha(secret)) or t["user"] not in users:
                return None
            t["last_used"] = now.isoformat()  # kept in memory; saved with the next change
        return Principal(t["user"], "token", token_name=t["name"])

    def listing(self) -> list[dict]:
        with self.lock:
            self._reload()
            return [{"id": k, **{f: v[f] for f in ("name", "user", "created", "last_used")}}
                    for k, v in sorted(self.items.items(), key=lambda kv: kv[1]["created"])]

    def revoke(self, tid: str) -> bool:
        with self.lock:
            self._reload()
            if self.items.pop(tid, None) is None:
                return False
            self._save()
            return True


class Throttle:
    """After `attempts` failed logins in a row for a name or an address, refuse it for
    `lockout_s` (even with the right password): guessing costs minutes, not milliseconds."""

    def __init__(self, attempts: int, lockout_s: float):
        self.attempts, self.lockout_s = attempts, lockout_s
        self.lock = threading.Lock()
        self.fails: dict[str, tuple[int, float]] = {}  # key -> (failures in a row, locked until)

    def wait_s(self, keys: list[str], mono: float) -> float:
        with self.lock:
            return max([self.fails.get(k, (0, 0.0))[1] - mono for k in keys] + [0.0])

    def failed(self, keys: list[str], mono: float) -> None:
        with self.lock:
            for k in keys:
                n, _ = self.fails.get(k, (0, 0.0))
                n += 1
                self.fails[k] = (n, mono + self.lockout_s if n >= self.attempts else 0.0)
            if len(self.fails) > 10000:  # an address scan must not grow this forever
                self.fails.clear()

    def succeeded(self, keys: list[str]) -> None:
        with self.lock:
            for k in keys:
                self.fails.pop(k, None)
