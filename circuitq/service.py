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

from . import topics
from .clock import Clock, SystemClock
from .config import CircuitqConfig, ConfigError, Secrets, load_config, load_secrets, mqtt_password
from .log import setup_logging
from .loop import EventLoop
from .mqtt import FleetClient


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
                    help="house config YAML (default $CIRCUITQ_CONFIG, else config/example.yaml)")
    ap.add_argument("--log-level", default=None)
    return ap


def make_context(name: str, args: argparse.Namespace, clock: Clock | None = None) -> ServiceContext:
    cfg = load_config(args.config)
    secrets = load_secrets(cfg)
    log = setup_logging(name, args.log_level or cfg.log_level)
    clock = clock or SystemClock()
    loop = EventLoop(clock)
    client = FleetClient(name, cfg.mqtt, mqtt_password(cfg, name), dispatch=loop.post, clock=clock)
    loop.on_error = lambda where, exc: client.report_own_error(where, f"{type(exc).__name__}: {exc}")
    return ServiceContext(name, cfg, secrets, clock, loop, client, log, args)


def run(name: str, build: Callable[[ServiceContext], Service], argv: list[str] | None = None,
        parser: argparse.ArgumentParser | None = None) -> int:
    args = (parser or arg_parser(name)).parse_args(argv)
    try:
        ctx = make_context(name, args)
        service = build(ctx)
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
    try:
        ctx.loop.run()
    finally:
        try:
            service.shutdown()
        finally:
            ctx.client.stop()
    ctx.log.info("stopped")
    return 0


__all__ = ["ServiceContext", "run", "arg_parser", "make_context", "topics"]
