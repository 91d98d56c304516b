"""Config loading: one YAML file for the whole house, one section per service.

Every service validates the whole file, so a typo anywhere is caught by whichever service
starts first, with the file, the key path and the line: `config.yaml: line 42:
relays.pool_pump.min_on_s: Input should be a valid number`.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from .base import StrictModel
from .curb import CurbConfig
from .ecobee import EcobeeConfig
from .mqtt import MqttConfig, apply_env
from .notifier import NotifierConfig
from .recorder import RecorderConfig
from .relays import DrmOutputConfig, RelayAgentConfig, RelayConfig
from .scheduler import LoadConfig, SchedulerConfig, cross_check
from .secrets import Secrets, SecretsError, check_private
from .site import SiteConfig
from .simulation import SimulationConfig, cross_check as simulation_check
from .solar import SolarConfig
from .tariff import TariffConfig
from .web import WebConfig

__all__ = ["CircuitqConfig", "ConfigError", "load_config", "load_secrets", "mqtt_password", "Secrets"]


class CircuitqConfig(StrictModel):
    site: SiteConfig = Field(default_factory=SiteConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    state_dir: Path = Path("state")  # overrides, tokens, switch counts: kept across restarts
    secrets_file: Path | None = Path("config/secrets.yaml")
    log_level: str = "INFO"
    relay_agent: RelayAgentConfig = Field(default_factory=RelayAgentConfig)
    relays: dict[str, RelayConfig] = Field(default_factory=dict)
    drm_outputs: dict[str, DrmOutputConfig] = Field(default_factory=dict)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    tariff: TariffConfig | None = None
    loads: dict[str, LoadConfig] = Field(default_factory=dict)
    curb: CurbConfig | None = None
    solar: SolarConfig | None = None
    ecobee: EcobeeConfig | None = None
    notifier: NotifierConfig | None = None
    recorder: RecorderConfig = Field(default_factory=RecorderConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    simulation: SimulationConfig | None = None  # only `python -m sim.simulate` reads it

    @model_validator(mode="after")
    def _names_exist(self):
        cross_check(self)  # loads -> calendars, relays, DRM outputs (messages name the key)
        simulation_check(self)  # simulated appliances -> loads of the right kind
        return self


class ConfigError(Exception):
    """A config or secrets problem, already phrased for the user (file, line, key path)."""


NO_CONFIG = ("no config file given: pass --config PATH (or set CIRCUITQ_CONFIG); "
             "copy config/example.yaml to start one")


def _line_of(node, loc: tuple) -> int | None:
    """Line (1-based) of the YAML node at key path `loc`, as deep as it can be found."""
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(key):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _read_yaml(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return yaml.safe_load(text) or {}, yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(f"{path}: {where}{getattr(exc, 'problem', exc)}") from None


def validate(model: type[StrictModel], data, path: Path, root_node=None):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            key = ".".join(str(p) for p in loc) or "(top level)"
            ln = _line_of(root_node, loc) if root_node is not None else None
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling)"
            lines.append(f"{path}: {'line %d: ' % ln if ln else ''}{key}: {msg}")
        raise ConfigError("\n".join(lines)) from None


def load_config(path: str | os.PathLike | None = None, env: dict[str, str] | None = None) -> CircuitqConfig:
    """Load and validate the house config; `path` defaults to $CIRCUITQ_CONFIG."""
    env = os.environ if env is None else env
    if not (path or env.get("CIRCUITQ_CONFIG")):
        # Never guess: a service that quietly read the example would drive real relays from it.
        raise ConfigError(NO_CONFIG)
    path = Path(path or env["CIRCUITQ_CONFIG"])
    data, node = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    cfg = validate(CircuitqConfig, data, path, node)
    try:
        cfg.mqtt = apply_env(cfg.mqtt, env)
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"environment CIRCUITQ_MQTT_*: {exc}") from None
    # Containers keep state and secrets at fixed paths whatever the file says.
    if env.get("CIRCUITQ_SECRETS"):
        cfg.secrets_file = Path(env["CIRCUITQ_SECRETS"])
    if env.get("CIRCUITQ_STATE_DIR"):
        cfg.state_dir = Path(env["CIRCUITQ_STATE_DIR"])
    return cfg


def load_secrets(cfg: CircuitqConfig, required: bool = False) -> Secrets:
    path = cfg.secrets_file
    if path is None or not path.exists():
        if required:
            raise ConfigError(f"{path}: secrets file not found (copy config/secrets.example.yaml, chmod 600)")
        return Secrets()
    try:
        check_private(path)
    except SecretsError as exc:
        raise ConfigError(str(exc)) from None
    data, node = _read_yaml(path)
    return validate(Secrets, data, path, node)


def mqtt_password(cfg: CircuitqConfig, service: str, env: dict[str, str] | None = None) -> str | None:
    """CIRCUITQ_MQTT_PASSWORD, else the password file, else secrets.mqtt_users[<username>]."""
    env = os.environ if env is None else env
    if env.get("CIRCUITQ_MQTT_PASSWORD"):
        return env["CIRCUITQ_MQTT_PASSWORD"]
    if cfg.mqtt.password_file:
        pf = Path(cfg.mqtt.password_file)
        try:
            check_private(pf)
            return pf.read_text(encoding="utf-8").strip()
        except SecretsError as exc:
            raise ConfigError(str(exc)) from None
        except OSError as exc:
            raise ConfigError(f"{pf}: cannot read MQTT password file: {exc.strerror}") from None
    user = cfg.mqtt.username or service
    return load_secrets(cfg).mqtt_users.get(user)
