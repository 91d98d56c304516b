"""The secrets file: passwords and API keys, never in the main YAML. Must be chmod 600."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import Field

from .base import StrictModel
from .web import WebSecrets


class CurbSecrets(StrictModel):
    username: str
    password: str
    client_id: str
    client_secret: str


class EnphaseSecrets(StrictModel):
    api_key: str
    client_id: str
    client_secret: str
    # First refresh token (from the authorization-code flow); later ones are kept in state_dir.
    refresh_token: str | None = None
    auth_code: str | None = None


class EnvoySecrets(StrictModel):
    token: str


class PvoutputSecrets(StrictModel):
    api_key: str
    system_id: str


class ForecastSolarSecrets(StrictModel):
    api_key: str  # Forecast.Solar Personal plan and above; the public API needs none


class EcobeeSecrets(StrictModel):
    app_key: str


class ProwlSecrets(StrictModel):
    api_key: str
    provider_key: str | None = None


class Secrets(StrictModel):
    mqtt_users: dict[str, str] = Field(default_factory=dict)
    curb: CurbSecrets | None = None
    enphase: EnphaseSecrets | None = None
    envoy: EnvoySecrets | None = None
    pvoutput: PvoutputSecrets | None = None
    forecast_solar: ForecastSolarSecrets | None = None
    ecobee: EcobeeSecrets | None = None
    prowl: ProwlSecrets | None = None
    apprise_urls: list[str] = Field(default_factory=list)
    web: WebSecrets | None = None  # the page's logins (services/web)


class SecretsError(Exception):
    pass


def in_private_credentials_dir(path: Path, env: dict[str, str] | None = None) -> bool:
    """A systemd credential (LoadCredential=): systemd writes it into a directory of the unit's
    own that only root and the unit's user (by ACL) may read: its group bits, if any, belong
    to root's group, which grants no one else anything."""
    env = os.environ if env is None else env
    creds = env.get("CREDENTIALS_DIRECTORY")
    if not creds:
        return False

    def root_only(st: os.stat_result) -> bool:
        return not st.st_mode & stat.S_IRWXO and (not st.st_mode & stat.S_IRWXG or st.st_gid == 0)

    try:
        directory = Path(creds).resolve()
        if Path(path).resolve().parent != directory:
            return False
        return root_only(os.stat(directory)) and root_only(os.stat(path))
    except OSError:
        return False


def check_private(path: Path) -> None:
    """Refuse a secrets file that group or others can read (dreadpi's chmod 600 advice, enforced)."""
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and not in_private_credentials_dir(path):
        raise SecretsError(
            f"{path}: secrets file is readable by group or others (mode {stat.filemode(mode)}); "
            f"run: chmod 600 {path}"
        )
