"""Rule 8: parse user overrides from `.../load/<load>/set` and `.../drm/<name>/set`. Pure.

Accepted, so that phones, Node-RED, Home Assistant and zigbee2mqtt-style clients all work:
- plain text ON / OFF / AUTO in any case (whitespace tolerated, a JSON string "ON" too), and
  for a load also true / false and 1 / 0; a DRM output takes AUTO or a mode number instead;
- JSON {"mode": <any of the above>, "minutes": 90} or {"mode": ..., "until": "<ISO 8601 with
  offset>"}; {"state": ...} is the same as {"mode": ...} (zigbee2mqtt's form);
- JSON {"minutes": 45} alone: the override length (Home Assistant's number entity). It
  becomes the length of this load's next ON/OFF without a duration, and an override that is
  running now ends 45 minutes from now (returned as a `LengthSet`).
ON/OFF without a duration last the length set as above, else the load's override_default_min.
Anything else raises OverrideError with a sentence for circuitq/error.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from circuitq.config import CircuitqConfig
from circuitq.payloads import OverrideSet
from circuitq.state import read_json, write_json_atomic

from .model import Override

MIN_S = 1.0  # shorter rounds to nothing: an ON accepted but ended as it is applied
# Words a load's /set understands, lower-cased: clients send these as booleans and numbers.
LOAD_WORDS = {"on": "on", "off": "off", "auto": "auto", "true": "on", "false": "off", "1": "on", "0": "off"}


class OverrideError(ValueError):
    pass


@dataclass(frozen=True)
class LengthSet:
    """{"minutes": N} alone: the length of the next override (and of a running one)."""
    target: str
    name: str
    minutes: float


def _normalise(mode, drm: bool):
    """A mode as the core knows it: 'on'/'off'/'auto', or a DRM mode number."""
    if isinstance(mode, bool):
        if drm:
            raise OverrideError("a DRM output takes AUTO or a mode number, not true/false")
        return "on" if mode else "off"
    if isinstance(mode, int) and not drm and mode in (0, 1):
        return "on" if mode else "off"
    if isinstance(mode, str):
        mode = mode.strip().lower()
        if drm:
            return int(mode) if mode.isdigit() else mode
        return LOAD_WORDS.get(mode, mode)
    return mode


def _limits(cfg: CircuitqConfig, target: str, name: str) -> tuple[float, float]:
    if target == "drm":
        if name not in cfg.scheduler.drm:
            raise OverrideError(f"unknown DRM output {name!r} (known: {', '.join(sorted(cfg.scheduler.drm)) or 'none'})")
        pol = cfg.scheduler.drm[name]
        return pol.override_default_min, pol.override_max_min
    lc = cfg.loads.get(name)
    if lc is None:
        raise OverrideError(f"unknown load {name!r} (known: {', '.join(sorted(cfg.loads)) or 'none'})")
    if lc.kind == "observed":
        raise OverrideError(f"{name} is observed only (no relay, thermostat or DRM): it cannot be switched")
    return lc.override_default_min, lc.override_max_min


def _json(text: str, drm: bool) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OverrideError(f"not valid JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(data, dict):
        raise OverrideError("JSON must be an object")
    if "state" in data:  # zigbee2mqtt: {"state": "ON"}
        if "mode" in data:
            raise OverrideError("give mode or state, not both")
        data["mode"] = data.pop("state")
    if "mode" not in data and set(data) != {"minutes"}:
        raise OverrideError("JSON needs a 'mode' (on, off, auto" + (" or a DRM mode 0-3)" if drm else ")")
                            + ", or only 'minutes' to set the override length")
    if "mode" in data:
        data["mode"] = _normalise(data["mode"], drm)
    if isinstance(data.get("minutes"), bool):  # pydantic would read true as 1 minute
        raise OverrideError("minutes: a number of minutes, not true/false")
    return data


def parse(cfg: CircuitqConfig, target: str, name: str, payload: bytes | str, now: datetime,
          length_min: float | None = None) -> Override | LengthSet:
    """Validate one /set message against the config; `now` judges `until` and durations.
    `length_min`: the length a user chose for this load's overrides (LengthSet), if any."""
    drm = target == "drm"
    default_min, max_min = _limits(cfg, target, name)
    if length_min is not None and 0 < length_min <= max_min:
        default_min = length_min
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    text = text.strip()
    if not text:
        raise OverrideError("empty payload")
    if text.startswith('"') and text.endswith('"') and len(text) > 1:
        text = text[1:-1].strip()  # a JSON string, as some clients send a text
    minutes = until = None
    if text.startswith(("{", "[")):
        data = _json(text, drm)
        try:
            req = OverrideSet.model_validate({"mode": "auto", **data} if "mode" not in data else data)
        except ValidationError as exc:
            e = exc.errors()[0]
            where = ".".join(str(p) for p in e["loc"][:1]) or "payload"
            msg = "unknown key (allowed: mode or state, minutes, until)" if e["type"] == "extra_forbidden" else e["msg"]
            raise OverrideError(f"{where}: {msg}") from None
        if "mode" not in data:
            return _length(target, name, req.minutes, max_min)
        mode, minutes, until = req.mode, req.minutes, req.until
        if minutes is not None and until is not None:
            raise OverrideError("give minutes or until, not both")
    else:
        mode = _normalise(text, drm)
    allowed = ("auto",) + (tuple(sorted(cfg.drm_outputs[name].modes)) if drm else ("on", "off"))
    if mode not in allowed:
        want = ("AUTO or a wired DRM mode " + "/".join(str(a) for a in allowed[1:]) if drm
                else "ON, OFF or AUTO (also true/false, 1/0)")
        raise OverrideError(f"mode {mode!r}: expected {want}")
    if mode == "auto":
        if minutes is not None or until is not None:
            raise OverrideError("AUTO takes no duration")
        return Override(target, name, "auto", None)
    if until is not None:
        if until <= now:
            raise OverrideError(f"until {until.isoformat()} is in the past")
        minutes = (until - now).total_seconds() / 60
    elif minutes is None:
        minutes = default_min
    _check(minutes, max_min, name)
    return Override(target, name, mode, until or now + timedelta(minutes=minutes))


def _check(minutes: float, max_min: float, name: str) -> None:
    if minutes * 60 < MIN_S:
        raise OverrideError(f"{minutes * 60:.3g} s: an override lasts at least {MIN_S:g} s")
    if minutes > max_min + 1e-9:
        raise OverrideError(f"{minutes:.0f} min is longer than the maximum {max_min:g} min for {name}")


def _length(target: str, name: str, minutes: float | None, max_min: float) -> LengthSet:
    if minutes is None:
        raise OverrideError("minutes: a number of minutes")
    _check(minutes, max_min, name)
    return LengthSet(target, name, minutes)


class OverrideLengths:
    """The override length each load's user chose ({"minutes": N}), kept across restarts in
    state_dir (a user's setting is never lost). Keys are "load/<name>" and "drm/<name>"."""

    def __init__(self, path: Path):
        self.path = path
        data = read_json(path, {})
        self.minutes: dict[str, float] = {k: float(v) for k, v in (data.get("minutes") or {}).items()
                                          if isinstance(v, (int, float)) and v > 0}

    def get(self, target: str, name: str) -> float | None:
        return self.minutes.get(f"{target}/{name}")

    def set(self, target: str, name: str, minutes: float) -> None:
        self.minutes[f"{target}/{name}"] = minutes
        write_json_atomic(self.path, {"version": 1, "minutes": self.minutes},
                          what="the override lengths users chose")
