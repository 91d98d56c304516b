"""What a FleetClient says about itself: the heartbeat, the broker's reachability, and alerts
for state files it can no longer write. Pure payload builders and small trackers; the client
(circuitq/mqtt.py) does the I/O.

Why a heartbeat: a retained `online` survives a broker restart (persistence) and a retained
load state survives its scheduler. Every retained message a service owns is published with an
MQTT 5 message expiry (`EXPIRE_AFTER_S`) and sent again every `HEARTBEAT_S`, and
`<base>/<service>/heartbeat` carries `ts` and `expires`: a client that sees `expires` in the
past (or no heartbeat at all) knows the owner is gone, whatever `status` still says. Home
Assistant: `expire_after: EXPIRE_AFTER_S` on any entity fed by such a topic.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .payloads import Alert

log = logging.getLogger("circuitq.mqtt")


def _env_s(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        raise SystemExit(f"{name}={os.environ[name]!r}: expected seconds") from None


# Seconds between heartbeats (and re-sends of the retained states a service owns).
HEARTBEAT_S = _env_s("CIRCUITQ_HEARTBEAT_S", 30.0)
# A retained message a service owns expires this long after it was last sent: 2.5 heartbeats,
# so one heartbeat lost or late on a loaded Pi does not mark a live service as gone.
EXPIRE_AFTER_S = 2.5 * HEARTBEAT_S
# While the broker is unreachable: one log line at once, then one every this many seconds.
BROKER_LOG_EVERY_S = 30.0


@dataclass
class BrokerLink:
    """Is the broker reachable, since when not, and why (for the log and the heartbeat)."""
    host: str
    port: int
    connected: bool = False
    error: str | None = None
    down_since: float | None = None  # monotonic
    down_since_wall: datetime | None = None
    last_logged: float | None = None
    outages: int = 0
    last_outage_s: float | None = None

    def down(self, error: str, mono: float, wall: datetime) -> None:
        if self.connected or self.down_since is None:
            self.down_since, self.down_since_wall = mono, wall
            self.last_logged = None
        self.connected, self.error = False, error
        self.maybe_log(mono)

    def maybe_log(self, mono: float) -> None:
        """The log line: at once, then every BROKER_LOG_EVERY_S while it stays unreachable."""
        if self.connected or self.down_since is None:
            return
        if self.last_logged is None or mono - self.last_logged >= BROKER_LOG_EVERY_S - 0.01:
            self.last_logged = mono
            log.warning("broker %s:%s unreachable for %.0f s: %s (retrying)", self.host, self.port,
                        mono - self.down_since, self.error)

    def up(self, mono: float) -> None:
        if self.down_since is not None and self.error is not None:
            self.outages += 1
            self.last_outage_s = round(mono - self.down_since, 1)
            log.info("broker %s:%s reachable again after %.0f s", self.host, self.port, self.last_outage_s)
        self.connected, self.error, self.down_since, self.down_since_wall = True, None, None, None

    def as_dict(self) -> dict:
        return {"host": self.host, "port": self.port, "connected": self.connected, "error": self.error,
                "down_since": self.down_since_wall.isoformat() if self.down_since_wall else None,
                "outages": self.outages, "last_outage_s": self.last_outage_s}


def heartbeat(service: str, now: datetime, started: datetime, connected_since: datetime | None,
              broker: BrokerLink, failing: dict[Path, tuple[str, str]]) -> dict:
    """The `<base>/<service>/heartbeat` payload: alive until `expires`."""
    return {"service": service, "ts": now.isoformat(),
            "expires": (now + timedelta(seconds=EXPIRE_AFTER_S)).isoformat(),
            "interval_s": HEARTBEAT_S, "started": started.isoformat(), "pid": os.getpid(),
            "connected_since": connected_since.isoformat() if connected_since else None,
            "broker": broker.as_dict(),
            "not_persisted": {str(p): f"{what}: {err}" for p, (what, err) in sorted(failing.items())}}


def persistence_alert(service: str, path: Path, what: str, error: str | None, now: datetime) -> Alert:
    """Raised when a state file cannot be written; resolved (same key) when it can again."""
    key = f"persist:{service}:{path.name}"
    if error is None:
        return Alert(key=key, title=f"{service}: saving works again",
                     message=f"{service} writes {path} again: {what} kept again", priority=-1,
                     source=service, resolved=True, ts=now)
    return Alert(key=key, title=f"{service} cannot save its state",
                 message=f"{service} cannot write {path} ({error}): {what} no longer kept; a restart "
                         f"now would lose them. Outputs keep their safety rules.",
                 priority=1, source=service, ts=now)
