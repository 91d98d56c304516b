"""Broker connection settings. Environment variables override the file."""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from .base import StrictModel


class TlsConfig(StrictModel):
    ca_file: Path | None = None
    insecure: bool = False  # skip hostname check (self-signed broker on the LAN)


class MqttConfig(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    base_topic: str = Field("circuitq", pattern=r"^[A-Za-z0-9_\-/]+$")
    # Defaults to the service name: each service has its own broker user (see mosquitto/acl).
    username: str | None = None
    password_file: Path | None = None
    # true only for a broker that takes clients without a password (not the fleet's own,
    # which refuses them): then a service starts without a password or a secrets file.
    anonymous: bool = False
    keepalive_s: int = Field(15, ge=5, le=600)
    reconnect_min_s: float = Field(1.0, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    tls: TlsConfig | None = None
    discovery_prefix: str = "homeassistant"


ENV_PREFIX = "CIRCUITQ_MQTT_"


def apply_env(cfg: MqttConfig, env: dict[str, str] | None = None) -> MqttConfig:
    """CIRCUITQ_MQTT_HOST/PORT/USERNAME/PASSWORD_FILE override the file (12-factor)."""
    env = os.environ if env is None else env
    update: dict = {}
    if env.get(ENV_PREFIX + "HOST"):
        update["host"] = env[ENV_PREFIX + "HOST"]
    if env.get(ENV_PREFIX + "PORT"):
        update["port"] = int(env[ENV_PREFIX + "PORT"])
    if env.get(ENV_PREFIX + "USERNAME"):
        update["username"] = env[ENV_PREFIX + "USERNAME"]
    if env.get(ENV_PREFIX + "PASSWORD_FILE"):
        update["password_file"] = Path(env[ENV_PREFIX + "PASSWORD_FILE"])
    return MqttConfig.model_validate({**cfg.model_dump(), **update})
