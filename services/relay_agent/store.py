"""Relay wear, recent history and the command in force in `state_dir/relay_agent.json`,
written atomically (tmp + fsync + os.replace) so a power cut never corrupts the counts.
Songle SRD relays are good for ~100,000 operations: the count is the budget's odometer.

The read-back never waits for the disk (a write with its fsyncs takes milliseconds on an SD
card, more than everything else a command costs): the file is written right AFTER the state
is published, coalesced, so a burst of commands costs one write. The crash window: a kill -9
or a power cut between the publish and the write loses that one switch or lease renewal,
nothing older (the file is the old or the new version, never half). The file then shows the
level before it, or the previous lease (which ends sooner): the restart rule (core.py) either
finds the lease lapsed and goes to the safe state under the hold rules, or keeps the level
until the older lease ends. The one start that was not saved is missing from the
starts-per-hour budget, and a relay switched off in that window may be switched on again at
the restart (the scheduler's next command puts it right).

Times are saved as wall time plus one anchor (boot id, monotonic and wall time at the save).
A Pi without an RTC boots with a stale clock that NTP later steps by hours; restarted within
the same boot, the agent rebases the saved times on the monotonic clock (CLOCK_MONOTONIC is
system-wide, containers included), so a step cannot make the last hour's starts look old.
After a reboot the monotonic clock restarted: wall time is all there is (the core clamps
times from the future to now)."""
from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, NonNegativeInt, StrictInt, ValidationError

from circuitq.state import read_json, write_json_atomic

from .core import Now, Wear

log = logging.getLogger(__name__)
VERSION = 1
WHAT = "relay switch counts, hold times and leases"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def current_boot_id() -> str | None:
    try:
        return BOOT_ID.read_text().strip() or None
    except OSError:
        return None


class _Anchor(BaseModel):
    boot_id: str
    mono: float
    wall: AwareDatetime


class _Entry(BaseModel):
    """One output's saved wear. Read before any pin is set up, so anything odd in the file (an
    older version, a hand edit) must be refused here, entry by entry: a naive timestamp or an
    unhashable value reaching the core would crash every start and leave the pins unmanaged."""
    model_config = ConfigDict(extra="ignore")
    value: Union[Literal["on", "off"], StrictInt, None] = None  # relay level or DRM mode
    switch_count: NonNegativeInt = 0
    since: AwareDatetime | None = None
    events: list[AwareDatetime] = []
    operations: dict[str, NonNegativeInt] = {}
    commanded: Union[Literal["on", "off"], StrictInt, None] = None
    command_id: str | None = None
    lease_until: AwareDatetime | None = None


def _rebase(data: dict, now: Now | None, boot_id: str | None):
    """(wall time saved -> wall time now, same boot?): through the monotonic clock when the
    boot is the same. After a reboot a saved lease is not trusted: the reboot released the
    pins, and wall time without an RTC cannot vouch for how much of the lease is left."""
    try:
        anchor = _Anchor.model_validate(data.get("anchor"))
    except ValidationError:
        anchor = None
    if now is None or boot_id is None or anchor is None or anchor.boot_id != boot_id:
        return (lambda t: t), False
    shift = timedelta(seconds=anchor.mono - now.mono) + (now.wall - anchor.wall)
    return (lambda t: None if t is None else t + shift), True


def load(path: Path, now: Now | None = None, boot_id: str | None = None) -> dict[str, dict[str, Wear]]:
    try:
        data = read_json(path)  # not JSON: kept as <name>.bad for a person, with a warning
    except OSError as exc:
        log.error("%s unreadable (%s): switch counts start again from 0", path, exc)
        return {}
    if data is None:
        return {}
    out: dict[str, dict[str, Wear]] = {}
    rebase, same_boot = _rebase(data, now, boot_id)
    kinds = data.get("outputs") or {}
    if not isinstance(kinds, dict):
        log.error("%s: 'outputs' is not an object, ignored", path)
        return {}
    for kind, outputs in kinds.items():
        if not isinstance(outputs, dict):
            log.error("%s: outputs.%s is not an object, ignored", path, kind)
            continue
        for name, w in outputs.items():
            try:
                e = _Entry.model_validate(w)
            except ValidationError as exc:
                log.error("%s: bad entry %s.%s (%s), ignored", path, kind, name, exc)
                continue
            out.setdefault(kind, {})[name] = Wear(e.value, e.switch_count, rebase(e.since),
                                                  tuple(rebase(t) for t in e.events), dict(e.operations),
                                                  e.commanded, e.command_id, rebase(e.lease_until), same_boot)
    return out


def save(path: Path, wear: dict[str, dict[str, Wear]], now: Now | None = None,
         boot_id: str | None = None) -> None:
    """`now` must be the one `wear` was computed with (its wall times come from its mono)."""
    anchor = None if now is None or boot_id is None else {
        "boot_id": boot_id, "mono": now.mono, "wall": now.wall.isoformat()}
    data = {"version": VERSION, "anchor": anchor, "outputs": {
        kind: {name: {"value": w.value, "switch_count": w.switch_count,
                      "since": w.since.isoformat() if w.since else None,
                      "events": [t.isoformat() for t in w.events], "operations": w.operations,
                      "commanded": w.commanded, "command_id": w.command_id,
                      "lease_until": w.lease_until.isoformat() if w.lease_until else None}
               for name, w in outputs.items()}
        for kind, outputs in wear.items()}}
    write_json_atomic(path, data, private=False, what=WHAT)  # wear counts are not secret
