"""Rule 8: parse user overrides from `.../load/<load>/set` and `.../drm/<name>/set`. Pure.

Accepted: plain text ON / OFF / AUTO (any case, whitespace tolerated; DRM also a mode
number), or JSON {"mode": "on"|"off"|"auto"|<drm mode>, "minutes": 90} or
{"mode": ..., "until": "<ISO 8601 with offset>"}. ON/OFF without a duration last the load's
override_default_min. Anything else raises OverrideError with a sentence for circuitq/error.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from pydantic import ValidationError

from circuitq.config import CircuitqConfig
from circuitq.payloads import OverrideSet

from .model import Override


MIN_S = 1.0  # shorter rounds to nothing: an ON accepted but ended as it is applied


class OverrideError(ValueError):
    pass


def _normalise(mode, drm: bool):
    if isinstance(mode, bool):
        raise OverrideError("mode must be a word or a number, not true/false")
    if isinstance(mode, str):
        mode = mode.strip().lower()
        if drm and mode.isdigit():
            return int(mode)
    return mode


def parse(cfg: CircuitqConfig, target: str, name: str, payload: bytes | str, now: datetime) -> Override:
    """Validate one /set message against the config; `now` judges `until` and durations."""
    drm = target == "drm"
    if drm:
        if name not in cfg.scheduler.drm:
            raise OverrideError(f"unknown DRM output {name!r} (known: {', '.join(sorted(cfg.scheduler.drm)) or 'none'})")
        pol = cfg.scheduler.drm[name]
        default_min, max_min = pol.override_default_min, pol.override_max_min
    else:
        lc = cfg.loads.get(name)
        if lc is None:
            raise OverrideError(f"unknown load {name!r} (known: {', '.join(sorted(cfg.loads)) or 'none'})")
        if lc.kind == "observed":
            raise OverrideError(f"{name} is observed only (no relay, thermostat or DRM): it cannot be switched")
        default_min, max_min = lc.override_default_min, lc.override_max_min
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    text = text.strip()
    if not text:
        raise OverrideError("empty payload")
    minutes = until = None
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OverrideError(f"not valid JSON: {exc.msg} at character {exc.pos}") from None
        if not isinstance(data, dict) or "mode" not in data:
            raise OverrideError("JSON needs a 'mode' (on, off, auto" + (" or a DRM mode 0-3)" if drm else ")"))
        data["mode"] = _normalise(data["mode"], drm)
        if isinstance(data.get("minutes"), bool):  # pydantic would read true as 1 minute
            raise OverrideError("minutes: a number of minutes, not true/false")
        try:
            req = OverrideSet.model_validate(data)
        except ValidationError as exc:
            e = exc.errors()[0]
            where = ".".join(str(p) for p in e["loc"][:1]) or "payload"
            msg = "unknown key (allowed: mode, minutes, until)" if e["type"] == "extra_forbidden" else e["msg"]
            raise OverrideError(f"{where}: {msg}") from None
        mode, minutes, until = req.mode, req.minutes, req.until
        if minutes is not None and until is not None:
            raise OverrideError("give minutes or until, not both")
    else:
        mode = _normalise(text, drm)
    allowed = ("auto",) + (tuple(sorted(cfg.drm_outputs[name].modes)) if drm else ("on", "off"))
    if mode not in allowed:
        want = "AUTO or a wired DRM mode " + "/".join(str(a) for a in allowed[1:]) if drm else "ON, OFF or AUTO"
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
    if minutes * 60 < MIN_S:
        raise OverrideError(f"{minutes * 60:.3g} s: an override lasts at least {MIN_S:g} s")
    if minutes > max_min + 1e-9:
        raise OverrideError(f"{minutes:.0f} min is longer than the maximum {max_min:g} min for {name}")
    return Override(target, name, mode, until or now + timedelta(minutes=minutes))
