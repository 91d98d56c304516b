"""AS/NZS 4755 DRM outputs: which mode a set of relay levels asserts, and in which order to
change relays so that no intermediate set of levels asserts a mode nobody asked for.

Relays change one at a time, so going from mode A to mode B passes through intermediate
level sets. Each must assert A or B. We model the EFFECTIVE mode of every level set from the
wiring (table WIRINGS) and search the orders of the single-relay changes (permutations of the
relays that differ; at most a handful) for one where every intermediate is A or B. A config
where some pair of modes has no safe order is refused at start-up.

Wiring models:
- dreadpi: relay drm2's NO contact asserts DRM2; relay drm3's COM is fed through drm2's NC
  contact, so drm3 asserts DRM3 only while drm2 is released. Both released: mode 0. The
  first energised relay along that chain decides (both energised = DRM2).
- direct: one relay per DRM terminal. When several are asserted the appliance obeys the most
  restrictive (DRM1 compressor off > DRM2 50 % > DRM3 75 %), table PRECEDENCE; an energised
  relay that asserts no single mode makes the level set unknown (never a safe intermediate).
  Level sets listed in `modes` are taken as given.
"""
from __future__ import annotations

from itertools import permutations
from typing import Callable, Mapping

from circuitq.config.relays import DrmOutputConfig

Levels = Mapping[str, bool]  # relay name -> energised
PRECEDENCE = (1, 2, 3)  # most restrictive first
DREADPI_CHAIN = (("drm2", 2), ("drm3", 3))  # along drm2's NC contact


def _dreadpi(wiring: "DrmWiring") -> Callable[[Levels], int | None]:
    def effective(levels: Levels) -> int | None:
        for relay, mode in DREADPI_CHAIN:
            if levels[relay]:
                return mode
        return 0
    return effective


def _direct(wiring: "DrmWiring") -> Callable[[Levels], int | None]:
    exact = {wiring.key(lv): m for m, lv in wiring.modes.items()}
    asserts = {}  # relay -> the mode it asserts alone
    for m, lv in wiring.modes.items():
        on = [r for r, e in lv.items() if e]
        if len(on) == 1:
            asserts[on[0]] = m

    def effective(levels: Levels) -> int | None:
        if wiring.key(levels) in exact:
            return exact[wiring.key(levels)]
        on = [r for r, e in levels.items() if e]
        if not on:
            return 0
        if any(r not in asserts for r in on):
            return None
        modes = {asserts[r] for r in on}
        return next((m for m in PRECEDENCE if m in modes), None)
    return effective


WIRINGS: dict[str, Callable[["DrmWiring"], Callable[[Levels], int | None]]] = {
    "dreadpi": _dreadpi,
    "direct": _direct,
}


class DrmWiring:
    def __init__(self, name: str, cfg: DrmOutputConfig):
        self.name = name
        self.relays = tuple(sorted(cfg.relays))
        self.modes: dict[int, dict[str, bool]] = {
            int(m): {r: lv[r] == "on" for r in self.relays} for m, lv in (cfg.modes or {}).items()}
        self.effective = WIRINGS[cfg.wiring](self)

    def key(self, levels: Levels) -> tuple[bool, ...]:
        return tuple(bool(levels[r]) for r in self.relays)

    def plan(self, current: Levels, to_mode: int) -> list[tuple[str, bool]] | None:
        """Single-relay writes from `current` to `to_mode`, every intermediate asserting the
        old or the new mode; None if no order is safe."""
        target = self.modes[to_mode]
        allowed = {self.effective(current), to_mode} - {None}  # unknown is never allowed
        diff = [r for r in self.relays if bool(current[r]) != target[r]]
        for order in permutations(diff):
            levels, ok = dict(current), True
            for relay in order[:-1]:
                levels[relay] = target[relay]
                if self.effective(levels) not in allowed:
                    ok = False
                    break
            if ok:
                return [(r, target[r]) for r in order]
        return None

    def problems(self) -> list[str]:
        """Why this wiring cannot be used (empty if fine)."""
        out = []
        for m, lv in sorted(self.modes.items()):
            eff = self.effective(lv)
            if eff != m:
                out.append(f"modes.{m}: these relay levels assert mode {eff} with {self.name}'s wiring")
        if out:
            return out
        for a in sorted(self.modes):
            for b in sorted(self.modes):
                if a != b and self.plan(self.modes[a], b) is None:
                    out.append(f"no order of relay changes goes from mode {a} to mode {b} without "
                               f"asserting another mode")
        return out

    def release_first(self, current: Levels, to_mode: int) -> list[tuple[str, bool]]:
        """Last resort when the read-back levels are not a known mode: release, then energise."""
        target = self.modes[to_mode]
        diff = [r for r in self.relays if bool(current[r]) != target[r]]
        return sorted(((r, target[r]) for r in diff), key=lambda w: w[1])
