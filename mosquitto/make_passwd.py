"""Build the broker's password file from the secrets file's `mqtt_users`.

    python -m mosquitto.make_passwd --secrets config/secrets.yaml --out mosquitto/passwd \\
        [--owner mosquitto]

Mosquitto 2 drops privileges before it reads this file, so the file must belong to the
broker's user: `--owner 1883` in the eclipse-mosquitto container (`docker compose run --rm
passwd` does it), `--owner mosquitto` on Debian (scripts/install-pi.sh does it); both need
root. The file is mode 600.

Hashes are Mosquitto 2's own `$7$` format (PBKDF2-HMAC-SHA512, 101 iterations, 12-byte
salt, as `mosquitto_passwd` writes them), made with hashlib, so this runs wherever the
fleet's Python runs, the circuitq image included, with no mosquitto installed.
Every service user and the `user` account must have a real password: a missing one or a
placeholder from config/secrets.example.yaml (`change-me-...`) is refused.
"""
from __future__ import annotations

import argparse
import base64
import grp
import hashlib
import os
import pwd
import sys
from pathlib import Path

from circuitq import SERVICES
from circuitq.config import CircuitqConfig, ConfigError, Secrets, load_secrets
from circuitq.topics import USER

ITERATIONS = 101  # mosquitto_passwd's PW_DEFAULT_ITERATIONS
SALT_BYTES = 12
PLACEHOLDER = "change-me"


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def parse_owner(owner: str) -> tuple[int, int]:
    """'mosquitto', 'mosquitto:mosquitto', '1883' or '1883:1883' -> (uid, gid)."""
    user, _, group = owner.partition(":")
    try:
        if user.isdigit():
            uid = int(user)
            gid = int(group) if group.isdigit() else (grp.getgrnam(group).gr_gid if group else uid)
        else:
            entry = pwd.getpwnam(user)
            uid = entry.pw_uid
            gid = (int(group) if group.isdigit() else grp.getgrnam(group).gr_gid) if group else entry.pw_gid
    except KeyError as exc:
        raise ConfigError(f"--owner {owner}: no such user or group {exc}") from None
    return uid, gid


def check(secrets: Secrets) -> None:
    missing = [u for u in SERVICES + (USER,) if not secrets.mqtt_users.get(u)]
    if missing:
        raise ConfigError(f"secrets: mqtt_users has no password for {', '.join(missing)}")
    placeholders = [u for u, pw in secrets.mqtt_users.items() if pw.lower().startswith(PLACEHOLDER)]
    if placeholders:
        raise ConfigError(f"secrets: mqtt_users {', '.join(placeholders)}: still the example's placeholder "
                          f"password ({PLACEHOLDER}-...); set a real one for each "
                          f"(e.g. from: openssl rand -base64 18)")
    for user, pw in secrets.mqtt_users.items():
        if ":" in user or "\n" in pw or "\n" in user:
            raise ConfigError(f"secrets: mqtt_users.{user}: no ':' in names, no newlines in passwords")


def build(secrets: Secrets, out: Path, owner: str | None = None) -> None:
    """Write `out` (mode 600, owned by `owner` when given) in one step: the broker never
    reads half a file."""
    check(secrets)
    ids = parse_owner(owner) if owner else None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        for user, pw in secrets.mqtt_users.items():
            f.write(f"{user}:{hash_password(pw)}\n")
    if ids:
        try:
            os.chown(tmp, *ids)
        except PermissionError:
            tmp.unlink()
            raise ConfigError(f"cannot give {out} to {owner}: only root can (run it with sudo)") from None
    os.replace(tmp, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--secrets", default="config/secrets.yaml")
    ap.add_argument("--out", default="mosquitto/passwd")
    ap.add_argument("--owner", help="user[:group] the broker runs as (1883 in the container, mosquitto on Debian)")
    a = ap.parse_args(argv)
    try:
        secrets = load_secrets(CircuitqConfig(secrets_file=Path(a.secrets)), required=True)
        build(secrets, Path(a.out), a.owner)
    except ConfigError as exc:
        print(f"make_passwd: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {a.out} for {len(secrets.mqtt_users)} users" + (f", owner {a.owner}, mode 600" if a.owner else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
