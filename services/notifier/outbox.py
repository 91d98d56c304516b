"""The outbox: alerts waiting for delivery, per channel, first in first out. Pure data.

Each channel ("prowl", "apprise:<hash>") delivers its oldest pending item first, so a
"resolved" never overtakes its alert. A failure blocks only that channel until its retry
time (backoff, or Prowl's resetdate). The shell persists `to_json()` after every change, so
a restart (even kill -9) delivers what was pending: at least once, never lost.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from circuitq.payloads import Alert


@dataclass
class Item:
    id: str
    alert: Alert
    created: datetime
    pending: list[str]  # channel ids still to deliver to

    def to_json(self) -> dict:
        return {"id": self.id, "alert": self.alert.model_dump(mode="json"),
                "created": self.created.isoformat(), "pending": list(self.pending)}

    @classmethod
    def from_json(cls, d: dict) -> "Item":
        return cls(d["id"], Alert.model_validate(d["alert"]), datetime.fromisoformat(d["created"]),
                   list(d["pending"]))


@dataclass
class Channel:
    failures: int = 0                  # consecutive
    next_at: datetime | None = None    # do not try before
    reset_at: datetime | None = None   # Prowl: when the hourly allowance comes back
    last_error: str = ""

    def to_json(self) -> dict:
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {"failures": self.failures, "next_at": iso(self.next_at), "reset_at": iso(self.reset_at),
                "last_error": self.last_error}

    @classmethod
    def from_json(cls, d: dict) -> "Channel":
        dt = lambda s: datetime.fromisoformat(s) if s else None  # noqa: E731
        return cls(int(d.get("failures", 0)), dt(d.get("next_at")), dt(d.get("reset_at")),
                   d.get("last_error", ""))


def backoff(failures: int, min_s: float, max_s: float) -> timedelta:
    """min_s, 2*min_s, 4*min_s ... capped at max_s."""
    return timedelta(seconds=min(max_s, min_s * 2 ** max(0, failures - 1)))


@dataclass
class Outbox:
    items: list[Item] = field(default_factory=list)
    channels: dict[str, Channel] = field(default_factory=dict)

    def add(self, alert: Alert, channel_ids: list[str], now: datetime) -> Item | None:
        if not channel_ids:
            return None
        item = Item(uuid.uuid4().hex[:12], alert, now, list(channel_ids))
        self.items.append(item)
        return item

    def head(self, channel: str) -> Item | None:
        return next((i for i in self.items if channel in i.pending), None)

    def due(self, now: datetime, busy: set[str]) -> list[tuple[str, Item]]:
        out = []
        for ch in sorted({c for i in self.items for c in i.pending} - busy):
            state = self.channels.get(ch)
            if state is None or state.next_at is None or state.next_at <= now:
                out.append((ch, self.head(ch)))
        return out

    def next_wakeup(self, busy: set[str]) -> datetime | None:
        times = [self.channels[ch].next_at for ch in {c for i in self.items for c in i.pending} - busy
                 if ch in self.channels and self.channels[ch].next_at]
        return min(times, default=None)

    def done(self, channel: str, item_id: str) -> None:
        """Delivered (or given up) on this channel."""
        for item in self.items:
            if item.id == item_id and channel in item.pending:
                item.pending.remove(channel)
        self.items = [i for i in self.items if i.pending]
        ch = self.channels.setdefault(channel, Channel())
        ch.failures, ch.next_at, ch.last_error = 0, None, ""

    def failed(self, channel: str, error: str, retry_at: datetime) -> Channel:
        ch = self.channels.setdefault(channel, Channel())
        ch.failures += 1
        ch.next_at, ch.last_error = retry_at, error
        return ch

    def drop_channel(self, channel: str) -> int:
        """Forget every pending delivery to a channel (permanent failure, channel removed)."""
        n = 0
        for item in self.items:
            if channel in item.pending:
                item.pending.remove(channel)
                n += 1
        self.items = [i for i in self.items if i.pending]
        return n

    def expired(self, now: datetime, max_age: timedelta) -> list[tuple[str, Item]]:
        return [(ch, i) for i in self.items if now - i.created > max_age for ch in i.pending]

    def to_json(self) -> dict:
        return {"items": [i.to_json() for i in self.items],
                "channels": {k: v.to_json() for k, v in self.channels.items()}}

    @classmethod
    def from_json(cls, d: dict) -> "Outbox":
        return cls([Item.from_json(i) for i in d.get("items", [])],
                   {k: Channel.from_json(v) for k, v in d.get("channels", {}).items()})
