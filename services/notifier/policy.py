"""The pure no-spam policy: de-duplication by key, quiet hours, "resolved" only if told.

Per alert key we remember when it was last sent, whether a firing alert was sent and not yet
resolved (`open`), and at most one alert held back by quiet hours (the latest news wins:
an alert held at 23:00 and resolved at 02:00 is never sent at all).

`decide(now, policy, state, alert)` -> (state, alerts to send now)
`release(now, policy, state)`       -> (state, held alerts that may go now)
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Mapping

from circuitq.config.notifier import QuietHours
from circuitq.payloads import Alert


@dataclass(frozen=True)
class Policy:
    tz: tzinfo
    min_interval_s: float = 3600
    quiet: QuietHours | None = None
    intervals_s: Mapping[str, float] | None = None  # per-key override (rules' min_interval_min)

    def interval(self, key: str) -> timedelta:
        s = (self.intervals_s or {}).get(key, self.min_interval_s)
        return timedelta(seconds=s)

    def is_quiet(self, now: datetime) -> bool:
        if self.quiet is None:
            return False
        start, end = self.quiet.between
        t = now.astimezone(self.tz).time()
        return start <= t < end if start < end else (t >= start or t < end)

    def held_back(self, now: datetime, alert: Alert) -> bool:
        return self.is_quiet(now) and alert.priority < self.quiet.min_priority


@dataclass(frozen=True)
class KeyState:
    last_sent: datetime | None = None
    open: bool = False          # a firing alert went out and no "resolved" since
    held: Alert | None = None   # waiting for quiet hours to end

    def to_json(self) -> dict:
        return {"last_sent": self.last_sent.isoformat() if self.last_sent else None,
                "open": self.open, "held": self.held.model_dump(mode="json") if self.held else None}

    @classmethod
    def from_json(cls, d: dict) -> "KeyState":
        return cls(last_sent=datetime.fromisoformat(d["last_sent"]) if d.get("last_sent") else None,
                   open=bool(d.get("open")),
                   held=Alert.model_validate(d["held"]) if d.get("held") else None)


State = Mapping[str, KeyState]


def _put(state: State, key: str, ks: KeyState) -> dict[str, KeyState]:
    out = dict(state)
    if ks == KeyState():
        out.pop(key, None)
    else:
        out[key] = ks
    return out


def _send(state: State, ks: KeyState, alert: Alert, now: datetime):
    if alert.resolved:
        ks = replace(ks, open=False, held=None)  # last_sent kept: a flapping alert stays quiet
    else:
        ks = KeyState(last_sent=now, open=True, held=None)
    return _put(state, alert.key, ks), [alert]


def _consider(now: datetime, policy: Policy, state: State, alert: Alert, quiet_ok: bool):
    ks = state.get(alert.key, KeyState())
    if alert.resolved:
        if not ks.open:  # we never told anyone it was wrong: nothing to take back
            return _put(state, alert.key, replace(ks, held=None)), []
    elif ks.last_sent is not None and now - ks.last_sent < policy.interval(alert.key):
        return _put(state, alert.key, replace(ks, held=None) if ks.open else ks), []
    if not quiet_ok and policy.held_back(now, alert):
        return _put(state, alert.key, replace(ks, held=alert)), []
    return _send(state, ks, alert, now)


def decide(now: datetime, policy: Policy, state: State, alert: Alert):
    """A new alert (from a rule or another service): send it now, hold it, or drop it."""
    return _consider(now, policy, state, alert, quiet_ok=False)


def release(now: datetime, policy: Policy, state: State):
    """Send what quiet hours held, once they are over (call every minute or so)."""
    if policy.is_quiet(now):
        return dict(state), []
    out, sent = dict(state), []
    for key, ks in state.items():
        if ks.held is not None:
            held = ks.held
            out = _put(out, key, replace(ks, held=None))
            out, more = _consider(now, policy, out, held, quiet_ok=True)
            sent += more
    return out, sent
