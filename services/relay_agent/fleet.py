"""All outputs of the house and the command path, still pure (no I/O): the shell hands in
topic names, payload bytes, the retained flag and `now`; it gets back switches or a
CommandError naming the field. Property-based tests throw arbitrary bytes at `command`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel, ValidationError, field_validator

from circuitq.config import CircuitqConfig
from circuitq.config.relays import DrmOutputConfig, RelayConfig
from circuitq.payloads import DrmCommand, RelayCommand

from .core import CommandError, Limits, Now, OutputCore, Switch, Wear
from .drm import DrmWiring

MAX_PAYLOAD = 1024  # bytes; a command is ~60


def relay_limits(rc: RelayConfig) -> Limits:
    return Limits(
        min_time={"on": (rc.min_on_s, "hold:min_on"), "off": (rc.min_off_s, "hold:min_off")},
        max_events_per_hour=rc.max_starts_per_hour, event_code="hold:max_starts",
        is_event=lambda old, new: new == "on",  # a start
        releases=lambda old, new: new == "off",
        operates=lambda old, new: ("relay",),
        max_lease_s=rc.max_lease_s)


def drm_limits(dc: DrmOutputConfig, wiring: DrmWiring) -> Limits:
    def energised(mode):
        return {r for r, e in wiring.modes[mode].items() if e}
    return Limits(
        min_time={m: (dc.min_dwell_s, "hold:min_dwell") for m in wiring.modes},
        max_events_per_hour=dc.max_changes_per_hour, event_code="hold:max_changes",
        is_event=lambda old, new: old != new,
        releases=lambda old, new: energised(new) <= energised(old),  # only de-energises coils
        operates=lambda old, new: tuple(sorted(energised(old) ^ energised(new))),
        max_lease_s=dc.max_lease_s)


class StrictDrmCommand(DrmCommand):
    """DrmCommand as the agent accepts it: pydantic matches Literal[0, 1, 2, 3] by equality even
    in strict mode, so JSON `true` became mode 1 (DRM1: compressor off) and 2.0 mode 2."""

    @field_validator("mode", mode="before")
    @classmethod
    def _integer_only(cls, v: Any) -> Any:
        if type(v) is not int:  # bool is an int subclass: refused too
            raise ValueError(f"must be an integer mode (0, 1, 2, 3), not {type(v).__name__} {v!r}")
        return v


@dataclass(frozen=True)
class Kind:
    """What differs between relays and DRM outputs, as data."""
    section: str  # config section, for messages
    model: type[BaseModel]
    value: Callable[[Any], Any]  # command -> target value
    check: Callable[["Fleet", str, Any], None]  # raise CommandError if the value is not wired


def _check_mode(fleet: "Fleet", name: str, mode: Any) -> None:
    modes = fleet.wirings[name].modes
    if mode not in modes:
        raise CommandError("mode", f"mode {mode} is not wired on DRM output {name} "
                                   f"(modes {', '.join(map(str, sorted(modes)))})")


KINDS: dict[str, Kind] = {
    "relay": Kind("relays", RelayCommand, lambda c: c.state, lambda f, n, v: None),
    "drm": Kind("drm_outputs", StrictDrmCommand, lambda c: c.mode, _check_mode),
}


def _refuse_duplicate_keys(payload: bytes) -> None:
    """{"state": "off", ..., "state": "on"}: Python and pydantic keep the last, other parsers
    (the tool that wrote it, a person reading it) the first. An ambiguous command is refused."""
    def pairs_hook(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise CommandError(key, f"{key!r} is given twice in one object")
            seen.add(key)
        return dict(pairs)
    try:
        json.loads(payload, object_pairs_hook=pairs_hook)
    except CommandError:
        raise
    except (ValueError, RecursionError):  # not JSON: pydantic names the problem below
        pass


def describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "payload"
        msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        parts.append(f"{field}: {msg}")
    return "; ".join(parts)


class Fleet:
    def __init__(self, cfg: CircuitqConfig, now: Now, wear: dict[str, dict[str, Wear]] | None = None,
                 wirings: dict[str, DrmWiring] | None = None):
        wear = wear or {}
        self.wirings = wirings or {n: DrmWiring(n, dc) for n, dc in cfg.drm_outputs.items()}
        # The levels the last run saved (pins keep them across a restart): orders the boot writes.
        self.previous: dict[str, dict[str, Any]] = {k: {n: w.value for n, w in ws.items()}
                                                    for k, ws in wear.items()}
        self.cores: dict[str, dict[str, OutputCore]] = {
            "relay": {n: OutputCore(n, relay_limits(rc), rc.safe_state, rc.boot_state, now,
                                    wear.get("relay", {}).get(n))
                      for n, rc in cfg.relays.items()},
            "drm": {n: OutputCore(n, drm_limits(dc, self.wirings[n]), dc.safe_mode, dc.boot_mode, now,
                                  wear.get("drm", {}).get(n))
                    for n, dc in cfg.drm_outputs.items()},
        }

    def restart_switches(self) -> list[tuple[str, Switch]]:
        """What the restart rule switched while the cores were built (core.py)."""
        return [(k, c.restart) for k, _, c in self.all() if c.restart is not None]

    def all(self):
        for kind, cores in self.cores.items():
            for name, core in cores.items():
                yield kind, name, core

    def command(self, kind: str, name: str, payload: bytes, retained: bool, now: Now) -> Switch | None:
        """Validate and apply one command; CommandError (nothing changed) if it is refused."""
        spec = KINDS[kind]
        if retained:
            # A retained command replays after every reconnect: ghost switching (Tasmota #2140).
            raise CommandError("retain", "retained commands are refused; publish with retain=false")
        core = self.cores[kind].get(name)
        if core is None:
            raise CommandError("topic", f"no {spec.section} entry named {name!r} "
                                        f"(known: {', '.join(sorted(self.cores[kind])) or 'none'})")
        if len(payload) > MAX_PAYLOAD:
            raise CommandError("payload", f"{len(payload)} bytes is too long for a command")
        _refuse_duplicate_keys(payload)
        try:
            cmd = spec.model.model_validate_json(payload, strict=True)  # "5" is not a number here
        except ValidationError as exc:
            raise CommandError("payload", describe(exc)) from None
        value = spec.value(cmd)
        spec.check(self, name, value)
        return core.command(now, value, cmd.lease_s, cmd.id)

    def fallback_all(self, now: Now, cause: str) -> list[tuple[str, Switch]]:
        return [(k, s) for k, _, c in self.all() if (s := c.fallback(now, cause)) is not None]

    def tick(self, now: Now) -> list[tuple[str, Switch]]:
        return [(k, s) for k, _, c in self.all() if (s := c.tick(now)) is not None]

    def next_deadline(self) -> float | None:
        times = [t for _, _, c in self.all() if (t := c.next_deadline()) is not None]
        return min(times) if times else None

    def values(self) -> dict[str, dict[str, Any]]:
        return {k: {n: c.value for n, c in cores.items()} for k, cores in self.cores.items()}

    def wear(self, now: Now) -> dict[str, dict[str, Wear]]:
        return {k: {n: c.wear(now) for n, c in cores.items()} for k, cores in self.cores.items()}
