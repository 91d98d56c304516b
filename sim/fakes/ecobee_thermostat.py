"""The fake ecobee's thermostat: settings, runtime, events (holds) and revisions.

Temperatures are °F x 10 as on the wire. Holds end at their endDate/endTime on the
thermostat's own clock (its time zone), so a hold left by a crashed client runs out here too.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

TSTAT_ID = "318324666666"  # the example house's heat_pump_south
LOCAL_FMT = "%Y-%m-%d %H:%M:%S"
RUNNING = ("heatPump", "heatPump2", "heatPump3", "compCool1", "compCool2", "auxHeat1", "auxHeat2", "auxHeat3")

MESSAGES = {
    1: "Authentication failed.", 2: "Not authorized.", 4: "Serialization error.",
    5: "Invalid request format.", 7: "Validation error.", 8: "Invalid function.",
    9: "Invalid selection.", 14: "Authentication token has expired. Refresh your tokens.",
    16: "Invalid token. Token has been deauthorized by user. You must re-request authorization.",
}


class ApiError(Exception):
    def __init__(self, code: int, message: str | None = None):
        super().__init__(message or MESSAGES.get(code, "error"))
        self.code, self.message = code, message or MESSAGES.get(code, "error")


class Thermostat:
    """One thermostat's state; temperatures in °F x 10 as on the wire."""

    def __init__(self, identifier: str = TSTAT_ID, name: str = "South", tz: str = "America/New_York"):
        self.identifier, self.name, self.tz = identifier, name, ZoneInfo(tz)
        self.connected = True
        self.settings = {"hvacMode": "heat", "heatRangeLow": 450, "heatRangeHigh": 790,
                         "coolRangeLow": 650, "coolRangeHigh": 920, "heatCoolMinDelta": 30}
        self.program = {"desiredHeat": 690, "desiredCool": 760}  # what the schedule asks for
        self.actualTemperature, self.actualHumidity = 700, 45
        self.demand = "heatPump,fan"  # what the equipment runs when no hold stops it
        self.events: list[dict] = []  # holds, newest first
        self.revs = {"thermostat": 260101000000, "runtime": 260101000000}
        self._seen: dict[str, str] = {}

    def hold(self) -> dict | None:
        return next((e for e in self.events if e["type"] == "hold" and e["running"]), None)

    def runtime(self) -> dict:
        h = self.hold()
        heat = h["heatHoldTemp"] if h else self.program["desiredHeat"]
        cool = h["coolHoldTemp"] if h else self.program["desiredCool"]
        return {"connected": self.connected, "actualTemperature": self.actualTemperature,
                "actualHumidity": self.actualHumidity, "desiredHeat": heat, "desiredCool": cool,
                "desiredHeatRange": [self.settings["heatRangeLow"], self.settings["heatRangeHigh"]],
                "desiredCoolRange": [self.settings["coolRangeLow"], self.settings["coolRangeHigh"]],
                "desiredFanMode": "auto"}

    def equipment(self) -> str:
        h = self.hold()
        if h is None:
            return self.demand
        mode, t = self.settings["hvacMode"], self.actualTemperature
        need = (mode in ("heat", "auto", "auxHeatOnly") and t < h["heatHoldTemp"]) or \
               (mode in ("cool", "auto") and t > h["coolHoldTemp"])
        return self.demand if need else ",".join(x for x in self.demand.split(",") if x and x not in RUNNING and x != "fan")

    def refresh(self, now: datetime) -> None:
        """Drop holds that ended (thermostat local time) and bump revisions on any change."""
        local = now.astimezone(self.tz).strftime(LOCAL_FMT)
        self.events = [e for e in self.events if f"{e['endDate']} {e['endTime']}" > local]
        parts = {"thermostat": json.dumps([self.settings, self.events, self.program, self.connected]),
                 "runtime": json.dumps([self.runtime(), self.equipment()])}
        for key, snap in parts.items():
            if self._seen.get(key) != snap:
                if key in self._seen:
                    self.revs[key] += 1
                self._seen[key] = snap

    def body(self, now: datetime, sel: dict) -> dict:
        local, utc = now.astimezone(self.tz), now.astimezone(timezone.utc)
        out = {"identifier": self.identifier, "name": self.name,
               "thermostatRev": str(self.revs["thermostat"]), "isRegistered": True,
               "thermostatTime": local.strftime(LOCAL_FMT), "utcTime": utc.strftime(LOCAL_FMT)}
        if flag(sel, "includeRuntime"):
            out["runtime"] = {"runtimeRev": str(self.revs["runtime"]), **self.runtime()}
        if flag(sel, "includeSettings"):
            out["settings"] = dict(self.settings)
        if flag(sel, "includeEquipmentStatus"):
            out["equipmentStatus"] = self.equipment()
        if flag(sel, "includeEvents"):
            out["events"] = [dict(e) for e in self.events]
        if flag(sel, "includeLocation"):
            off = local.utcoffset() or timedelta(0)
            out["location"] = {"timeZone": str(self.tz), "timeZoneOffsetMinutes": int(off.total_seconds() // 60)}
        return out

    def set_hold(self, p: dict, now: datetime) -> None:
        kind = p.get("holdType", "indefinite")
        if kind not in ("dateTime", "nextTransition", "indefinite", "holdHours"):
            raise ApiError(7, f"Invalid holdType: {kind}")
        if "holdClimateRef" not in p:
            for k in ("heatHoldTemp", "coolHoldTemp"):
                if not isinstance(p.get(k), int):
                    raise ApiError(7, f"{k} is required (integer, °F x 10) unless holdClimateRef is set")
            s = self.settings
            if not s["heatRangeLow"] <= p["heatHoldTemp"] <= s["heatRangeHigh"]:
                raise ApiError(7, f"heatHoldTemp {p['heatHoldTemp']} outside {s['heatRangeLow']}..{s['heatRangeHigh']}")
            if not s["coolRangeLow"] <= p["coolHoldTemp"] <= s["coolRangeHigh"]:
                raise ApiError(7, f"coolHoldTemp {p['coolHoldTemp']} outside {s['coolRangeLow']}..{s['coolRangeHigh']}")
            if p["coolHoldTemp"] - p["heatHoldTemp"] < s["heatCoolMinDelta"]:
                raise ApiError(7, "coolHoldTemp must exceed heatHoldTemp by heatCoolMinDelta")
        local = now.astimezone(self.tz)
        start = (p.get("startDate") or local.strftime("%Y-%m-%d"), p.get("startTime") or local.strftime("%H:%M:%S"))
        if kind == "dateTime":
            if not p.get("endDate") or not p.get("endTime"):
                raise ApiError(7, "endDate and endTime are required for a dateTime hold")
            end = (p["endDate"], p["endTime"])
            try:
                datetime.strptime(f"{end[0]} {end[1]}", LOCAL_FMT)
                datetime.strptime(f"{start[0]} {start[1]}", LOCAL_FMT)
            except ValueError:
                raise ApiError(7, "dates must be YYYY-MM-DD and times HH:MM:SS") from None
        elif kind == "holdHours":
            if not isinstance(p.get("holdHours"), int):
                raise ApiError(7, "holdHours is required for a holdHours hold")
            e = local + timedelta(hours=p["holdHours"])
            end = (e.strftime("%Y-%m-%d"), e.strftime("%H:%M:%S"))
        else:  # indefinite / nextTransition: far in the future for this fake
            end = ("2035-01-01", "00:00:00")
        self.events = [e for e in self.events if e["type"] != "hold"]
        self.events.insert(0, {"type": "hold", "name": "auto", "running": True,
                               "startDate": start[0], "startTime": start[1], "endDate": end[0],
                               "endTime": end[1], "isTemperatureAbsolute": True,
                               "heatHoldTemp": p.get("heatHoldTemp", 0), "coolHoldTemp": p.get("coolHoldTemp", 0),
                               "holdClimateRef": p.get("holdClimateRef", "")})

    def resume(self, p: dict) -> None:
        if p.get("resumeAll") in (True, "true"):
            self.events = []
        elif self.events:
            self.events.pop(0)


def flag(sel: dict, key: str) -> bool:
    return sel.get(key) in (True, "true", "True")
