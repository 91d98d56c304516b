"""Pure decision code: samples, typed source errors, validation, freshness, selection, backoff.

Nothing here does I/O or reads a clock: every function takes `now`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone


@dataclass(frozen=True)
class Sample:
    """One production reading: watts and the time the source measured it (content time)."""
    w: float
    ts: datetime
    raw: str = ""  # what the source said, for error reports


# ---------------------------------------------------------------- typed errors
class SourceError(Exception):
    """A read failed. `state` is the Health state it maps to; `not_before` delays the next poll."""
    state = "error"

    def __init__(self, message: str, *, raw: str = "", not_before: datetime | None = None):
        super().__init__(message)
        self.raw = raw
        self.not_before = not_before


class Unreachable(SourceError):
    """Timeout, refused connection, 5xx: the source may come back by itself."""
    state = "offline"


class NoData(SourceError):
    """The source answered but has nothing to report (PVOutput 400, no MQTT message yet)."""
    state = "offline"


class RateLimited(SourceError):
    """429 / 403 over the hourly limit: wait until `not_before`."""


class AuthError(SourceError):
    """Credentials refused (401/403). A person has to act: it raises an alert."""


class TokenRejected(AuthError):
    """Enlighten refused the refresh token: the homeowner must authorise circuitq again."""


class BadData(SourceError):
    """The answer is not a usable reading (unparseable, NaN, negative, absurd)."""


# ---------------------------------------------------------------- validation
def parse_watts(value, what: str = "watts") -> float:
    """A finite number of watts, or BadData naming what was wrong."""
    if isinstance(value, bool):
        raise BadData(f"{what} is not a number: {value!r}", raw=str(value))
    try:
        w = float(value)
    except (TypeError, ValueError):
        raise BadData(f"{what} is not a number: {str(value)[:60]!r}", raw=str(value)) from None
    if not math.isfinite(w):
        raise BadData(f"{what} is {value!r}, not a number of watts", raw=str(value))
    return w


MAX_FUTURE_S = 900  # a content time further ahead than this is a wrong clock or time zone


def check_sample(sample: Sample, system_size_w: float, max_ratio: float, now: datetime | None = None) -> Sample:
    """Refuse negative and absurd readings (> max_ratio x the system's nameplate size), and
    content times from the future (a wrong site.timezone would make old data look fresh)."""
    if not math.isfinite(sample.w):
        raise BadData(f"production {sample.w} is not a number", raw=sample.raw)
    if sample.w < 0:
        raise BadData(f"production {sample.w:g} W is negative", raw=sample.raw)
    limit = system_size_w * max_ratio
    if sample.w > limit:
        raise BadData(f"production {sample.w:g} W is absurd for a {system_size_w:g} W system "
                      f"(limit {limit:g} W)", raw=sample.raw)
    if sample.ts.tzinfo is None:
        raise BadData("timestamp has no time zone", raw=sample.raw)
    if now is not None and (sample.ts - now).total_seconds() > MAX_FUTURE_S:
        ahead = (sample.ts - now).total_seconds() / 60
        raise BadData(f"timestamp {sample.ts.isoformat()} is {ahead:.0f} min in the future "
                      "(check site.timezone and the device's clock)", raw=sample.raw)
    return sample


def epoch_to_dt(value, what: str = "timestamp") -> datetime:
    """Unix seconds (or an ISO 8601 string with an offset) -> aware UTC datetime."""
    if isinstance(value, str) and not value.strip().lstrip("-").replace(".", "", 1).isdigit():
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise BadData(f"{what} is not a time: {value[:40]!r}", raw=value) from None
        if dt.tzinfo is None:
            raise BadData(f"{what} {value!r} has no UTC offset", raw=value)
        return dt.astimezone(timezone.utc)
    secs = parse_watts(value, what)
    if not 946684800 <= secs <= 4102444800:  # 2000..2100: anything else is garbage
        raise BadData(f"{what} {value!r} is not a plausible Unix time", raw=str(value))
    return datetime.fromtimestamp(secs, timezone.utc)


def age_s(ts: datetime, now: datetime) -> float:
    """Seconds since the content time; a clock a little ahead of ours counts as 0."""
    return max(0.0, (now - ts).total_seconds())


def is_stale(ts: datetime, now: datetime, freshness_s: float) -> bool:
    return age_s(ts, now) > freshness_s


# ---------------------------------------------------------------- polling schedule
def next_delay(interval_s: float, failures: int, max_backoff_s: float,
               not_before: datetime | None, now: datetime) -> float:
    """Seconds until the next poll: the interval, doubled per failure up to max_backoff_s
    (never below the interval: the interval is the API's budget), and never before a
    rate-limit reset."""
    delay = interval_s
    if failures > 0:
        delay = max(interval_s, min(max_backoff_s, interval_s * 2 ** min(failures, 20)))
    if not_before is not None:
        delay = max(delay, (not_before - now).total_seconds())
    return delay


def next_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def next_month(now: datetime) -> datetime:
    n = now.astimezone(timezone.utc)
    y, m = (n.year + 1, 1) if n.month == 12 else (n.year, n.month + 1)
    return datetime(y, m, 1, tzinfo=timezone.utc)


def next_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


# ---------------------------------------------------------------- per-source state
@dataclass
class SourceState:
    """What the service knows about one source; updated only by `record`."""
    name: str
    sample: Sample | None = None
    received: datetime | None = None
    last_success: datetime | None = None
    failures: int = 0
    failures_today: int = 0
    day: object = None  # local date failures_today counts
    error: SourceError | None = None
    health: str = "offline"
    since: datetime | None = None
    bad_since: datetime | None = None  # failing or stale since; drives the down alert
    alerted: bool = False
    extra: dict = field(default_factory=dict)


def record(st: SourceState, outcome: Sample | SourceError, now: datetime, local_day) -> None:
    """Fold one read outcome into the state."""
    if st.day != local_day:
        st.day, st.failures_today = local_day, 0
    if isinstance(outcome, Sample):
        st.sample, st.received, st.last_success = outcome, now, now
        st.failures, st.error = 0, None
    else:
        st.failures += 1
        st.failures_today += 1
        st.error = outcome


def health_state(st: SourceState, now: datetime, freshness_s: float) -> tuple[str, str]:
    """(state, message) for Health: a failing read wins, then stale content, else ok."""
    if st.error is not None:
        return st.error.state, f"{type(st.error).__name__}: {st.error}"
    if st.sample is None:
        return "offline", "no reading yet"
    age = age_s(st.sample.ts, now)
    if age > freshness_s:
        return "stale", f"newest reading is {age:.0f} s old (limit {freshness_s:g} s)"
    return "ok", f"{st.sample.w:g} W, {age:.0f} s old"


def refresh_health(st: SourceState, now: datetime, freshness_s: float, interval_s: float = 0.0) -> bool:
    """Update st.health/since/bad_since; True if the state changed.

    `bad_since` (the down alert's clock) runs while reads fail or the content is older than
    freshness_s + interval_s: a source polled every 45 min (Enlighten's Watt plan) is stale
    between polls by design, which is not "down"."""
    state, _ = health_state(st, now, freshness_s)
    changed = state != st.health or st.since is None
    if changed:
        st.health, st.since = state, now
    down = st.error is not None or st.sample is None or \
        age_s(st.sample.ts, now) > freshness_s + interval_s
    if not down:
        st.bad_since = None
    elif st.bad_since is None:
        st.bad_since = now
    return changed


def select(states: list[SourceState], now: datetime, freshness_s: float):
    """The reading to publish: the first healthy source in config order; if none is healthy,
    the freshest reading any source has (it will be published stale). None if no reading."""
    for st in states:
        if st.error is None and st.sample and not is_stale(st.sample.ts, now, freshness_s):
            return st
    have = [st for st in states if st.sample is not None]
    return max(have, key=lambda st: st.sample.ts) if have else None
