"""Open-Meteo: GET /v1/forecast with the array's tilt and azimuth -> AC watts.

Open-Meteo gives irradiance, not power: `global_tilted_irradiance` (W/m2) is the mean of the
PRECEDING hour (or 15 min with `minutely_15`), so the value stamped 13:00 is the point
12:00-13:00. `temperature_2m` is the air temperature at the stamp; the period's temperature
is the mean of its two ends. Times are ISO strings without an offset; UTC is the stamp minus
`utc_offset_seconds` (one offset for the whole answer, the one valid when it was made: Open-Meteo
does not follow a DST change inside the series, so we ask for GMT and still apply the offset).

Errors: 400 (a bad parameter) and 429 (over a limit) carry {"error": true, "reason": "..."}.
The reason says which limit: "Minutely ..." (next minute), "Hourly ..." (next hour), "Daily
... try again tomorrow" (next UTC midnight); the wording is not documented, so anything
else waits an hour.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from ..core import BadData, RateLimited, SourceError, Unreachable, next_hour, next_minute
from .model import Point, Refused, ac_watts, api_azimuth

KIND = "open_meteo"
PATH = "/v1/forecast"
VARIABLES = "global_tilted_irradiance,temperature_2m"


def query(lat: float, lon: float, tilt_deg: float, compass_deg: float, days: int, step_min: int) -> dict:
    q = {"latitude": f"{lat:.4f}", "longitude": f"{lon:.4f}", "tilt": f"{tilt_deg:g}",
         "azimuth": f"{api_azimuth(compass_deg):g}", "timezone": "GMT", "forecast_days": str(days)}
    if step_min == 15:
        q.update({"minutely_15": VARIABLES, "forecast_minutely_15": str(days * 96)})
    else:
        q["hourly"] = VARIABLES
    return q


def _number(v, what: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise BadData(f"{what} is not a number: {str(v)[:40]!r}", raw=str(v)[:200])
    return float(v)


def parse(body: str, step_min: int, size_w: float, losses_pct: float, inverter_w: float | None) -> list[Point]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise BadData(f"the answer is not JSON ({exc})", raw=body[:200]) from None
    if not isinstance(data, dict):
        raise BadData("the answer is not a JSON object", raw=body[:200])
    if data.get("error"):
        raise Refused(f"Open-Meteo: {data.get('reason')}", raw=body[:200])
    block = "minutely_15" if step_min == 15 else "hourly"
    series = data.get(block)
    if not isinstance(series, dict):
        raise BadData(f"no `{block}` object in the answer", raw=body[:200])
    times, gti, temp = series.get("time"), series.get("global_tilted_irradiance"), series.get("temperature_2m")
    if not isinstance(times, list) or not isinstance(gti, list) or len(gti) != len(times):
        raise BadData(f"{block}.time and {block}.global_tilted_irradiance are not lists of one length",
                      raw=body[:200])
    if not isinstance(temp, list) or len(temp) != len(times):
        temp = [None] * len(times)
    offset = data.get("utc_offset_seconds", 0)
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise BadData(f"utc_offset_seconds is not a whole number: {offset!r}", raw=body[:200])
    step = timedelta(minutes=step_min)
    points, prev_temp = [], None
    for i, stamp in enumerate(times):
        end = _utc(stamp, offset, f"{block}.time[{i}]")
        g = _number(gti[i], f"{block}.global_tilted_irradiance[{i}]")
        t = _number(temp[i], f"{block}.temperature_2m[{i}]")
        air = (t + prev_temp) / 2 if t is not None and prev_temp is not None else t
        prev_temp = t
        if g is None:  # beyond the model's range: no data, not darkness
            continue
        if g < 0 or g > 1500:
            raise BadData(f"{block}.global_tilted_irradiance[{i}] = {g:g} W/m2 is impossible", raw=body[:200])
        points.append(Point(end - step, end, round(ac_watts(g, air, size_w, losses_pct, inverter_w), 1)))
    if not points:
        raise BadData(f"{block} has no irradiance values", raw=body[:200])
    return points


def _utc(stamp, offset_s: int, what: str) -> datetime:
    if isinstance(stamp, int) and not isinstance(stamp, bool):  # timeformat=unixtime: GMT already
        return datetime.fromtimestamp(stamp, timezone.utc)
    try:
        local = datetime.fromisoformat(str(stamp))
    except ValueError:
        raise BadData(f"{what} is not a time: {str(stamp)[:40]!r}", raw=str(stamp)[:200]) from None
    if local.tzinfo is not None:
        return local.astimezone(timezone.utc)
    return (local - timedelta(seconds=offset_s)).replace(tzinfo=timezone.utc)


def limit_lifts(reason: str, now: datetime) -> datetime:
    text = reason.lower()
    if "minute" in text:
        return next_minute(now)
    if "daily" in text or "tomorrow" in text:
        n = now.astimezone(timezone.utc)
        return datetime(n.year, n.month, n.day, tzinfo=timezone.utc) + timedelta(days=1)
    return next_hour(now)


def _reason(body: str) -> str:
    try:
        return str(json.loads(body).get("reason") or body)[:160]
    except (ValueError, AttributeError):
        return body.strip()[:160]


def check_status(status: int, headers, body: str, url: str, now: datetime) -> None:
    if status == 200:
        return
    reason = _reason(body)
    if status == 429:
        until = limit_lifts(reason, now)
        raise RateLimited(f"Open-Meteo: {reason}; next call at {until.isoformat()}", raw=body[:200],
                          not_before=until)
    if status == 400:
        raise Refused(f"Open-Meteo refused the request (HTTP 400): {reason}", raw=body[:200])
    if status >= 500:
        raise Unreachable(f"Open-Meteo: HTTP {status}", raw=body[:200])
    raise SourceError(f"Open-Meteo: HTTP {status}: {reason}", raw=body[:200])
