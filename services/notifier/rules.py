"""The pure rule engine: `evaluate(now, rules, tz, state, metrics) -> (state, alerts)`.

`metrics` is what one reading told us ({"circuit.garage": 230.0, "consumption": 4100.0, ...});
rules whose metric is not in it are left as they were. A rule fires once when its condition
has held for `for_min` and resolves once when it has been gone for `clear_for_min`. Leaving
the rule's time window (or weekdays) ends it silently: "pool pump off" at 15:00 is expected,
not news. No I/O, no clock: the caller passes `now` (an aware datetime).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Callable, Mapping

from circuitq.config.notifier import DAYS, RuleConfig, fmt_range
from circuitq.payloads import Alert

# op -> (value, threshold, tolerance) -> condition holds
OPS: dict[str, Callable[[float, float, float], bool]] = {
    "above": lambda v, t, tol: v > t,
    "below": lambda v, t, tol: v < t,
    "equals": lambda v, t, tol: abs(v - t) <= tol,
}
SOURCE = "notifier"


@dataclass(frozen=True)
class RuleState:
    since: datetime | None = None        # condition true since (inside the window)
    active: bool = False                 # the alert fired and has not resolved
    clear_since: datetime | None = None  # condition false since, while active
    value: float | None = None           # value when it fired (for the messages)
    seen: datetime | None = None         # last reading of the metric (continuity check)

    def to_json(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, d: dict) -> "RuleState":
        dt = lambda s: datetime.fromisoformat(s) if s else None  # noqa: E731
        return cls(since=dt(d.get("since")), active=bool(d.get("active")),
                   clear_since=dt(d.get("clear_since")), value=d.get("value"), seen=dt(d.get("seen")))

    def timers(self) -> "RuleState":
        """Without `seen`: what is worth writing to disk (it changes on every reading)."""
        return replace(self, seen=None)


IDLE = RuleState()
MAX_GAP = timedelta(minutes=10)  # readings further apart than this do not prove "for N minutes"


def rule_key(name: str) -> str:
    return f"rule:{name}"


def in_window(rule: RuleConfig, local: datetime) -> bool:
    """Inside the rule's local weekdays and time range (a range may wrap midnight)."""
    if rule.days is not None and DAYS[local.weekday()] not in rule.days:
        return False
    if rule.between is None:
        return True
    start, end, t = rule.between[0], rule.between[1], local.time()
    return start <= t < end if start < end else (t >= start or t < end)


def _fields(rule: RuleConfig, value: float, since: datetime | None, now: datetime, tz: tzinfo) -> dict:
    held = (now - since) if since else timedelta(0)
    return dict(title=rule.title, metric=rule.metric, value=value, threshold=rule.threshold,
                minutes=int(held.total_seconds() // 60),
                since=since.astimezone(tz).strftime("%H:%M") if since else "",
                window=fmt_range(rule.between) if rule.between else "all day")


def _alert(name: str, rule: RuleConfig, now: datetime, fields: dict, resolved: bool) -> Alert:
    template = rule.resolved_message if resolved else rule.message
    return Alert(key=rule_key(name), title=rule.title, message=template.format_map(fields),
                 # a "back to normal" should not buzz louder than a normal notification
                 priority=min(rule.priority, 0) if resolved else rule.priority,
                 source=SOURCE, resolved=resolved, ts=now)


def step(name: str, rule: RuleConfig, now: datetime, tz: tzinfo, st: RuleState,
         value: float, max_gap: timedelta = MAX_GAP) -> tuple[RuleState, Alert | None]:
    """One rule, one new value."""
    if st.seen is None or now - st.seen > max_gap:
        # No readings for a while (collector down, notifier restarted): a duration counted
        # across the gap proves nothing, so it restarts. A fired alert stays fired.
        st = replace(st, since=None, clear_since=None)
    st = replace(st, seen=now)
    inside = in_window(rule, now.astimezone(tz))
    holds = inside and OPS[rule.op](value, rule.threshold, rule.tolerance)
    if holds:
        since = st.since or now
        if not st.active and now - since >= timedelta(minutes=rule.for_min):
            fields = _fields(rule, value, since, now, tz)
            return (RuleState(since=since, active=True, value=value, seen=now),
                    _alert(name, rule, now, fields, False))
        return replace(st, since=since, clear_since=None), None
    if not st.active or not inside:
        return RuleState(seen=now), None  # never fired, or the window closed: nothing to tell
    clear_since = st.clear_since or now
    if now - clear_since >= timedelta(minutes=rule.clear_for_min):
        return RuleState(seen=now), _alert(name, rule, now, _fields(rule, value, st.since, now, tz), True)
    return replace(st, clear_since=clear_since), None


def evaluate(now: datetime, rules: Mapping[str, RuleConfig], tz: tzinfo,
             state: Mapping[str, RuleState], metrics: Mapping[str, float],
             max_gap: timedelta = MAX_GAP) -> tuple[dict[str, RuleState], list[Alert]]:
    new_state, alerts = dict(state), []
    for name, rule in rules.items():
        if not rule.enabled or rule.metric not in metrics:
            continue
        st, alert = step(name, rule, now, tz, state.get(name, IDLE), float(metrics[rule.metric]), max_gap)
        new_state[name] = st
        if alert is not None:
            alerts.append(alert)
    return new_state, alerts
