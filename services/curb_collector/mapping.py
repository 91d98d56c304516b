"""Map Curb circuits to circuitq names (pure).

Config: `curb.circuits: {name: {id: "..."} | {label: "...", sum: bool}}`.
- by id: exactly that circuit (`__OTHER__` is an id too);
- by label: the one circuit with that label; a label on several circuits is an error
  naming their ids, unless `sum: true` (a 240 V load on two CTs) adds them up;
- a name that matches nothing is an error naming what Curb does have.
Errors are sentences with the config key path, so the health message can say them as is.

Unmapped circuits are listed under a slug of their label (or id) for the dashboards only;
the scheduler's reading carries mapped names only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from circuitq.config.curb import CurbCircuitMap

from .snapshot import CurbCircuit


@dataclass
class Mapped:
    circuits: dict[str, float] = field(default_factory=dict)  # circuitq name -> W
    unmapped: dict[str, float] = field(default_factory=dict)  # slug -> W (dashboards)
    problems: list[str] = field(default_factory=list)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _describe(circuits: Iterable[CurbCircuit]) -> str:
    return ", ".join(f"{c.id} {c.label!r}" for c in circuits) or "(none)"


def map_circuits(mapping: dict[str, CurbCircuitMap], circuits: Iterable[CurbCircuit]) -> Mapped:
    circuits = list(circuits)
    by_id = {c.id: c for c in circuits}
    out = Mapped()
    used: set[str] = set()
    for name, spec in mapping.items():
        key = f"curb.circuits.{name}"
        if spec.id is not None:
            c = by_id.get(spec.id)
            if c is None:
                out.problems.append(f"{key}: Curb has no circuit with id {spec.id!r}; "
                                    f"it has: {_describe(circuits)}")
                continue
            out.circuits[name] = c.w
            used.add(c.id)
            continue
        hits = [c for c in circuits if (c.label or "").strip() == spec.label.strip()]
        if not hits:
            out.problems.append(f"{key}: no Curb circuit is labelled {spec.label!r}; "
                                f"labels are: {sorted({c.label for c in circuits if c.label})}")
        elif len(hits) > 1 and not spec.sum:
            out.problems.append(f"{key}: label {spec.label!r} matches {len(hits)} circuits "
                                f"(ids {', '.join(c.id for c in hits)}); map it by id, or set "
                                f"sum: true to add them up")
        else:
            out.circuits[name] = sum(c.w for c in hits)
            used.update(c.id for c in hits)
    out.unmapped = unmapped_slugs([c for c in circuits if c.id not in used], taken=set(mapping))
    return out


def unmapped_slugs(circuits: list[CurbCircuit], taken: set[str]) -> dict[str, float]:
    """Slug of the label (`other` for __OTHER__); an empty, repeated or clashing label gets the
    id's slug appended so that two circuits never share a topic."""
    labels = [slug(c.label or "") for c in circuits]
    out: dict[str, float] = {}
    for c, s in zip(circuits, labels):
        if c.id == "__OTHER__":
            s = "other"
        elif not s or labels.count(s) > 1 or s in taken:
            s = "_".join(p for p in (s or ("main" if c.main else "circuit"), slug(c.id)[:16]) if p)
        while s in out or s in taken:
            s += "_"
        out[s] = c.w
    return out
