"""The web service's I/O shell: config, broker client, live hub, and uvicorn.

The MQTT client is the fleet's FleetClient under the `web` broker user, whose ACL lets it read
states and write only `/set` topics: the page can do nothing a phone app on `user` cannot.
"""
from __future__ import annotations

import ctypes
import signal
import sys

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from circuitq import timefmt
from circuitq.clock import SystemClock
from circuitq.config import ConfigError, load_config, load_secrets
from circuitq.log import setup_logging
from circuitq.mqtt import FleetClient
from circuitq.service import arg_parser, broker_password
from circuitq.state import check_state_dir

from .app import STATIC, WebContext, make_app
from .auth import Sessions, Throttle, Tokens
from .live import Hub

NAME = "web"
VENDOR = STATIC / "vendor" / "uPlot.iife.min.js"


def tame_malloc() -> None:
    """glibc keeps freed memory: each login's scrypt takes 16 MiB (n=2^14, r=8) and, once glibc
    has raised its mmap threshold past that size, the next one is carved from the heap and never
    given back (+16 MiB RSS for good). A fixed threshold keeps big blocks in mmap, returned on
    free; two arenas stop each worker thread from growing its own. Other C libraries: no-op."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD: fixed, so no longer adjusted upwards
        libc.mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def web_users(cfg) -> dict[str, str]:
    secrets = load_secrets(cfg)
    users = secrets.web.users if secrets.web is not None else {}
    if not users:
        raise ConfigError(f"{cfg.secrets_file}: no web.users: the page admits nobody anonymously. Add a "
                          f"login with `python -m services.web hash-password --user NAME`")
    return users


def open_tokens(cfg) -> Tokens:
    check_state_dir(cfg.state_dir, "the page's sessions and API tokens")
    return Tokens(cfg.state_dir / "web_tokens.json")


def serve(argv: list[str]) -> int:
    import uvicorn
    args = arg_parser(NAME).parse_args(argv)
    try:
        if not args.config:
            raise ConfigError("no config file given: pass --config PATH (or set CIRCUITQ_CONFIG)")
        cfg = load_config(args.config)
        password = broker_password(cfg, NAME)
        users = web_users(cfg)
        if not VENDOR.exists():
            raise ConfigError(f"{VENDOR}: the charting library is not built; run `bash scripts/setup.sh` "
                              f"(or `npm ci --prefix services/web`)")
        tokens = open_tokens(cfg)
        sessions = Sessions(cfg.state_dir / "web_sessions.json", cfg.web.session_days)
    except ConfigError as exc:
        print(f"{NAME}: configuration error:\n{exc}", file=sys.stderr)
        return 2
    tame_malloc()
    log = setup_logging(NAME, args.log_level or cfg.log_level)
    timefmt.set_site_timezone(cfg.site.tz)
    clock = SystemClock()
    client = FleetClient(NAME, cfg.mqtt, password, clock=clock)
    base = cfg.mqtt.base_topic
    hub = Hub(base)
    # Every topic the ACL lets `web` read; paho's per-filter callback hands over whole messages
    # (the `by` user property of overrides). FleetClient resubscribes it at every connect.
    client.subscribe(f"{base}/#", lambda *_: None, qos=1)
    client.paho.message_callback_add(f"{base}/#", hub.on_message)
    client.on_connect_hooks.append(lambda: hub.set_broker(True))
    client.on_disconnect_hooks.append(lambda: hub.set_broker(False))

    def publish(topic: str, payload: str, by: str) -> None:
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = ("by", by)
        client.paho.publish(topic, payload, qos=1, retain=False, properties=props)

    ctx = WebContext(cfg, users, sessions, tokens, Throttle(cfg.web.login_attempts, cfg.web.lockout_s), hub,
                     clock, publish, cfg.recorder.path(cfg.state_dir))
    tls = cfg.web.tls
    # h11 and plain asyncio: pure Python, no optional C extensions to look for or to build on a Pi
    config = uvicorn.Config(make_app(ctx), host=cfg.web.host, port=cfg.web.port, log_level="warning",
                            http="h11", ws="none", loop="asyncio",
                            access_log=False, timeout_graceful_shutdown=3, lifespan="off",
                            ssl_certfile=str(tls.cert_file) if tls else None,
                            ssl_keyfile=str(tls.key_file) if tls else None)
    server = uvicorn.Server(config)

    def _stop(signum, frame):  # before uvicorn's own handlers exist, and after it re-raises them
        server.should_exit = True
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    client.start()
    scheme = "https" if tls else "http"
    log.info("the page: %s://%s:%s/ (%d login%s)", scheme, cfg.web.host, cfg.web.port, len(users),
             "" if len(users) == 1 else "s")
    try:
        server.run()
    finally:
        client.stop()
    log.info("stopped")
    return 0 if server.started else 1
