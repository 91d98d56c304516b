"""The I/O shell every service shares: args, config, logging, client, loop, signals.

A service module defines `build(ctx) -> Service` and calls `run("name", build)` from its
`__main__`. Start-up order: config (exit 2 on error, touching nothing) -> service.start()
(the relay agent applies boot states here, before any network) -> MQTT -> loop.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from typing import Callable, Protocol

from . import sdnotify, timefmt, topics
from .clock import Clock, SystemClock
from .config import NO_CONFIG, CircuitqConfig, ConfigError, Secrets, load_config, load_secrets, mqtt_password
from .log import setup_logging
from .loop import EventLoop
from .mqtt import FleetClient


class StartupError(ConfigError):
    """A problem with what the service was started with (no config, no GPIO library), told in
    one line: `<service>: <message>`, exit 2."""


class Service(Protocol):
    def start(self) -> None: ...
    def shutdown(self) -> None: ...


@dataclass
class ServiceContext:
    name: str
    cfg: CircuitqConfig
    secrets: Secrets
    clock: Clock
    loop: EventLoop
    client: FleetClient
    log: logging.Logger
    args: argparse.Namespace = field(default_factory=argparse.Namespace)

    @property
    def base(self) -> str:
        return self.cfg.mqtt.base_topic

    def state_path(self, filename: str):
        self.cfg.state_dir.mkdir(parents=True, exist_ok=True)
        return self.cfg.state_dir / filename


def arg_parser(name: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=f"python -m services.{name}")
    ap.add_argument("--config", default=os.environ.get("CIRCUITQ_CONFIG"),
                    help="house config YAML (required; default $CIRCUITQ_CONFIG)")
    ap.add_argument("--log-level", default=None)
    return ap


def broker_password(cfg: CircuitqConfig, service: str, env: dict[str, str] | None = None) -> str | None:
    """The password `service` logs in with. No guessing: a missing secrets file or password is
    a ConfigError naming the file, unless the config says the broker takes clients without one."""
    env = os.environ if env is None else env
    user = cfg.mqtt.username or service
    if cfg.mqtt.anonymous:
        return None
    if cfg.secrets_file is not None and not cfg.secrets_file.exists():
        raise ConfigError(
            f"{cfg.secrets_file}: secrets file not found: copy config/secrets.example.yaml there, "
            f"chmod 600 it and set the broker passwords (a broker that takes clients without a "
            f"password: set mqtt.anonymous: true)")
    password = mqtt_password(cfg, service, env)
    if not password:
        where = cfg.secrets_file or "secrets_file (not set), mqtt.password_file or CIRCUITQ_MQTT_PASSWORD"
        raise ConfigError(f"{where}: no broker password for MQTT user {user} (mqtt_users.{user})")
    return password


def make_context(name: str, args: argparse.Namespace, clock: Clock | None = None) -> ServiceContext:
    if not args.config:
        raise StartupError(NO_CONFIG)
    cfg = load_config(args.config)
    timefmt.set_site_timezone(cfg.site.tz)  # every published time in the site's offset
    password = broker_password(cfg, name)
    secrets = load_secrets(cfg)
    log = setup_logging(name, args.log_level or cfg.log_level)
    clock = clock or SystemClock()
    loop = EventLoop(clock)
    client = FleetClient(name, cfg.mqtt, password, dispatch=loop.post, clock=clock)
    loop.on_error = lambda where, exc: client.report_own_error(where, f"{type(exc).__name__}: {exc}")
    return ServiceContext(name, cfg, secrets, clock, loop, client, log, args)


def _notifies_systemd_itself(service) -> bool:
    """A service with a keep-alive of its own (the relay agent's keepalive.py pings only while
    its outputs are healthy, so a hung command stops the pings) tells systemd itself; a
    ping from the loop here would hide exactly that."""
    return bool(getattr(service, "notifies_systemd", False) or getattr(service, "keepalive", None))


def _tell_systemd(ctx: ServiceContext) -> None:
    """READY=1 now; WATCHDOG=1 from the event loop itself, so a stuck loop misses its pings."""
    sdnotify.notify("READY=1")
    interval = sdnotify.watchdog_interval_s()
    if interval:
        def ping() -> None:
            sdnotify.notify("WATCHDOG=1")
            ctx.loop.call_later(interval, ping)
        ping()


def run(name: str, build: Callable[[ServiceContext], Service], argv: list[str] | None = None,
        parser: argparse.ArgumentParser | None = None) -> int:
    args = (parser or arg_parser(name)).parse_args(argv)
    try:
        ctx = make_context(name, args)
        service = build(ctx)
    except StartupError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"{name}: configuration error:\n{exc}", file=sys.stderr)
        return 2

    def _stop(signum, frame):
        ctx.log.info("signal %s: shutting down", signal.Signals(signum).name)
        ctx.loop.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    service.start()
    ctx.client.start()
    generic_notify = not _notifies_systemd_itself(service)
    if generic_notify:
        _tell_systemd(ctx)
    try:
        ctx.loop.run()
    finally:
        if generic_notify:
            sdnotify.notify("STOPPING=1")
        try:
            service.shutdown()
        finally:
            ctx.client.stop()
    ctx.log.info("stopped")
    return 0


__all__ = ["ServiceContext", "StartupError", "run", "arg_parser", "make_context", "broker_password", "topics"]
