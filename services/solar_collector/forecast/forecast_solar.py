"""Forecast.Solar: GET /estimate/{lat}/{lon}/{dec}/{az}/{kwp} (with a key: /{key}/estimate/...).

We ask for `time=iso8601` (offsets, no DST ambiguity) but also read the default plain local
times (`2024-04-26 07:00:00`) in `message.info.timezone`, the location's IANA zone.
`watt_hours_period` is the energy of the period that ENDS at its key (the first key of a day
is sunrise, the last sunset); without it, `watts` (power at instants) is integrated by the
trapezoid rule, which gives the same figures. Periods are re-binned onto the hourly grid.

Errors (doc.forecast.solar): 400 bad URL/key, 401/403 key refused, 404 malformed path,
422 plane/config refused, 429 rate limit (`X-Ratelimit-Retry-At`, also in the body as
`message.ratelimit.retry-at`; calling earlier extends the ban), 502/503 unreachable or the
quarterly maintenance.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..core import AuthError, BadData, RateLimited, SourceError, Unreachable, parse_watts
from .model import Point, Refused, api_azimuth, common_step_s, rebin

KIND = "forecast_solar"


def estimate_path(lat: float, lon: float, tilt_deg: float, compass_deg: float, size_w: float,
                  key: str | None = None) -> str:
    """The path: lat/lon to 4 decimals (about 10 m), integer tilt and south-zero azimuth, kWp."""
    az = round(api_azimuth(compass_deg))
    az = -180 if az == 180 else az
    path = f"/estimate/{lat:.4f}/{lon:.4f}/{round(tilt_deg)}/{az}/{size_w / 1000:g}"
    return f"/{key}{path}" if key else path


def _stamp(text: str, tz: ZoneInfo | None, field: str) -> datetime:
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise BadData(f"result.{field}: {str(text)[:40]!r} is not a time", raw=str(text)[:200]) from None
    if dt.tzinfo is None:
        if tz is None:
            raise BadData(f"result.{field}: local time {text!r} but no message.info.timezone")
        dt = dt.replace(tzinfo=tz)
    return dt


def parse(body: str, size_w: float, max_ratio: float) -> list[Point]:
    """The estimate body -> hourly (the API's own step) points of mean AC watts."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise BadData(f"the answer is not JSON ({exc})", raw=body[:200]) from None
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, dict):
        raise BadData("no `result` object in the answer", raw=body[:200])
    tz = None
    zone = ((data.get("message") or {}).get("info") or {}).get("timezone")
    if zone:
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise BadData(f"message.info.timezone {zone!r} is not a time zone", raw=body[:200]) from None
    field = "watt_hours_period" if isinstance(result.get("watt_hours_period"), dict) else "watts"
    series = result.get(field)
    if not isinstance(series, dict) or len(series) < 2:
        raise BadData("result has neither watt_hours_period nor watts with at least two times", raw=body[:200])
    values = sorted((_stamp(k, tz, field), parse_watts(v, f"result.{field}[{k}]")) for k, v in series.items())
    limit = size_w * max_ratio
    for at, v in values:
        if v < 0:
            raise BadData(f"result.{field} at {at.isoformat()} is negative ({v:g})", raw=body[:200])
        if field == "watts" and v > limit:
            raise BadData(f"result.watts {v:g} W is absurd for a {size_w:g} W system", raw=body[:200])
    periods = []
    for (a, va), (b, vb) in zip(values, values[1:]):
        hours = (b - a).total_seconds() / 3600
        wh = vb if field == "watt_hours_period" else (va + vb) / 2 * hours
        periods.append((a, b, wh))
    for a, b, wh in periods:
        if wh > limit * (b - a).total_seconds() / 3600 + 1:
            raise BadData(f"result.{field}: {wh:g} Wh from {a.isoformat()} to {b.isoformat()} is absurd "
                          f"for a {size_w:g} W system", raw=body[:200])
    stamps = [at for at, _ in values]
    step = max(900.0, common_step_s(stamps))
    anchor = next((b for a, b in zip(stamps, stamps[1:]) if (b - a).total_seconds() == step), stamps[-1])
    return rebin(periods, step, anchor)


def retry_at(headers, body: str, now: datetime) -> datetime:
    """When a 429 lifts: X-Ratelimit-Retry-At, else the body's message.ratelimit.retry-at,
    else an hour (the public period)."""
    text = headers.get("X-Ratelimit-Retry-At")
    if not text:
        try:
            text = json.loads(body)["message"]["ratelimit"]["retry-at"]
        except (ValueError, KeyError, TypeError):
            text = None
    when = None
    if text:
        try:
            when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None and when.tzinfo is None:
            when = None
    return when or now + timedelta(hours=1)  # one in the past: the failure backoff decides


def _text(body: str) -> str:
    """The API's own sentence: message.text, else the body's start."""
    try:
        data = json.loads(body)
        msg = data.get("message")
        text = msg.get("text") if isinstance(msg, dict) else msg
        return str(text or data.get("result") or body)[:160]
    except (ValueError, AttributeError):
        return body.strip()[:160]


def check_status(status: int, headers, body: str, url: str, now: datetime) -> None:
    """Raise the typed error for a non-200 answer."""
    if status == 200:
        return
    text = _text(body)
    if status == 429:
        until = retry_at(headers, body, now)
        raise RateLimited(f"Forecast.Solar: {text}; next call at {until.isoformat()}", raw=body[:200],
                          not_before=until)
    if status in (401, 403):
        raise AuthError(f"Forecast.Solar refused the API key (HTTP {status}): {text}", raw=body[:200])
    if status in (400, 404, 422):
        raise Refused(f"Forecast.Solar refused {url} (HTTP {status}): {text}", raw=body[:200])
    if status >= 500:
        what = "maintenance or unreachable" if status in (502, 503) else "server error"
        raise Unreachable(f"Forecast.Solar: HTTP {status} ({what})", raw=body[:200])
    raise SourceError(f"Forecast.Solar: HTTP {status}: {text}", raw=body[:200])
