"""Build the broker's password file from the secrets file's `mqtt_users`.

    python -m mosquitto.make_passwd --secrets config/secrets.yaml --out mosquitto/passwd

Passwords are hashed by Debian's own `mosquitto_passwd -U`; the output is mode 600.
Every service user and the `user` account must have a password, or the broker would
refuse them at start-up with no clue why.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from circuitq import SERVICES
from circuitq.config import ConfigError, Secrets, load_secrets
from circuitq.config import CircuitqConfig
from circuitq.topics import USER


def build(secrets: Secrets, out: Path) -> None:
    missing = [u for u in SERVICES + (USER,) if not secrets.mqtt_users.get(u)]
    if missing:
        raise ConfigError(f"secrets: mqtt_users has no password for {', '.join(missing)}")
    exe = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        for user, pw in secrets.mqtt_users.items():
            if ":" in user or "\n" in pw:
                raise ConfigError(f"secrets: mqtt_users.{user}: no ':' in names, no newlines in passwords")
            f.write(f"{user}:{pw}\n")
    subprocess.run([exe, "-U", str(tmp)], check=True, capture_output=True)
    os.replace(tmp, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--secrets", default="config/secrets.yaml")
    ap.add_argument("--out", default="mosquitto/passwd")
    a = ap.parse_args(argv)
    try:
        secrets = load_secrets(CircuitqConfig(secrets_file=Path(a.secrets)), required=True)
        build(secrets, Path(a.out))
    except ConfigError as exc:
        print(f"make_passwd: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {a.out} for {len(secrets.mqtt_users)} users")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
