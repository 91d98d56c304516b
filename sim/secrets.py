"""Development secrets: random broker passwords and the fake clouds' credentials."""
from __future__ import annotations

import os
import secrets as rnd
from pathlib import Path

import yaml

from circuitq import SERVICES
from circuitq.topics import USER

# Credentials the fake cloud servers in sim/fakes accept (they are not real accounts).
FAKE_CLOUD = {
    "curb": {"username": "owner@example.com", "password": "curb-pass",
             "client_id": "curb-client", "client_secret": "curb-secret"},
    "enphase": {"api_key": "e" * 32, "client_id": "enphase-client", "client_secret": "enphase-secret",
                "refresh_token": "enphase-refresh-0"},
    "envoy": {"token": "envoy-jwt"},
    "pvoutput": {"api_key": "a" * 40, "system_id": "12345"},
    "ecobee": {"app_key": "ecobee-app-key"},
    "prowl": {"api_key": "b" * 40},
}


DEV_WEB_USER = "household"  # the page's login in the demo and the tests


def make_dev_secrets(path: Path, apprise_urls: list[str] | None = None) -> dict:
    data = {
        "mqtt_users": {u: rnd.token_urlsafe(12) for u in SERVICES + (USER,)},
        **FAKE_CLOUD,
        "apprise_urls": apprise_urls or [],
    }
    add_dev_web_login(path, data)
    write_private_yaml(path, data)
    return data


def ensure_dev_secrets(path: Path) -> dict:
    """The dev secrets at `path`, keeping the passwords a phone app already has, with whatever
    a newer fleet needs added (a new service's broker user, the page's login)."""
    if not path.exists():
        return make_dev_secrets(path)
    data = yaml.safe_load(path.read_text()) or {}
    users = data.setdefault("mqtt_users", {})
    missing = [u for u in SERVICES + (USER,) if u not in users]
    for u in missing:
        users[u] = rnd.token_urlsafe(12)
    if missing or not web_login_path(path).exists():
        add_dev_web_login(path, data)
        write_private_yaml(path, data)
    return data


def web_login_path(secrets_path: Path) -> Path:
    """Where the demo keeps the page's password in clear (the secrets file has only its hash)."""
    return Path(secrets_path).with_name(Path(secrets_path).stem + ".web-login")


def add_dev_web_login(path: Path, data: dict) -> None:
    from services.web.auth import hash_password  # scrypt; only the hash goes in the secrets
    password = rnd.token_urlsafe(9)
    data["web"] = {"users": {DEV_WEB_USER: hash_password(password)}}
    login = web_login_path(path)
    login.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(login, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"{DEV_WEB_USER}\n{password}\n")


def dev_web_login(secrets_path: Path) -> tuple[str, str]:
    """(user, password) of the page in the demo and the tests."""
    user, password = web_login_path(secrets_path).read_text().split("\n")[:2]
    return user, password


def write_private_yaml(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(data, f, sort_keys=False)
    os.chmod(path, 0o600)
