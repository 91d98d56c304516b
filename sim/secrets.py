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


def make_dev_secrets(path: Path, apprise_urls: list[str] | None = None) -> dict:
    data = {
        "mqtt_users": {u: rnd.token_urlsafe(12) for u in SERVICES + (USER,)},
        **FAKE_CLOUD,
        "apprise_urls": apprise_urls or [],
    }
    write_private_yaml(path, data)
    return data


def write_private_yaml(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(data, f, sort_keys=False)
    os.chmod(path, 0o600)
