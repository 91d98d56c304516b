"""Retained state payloads, built from the PIN READ-BACK (level, mode) plus the core's
bookkeeping (command, lease, pending hold, wear). Pure: the shell passes the read-back."""
from __future__ import annotations

from circuitq.payloads import Activity, DrmState, Pending, Reason, RelayState

from .core import OutputCore, Switch, reason_text


def _reason(code: str) -> Reason:
    return Reason(code=code, text=reason_text(code))


def _pending(core: OutputCore) -> Pending | None:
    p = core.pending
    if p is None:
        return None
    return Pending(state=str(p.value), reason=_reason(p.code), eligible_at=p.eligible_wall)


def relay_state(core: OutputCore, level: str) -> RelayState:
    cause = core.cause if level == core.value else "fault:readback"
    return RelayState(level=level, commanded=core.commanded, command_id=core.command_id,
                      lease_until=core.lease_wall, safe_state=core.safe, reason=_reason(cause),
                      pending=_pending(core), switch_count=core.switch_count, since=core.since_wall)


def drm_state(core: OutputCore, mode: int | None, relays: dict[str, bool]) -> DrmState:
    cause = core.cause if mode == core.value else "fault:readback"
    return DrmState(mode=-1 if mode is None else mode, commanded_mode=core.commanded,
                    command_id=core.command_id, lease_until=core.lease_wall, safe_mode=core.safe,
                    relays={r: "on" if e else "off" for r, e in sorted(relays.items())},
                    reason=_reason(cause), pending=_pending(core), switch_count=core.switch_count,
                    relay_switch_counts={r: core.operations.get(r, 0) for r in sorted(relays)},
                    since=core.since_wall)


# kind -> words for the activity log
SUBJECTS = {"relay": "relay {name}", "drm": "DRM output {name}"}
CHANGES = {"relay": "switched {new}", "drm": "mode {old} -> {new}"}


def activity(kind: str, sw: Switch, ts) -> Activity:
    subject = SUBJECTS[kind].format(name=sw.name)
    change = CHANGES[kind].format(old=sw.old, new=sw.new)
    return Activity(service="relay_agent", subject=sw.name,
                    message=f"{subject} {change}: {reason_text(sw.cause)} (operation #{sw.count})",
                    ts=ts)
