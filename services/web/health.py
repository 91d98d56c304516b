"""The health of every service and collector, in words, from what the bus says. Pure.

A service is `ok` while its status is `online` and its heartbeat's `expires` is in the future;
`stale` when it says online but its heartbeat has lapsed (a broker restart restored an old
`online`, or its loop hangs); `offline` after its last will or a clean stop; `unknown` when
nothing was ever heard from it. Collectors report their own health (ok/stale/offline/error).
"""
from __future__ import annotations

from datetime import datetime

from circuitq import SERVICES


def _t(s) -> datetime | None:
    try:
        return datetime.fromisoformat(s) if isinstance(s, str) else None
    except ValueError:
        return None


def service_health(name: str, status, beat: dict | None, now: datetime) -> dict:
    expires = _t((beat or {}).get("expires")) if isinstance(beat, dict) else None
    since = _t((beat or {}).get("connected_since")) if isinstance(beat, dict) else None
    if status == "online" and (expires is None or expires > now):
        state, text = "ok", "online"
    elif status == "online":
        state, text = "stale", f"says online, but its last heartbeat expired at {expires.isoformat()}"
    elif status == "offline":
        state, text = "offline", "offline (stopped, or its connection was lost)"
    else:
        state, text = "unknown", "never heard from (not running, or not yet connected)"
    problems = list((beat or {}).get("not_persisted", {}).values()) if isinstance(beat, dict) else []
    return {"name": name, "kind": "service", "state": "error" if problems and state == "ok" else state,
            "text": text + ("; cannot save: " + "; ".join(problems) if problems else ""),
            "since": since.isoformat() if since and state == "ok" else None,
            "pid": (beat or {}).get("pid") if isinstance(beat, dict) else None}


def collector_health(name: str, h: dict) -> dict:
    msg = h.get("message") or ""
    last = h.get("last_success")
    text = msg or h.get("state", "?")
    if last and h.get("state") != "ok":
        text += f" (last success {last})"
    return {"name": name, "kind": "collector", "state": h.get("state", "unknown"), "text": text,
            "source": h.get("source")}


def health(state: dict, now: datetime, recorder: dict | None = None, services=SERVICES) -> list[dict]:
    rows = [service_health(s, state.get("status", {}).get(s), state.get("heartbeat", {}).get(s), now)
            for s in services]
    if isinstance(state.get("curb_health", {}).get(""), dict):
        rows.append(collector_health("curb", state["curb_health"][""]))
    if isinstance(state.get("solar_health", {}).get(""), dict):
        rows.append(collector_health("solar", state["solar_health"][""]))
    for src, h in sorted(state.get("solar_source_health", {}).items()):
        if isinstance(h, dict):
            rows.append(collector_health(f"solar source {src}", h))
    if recorder is not None:
        rows.append({"name": "history", "kind": "recorder", "state": recorder.get("state", "unknown"),
                     "text": recorder.get("text", "")})
    return rows
