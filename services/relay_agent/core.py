"""Pure decision core of one output (a relay, or a DRM output as a whole): no I/O, no clock.

Every method takes `now` (monotonic seconds and wall time) and returns the `Switch` it
decided, if any; the shell writes the pins. Values are 'on'/'off' for relays and mode
numbers for DRM outputs; the per-kind differences are data (`Limits`), not if-chains.

THE SAFETY-FALLBACK RULE (also in docs/relay_agent.md):
  A fallback to the safe state (lease expired, scheduler offline, broker lost, shutdown,
  watchdog) that only turns things OFF (`Limits.releases`: a relay going off, a DRM output
  only de-energising relays) is applied at once, ignoring min on time / min dwell: a relay
  never stays on past its lease. A transition that turns something ON - including a
  fallback to a safe state of `on` - respects min off time and the starts-per-hour budget
  like any command: it is held (pending) until allowed, because restarting a compressor or
  chattering a contactor is the harm those limits prevent.

THE RESTART RULE (a crash-looping agent must not click relays; docs/relay_agent.md):
  With no saved record of an output (first start, record lost or unreadable), it starts at
  its configured boot state. With a record, it starts at the SAVED level (the pins kept it
  while the process was down): if the saved command's lease is still running (same boot of
  the Pi, so the monotonic clock vouches for it) the command goes on until its lease ends;
  otherwise the output falls back to its safe state under the safety-fallback rule above
  (released at once, energised only when min off time and the starts budget allow).
  So a restart switches a relay only where safety demands it.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Hashable, Mapping

HOUR_S = 3600.0  # the starts/changes budget is a sliding window of this many seconds

REASONS: dict[str, str] = {
    "boot": "boot state applied at start-up, before connecting",
    "restored": "level kept from before the restart (its saved lease still runs)",
    "safe:restart": "restarted without a running lease: back to the safe state",
    "command": "commanded by the scheduler",
    "safe:lease_expired": "the command's lease ran out without renewal",
    "safe:scheduler_offline": "the scheduler went offline",
    "safe:broker_lost": "the broker was unreachable for longer than broker_grace_s",
    "safe:shutdown": "the relay agent shut down",
    "safe:watchdog": "the relay agent's main loop stalled (watchdog)",
    "hold:min_on": "minimum on time not yet served",
    "hold:min_off": "minimum off time not yet served",
    "hold:max_starts": "starts-per-hour budget spent",
    "hold:min_dwell": "minimum time in a DRM mode not yet served",
    "hold:max_changes": "mode-changes-per-hour budget spent",
    "fault:readback": "the pin reads back a different level than was written",
}


def reason_text(code: str) -> str:
    return REASONS.get(code, code)


@dataclass(frozen=True)
class Now:
    mono: float
    wall: datetime

    def wall_at(self, mono: float) -> datetime:
        return self.wall + timedelta(seconds=mono - self.mono)

    def mono_at(self, wall: datetime) -> float:
        return self.mono + (wall - self.wall).total_seconds()


@dataclass(frozen=True)
class Limits:
    """Hard switching limits of one output, as a table.

    min_time: value -> (seconds the output must stay at that value before leaving it, hold code)
    is_event: which transitions spend the hourly budget (relay: starts, i.e. -> on; DRM: any)
    releases: which transitions only turn things off (may skip limits on a safety fallback)
    operates: which physical relays a transition operates (wear counts per relay)
    """
    min_time: Mapping[Hashable, tuple[float, str]]
    max_events_per_hour: int
    event_code: str
    is_event: Callable[[Any, Any], bool]
    releases: Callable[[Any, Any], bool]
    operates: Callable[[Any, Any], tuple[str, ...]]
    max_lease_s: float


@dataclass(frozen=True)
class Pending:
    value: Any
    code: str  # why it waits, e.g. hold:min_off
    eligible_at: float  # monotonic
    eligible_wall: datetime
    cause: str  # the reason code it will carry once applied


@dataclass(frozen=True)
class Switch:
    name: str
    old: Any
    new: Any
    cause: str
    count: int


@dataclass
class Wear:
    """What survives a restart (state_dir/relay_agent.json): relay wear and recent history."""
    value: Any = None
    switch_count: int = 0
    since: datetime | None = None
    events: tuple[datetime, ...] = ()
    operations: dict[str, int] = field(default_factory=dict)  # physical relay -> operations
    # The command in force when saved; the lease only counts when `lease_trusted` (same boot).
    commanded: Any = None
    command_id: str | None = None
    lease_until: datetime | None = None
    lease_trusted: bool = False


class CommandError(ValueError):
    """A command that is refused; `field` names the offending field or topic."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class OutputCore:
    def __init__(self, name: str, limits: Limits, safe: Any, boot: Any, now: Now,
                 wear: Wear | None = None):
        self.name, self.limits, self.safe = name, limits, safe
        recorded = wear is not None and wear.value in limits.min_time  # a known value
        wear = wear or Wear()
        # The restart rule (module docstring): the saved level when there is one.
        self.value = wear.value if recorded else boot
        self.cause = "boot"
        self.since, self.since_wall = now.mono, now.wall
        self.switch_count = wear.switch_count
        self.operations: dict[str, int] = dict(wear.operations)
        # A Pi has no RTC: until NTP syncs, wall time after a reboot may be behind the saved
        # times. Nothing can have happened in the future, so clamp to now (conservative).
        self.events: deque[float] = deque(sorted(min(now.mono, now.mono_at(t)) for t in wear.events))
        if recorded and wear.since is not None:
            # Same level as before the restart: keep counting min on/off from the real change.
            self.since, self.since_wall = min(now.mono, now.mono_at(wear.since)), min(now.wall, wear.since)
        self.commanded: Any = None
        self.command_id: str | None = None
        self.lease_until: float | None = None
        self.lease_wall: datetime | None = None
        self.desired: tuple[Any, str] = (self.value, "boot")
        self.pending: Pending | None = None
        self.restart: Switch | None = None  # what the restart rule switched, for the log
        if not recorded:
            return
        lease_left = (wear.lease_until - now.wall).total_seconds() if wear.lease_until else 0.0
        if (wear.lease_trusted and lease_left > 0 and wear.commanded in limits.min_time
                and lease_left <= limits.max_lease_s):
            self.restart = self.command(now, wear.commanded, lease_left, wear.command_id or "restored")
            if self.value == wear.commanded:
                self.cause = "restored"
        else:
            self.restart = self.fallback(now, "safe:restart")

    # ---------------------------------------------------------------- inputs
    def command(self, now: Now, value: Any, lease_s: float, command_id: str) -> Switch | None:
        """An absolute command under a lease; the same value again renews the lease."""
        if lease_s > self.limits.max_lease_s:
            raise CommandError("lease_s", f"{lease_s:g} s exceeds max_lease_s "
                                          f"{self.limits.max_lease_s:g} s of {self.name}")
        self.commanded, self.command_id = value, command_id
        self.lease_until, self.lease_wall = now.mono + lease_s, now.wall_at(now.mono + lease_s)
        self.desired = (value, "command")
        return self._settle(now)

    def fallback(self, now: Now, cause: str) -> Switch | None:
        """Back to the safe state (cause: safe:*); the active command is dropped."""
        if self.commanded is None and self.pending is None and self.value == self.safe:
            return None  # nothing to undo: keep the reason it is at this level (e.g. boot)
        self.commanded = self.lease_until = self.lease_wall = None
        self.desired = (self.safe, cause)
        return self._settle(now)

    def tick(self, now: Now) -> Switch | None:
        """Lease expiry and held transitions whose time has come."""
        if self.lease_until is not None and now.mono >= self.lease_until:
            return self.fallback(now, "safe:lease_expired")
        return self._settle(now)

    def next_deadline(self) -> float | None:
        times = [t for t in (self.lease_until, self.pending and self.pending.eligible_at) if t is not None]
        return min(times) if times else None

    # ---------------------------------------------------------------- decisions
    def _settle(self, now: Now) -> Switch | None:
        target, cause = self.desired
        if target == self.value:
            self.pending, self.cause = None, cause
            return None
        hold = self._hold(now, target, cause)
        if hold is not None:
            code, at = hold
            self.pending = Pending(target, code, at, now.wall_at(at), cause)
            return None
        old = self.value
        self.value, self.cause, self.pending = target, cause, None
        self.since, self.since_wall = now.mono, now.wall
        self._count(old, target, now)
        return Switch(self.name, old, target, cause, self.switch_count)

    def _hold(self, now: Now, target: Any, cause: str) -> tuple[str, float] | None:
        """(hold code, eligible_at) of the limit that binds longest, or None if allowed now."""
        if cause.startswith("safe:") and self.limits.releases(self.value, target):
            return None  # the safety-fallback rule (module docstring)
        secs, code = self.limits.min_time.get(self.value, (0.0, ""))
        holds = [(code, self.since + secs)]
        if self.limits.is_event(self.value, target):
            self._prune(now)
            n = self.limits.max_events_per_hour
            if len(self.events) >= n:
                holds.append((self.limits.event_code, self.events[-n] + HOUR_S))
        due = [h for h in holds if h[1] > now.mono]
        return max(due, key=lambda h: h[1]) if due else None

    def _count(self, old: Any, new: Any, now: Now) -> None:
        self.switch_count += 1
        for relay in self.limits.operates(old, new):
            self.operations[relay] = self.operations.get(relay, 0) + 1
        if self.limits.is_event(old, new):
            self.events.append(now.mono)
        self._prune(now)

    def _prune(self, now: Now) -> None:
        while self.events and self.events[0] <= now.mono - HOUR_S:
            self.events.popleft()

    def wear(self, now: Now) -> Wear:
        self._prune(now)
        # Every time from the monotonic clock through one `now`: consistent with each other and
        # with the store's anchor, whatever steps the wall clock took since (since_wall would not be).
        lease = None if self.lease_until is None else now.wall_at(self.lease_until)
        return Wear(self.value, self.switch_count, now.wall_at(self.since),
                    tuple(now.wall_at(t) for t in self.events), dict(self.operations),
                    self.commanded, self.command_id, lease)
