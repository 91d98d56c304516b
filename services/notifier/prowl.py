"""Prowl's public API, spoken directly with requests (as CircuitQueueing's prowl.sh did with curl).

Why not apprise's Prowl plugin: it has a fixed host (no local fake) and hides the XML answer,
whose `remaining`/`resetdate` we need to respect the 1,000 calls/hour/IP limit.

Answers (prowlapp.com/api.php):
  200 <success code="200" remaining="993" resetdate="1382212452"/>  resetdate = Unix epoch
  400 validation, 401 bad key, 406 IP over the hourly limit, 409 not approved, 500 server error
  as <error code="...">message</error>.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

import requests

from circuitq.config.endpoint import parse_endpoint
from circuitq.payloads import Alert

PATH = "/publicapi/add"
LIMITS = {"application": 256, "event": 1024, "description": 10000}  # bytes, UTF-8

# ok | retry (backoff) | limit (wait for the reset) | rejected (this message can never go)
# | dead (no message can go on this channel: bad key)
Kind = Literal["ok", "retry", "limit", "rejected", "dead"]


@dataclass(frozen=True)
class Result:
    kind: Kind
    detail: str = ""
    code: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None


def add_url(host: str) -> str:
    """https://<host>/publicapi/add; plain http only for a loopback host (the local fake)."""
    return parse_endpoint(host, any_port=True) + PATH


def clip(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, never cutting a character in half."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def form(alert: Alert, apikey: str, application: str, when: str, providerkey: str | None = None) -> dict:
    event = ("Resolved: " if alert.resolved else "") + alert.title
    description = f"{alert.message}\n({alert.source}, {when})"
    data = {"apikey": apikey, "application": clip(application, LIMITS["application"]),
            "event": clip(event, LIMITS["event"]),
            "description": clip(description, LIMITS["description"]), "priority": str(alert.priority)}
    if providerkey:
        data["providerkey"] = providerkey
    return data


def parse(status: int, body: str) -> Result:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        root = None
    ok = root.find("success") if root is not None else None
    if status == 200 and ok is not None:
        remaining = int(ok.get("remaining")) if (ok.get("remaining") or "").isdigit() else None
        reset = ok.get("resetdate")
        reset_at = datetime.fromtimestamp(int(reset), timezone.utc) if reset and reset.isdigit() else None
        return Result("ok", "", 200, remaining, reset_at)
    err = root.find("error") if root is not None else None
    code = int(err.get("code")) if err is not None and (err.get("code") or "").isdigit() else status
    text = (err.text or "").strip() if err is not None else body.strip()[:200]
    detail = f"Prowl {code}: {text or 'no message'}"
    if code == 406:
        return Result("limit", detail, code)
    if code in (401, 405):  # bad key, or a server that refuses us: no retry can help
        return Result("dead", detail, code)
    if code == 400:  # this message failed validation; others may pass
        return Result("rejected", detail, code)
    return Result("retry", detail, code)  # 409, 5xx, anything unexpected


def send(session: requests.Session, url: str, data: dict, timeout_s: float) -> Result:
    try:
        resp = session.post(url, data=data, timeout=timeout_s)
    except requests.RequestException as exc:
        return Result("retry", f"Prowl unreachable: {type(exc).__name__}: {exc}")
    return parse(resp.status_code, resp.text)
