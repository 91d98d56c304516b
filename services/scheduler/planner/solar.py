"""Solar forecast without a service: clear-sky production of the configured array, scaled by
the clearness the house has recently seen.

The sun's position is the NOAA low-precision formula (about 0.01 deg, plenty at 15-min
slots). Clear-sky irradiance: Haurwitz for global horizontal, Meinel for direct normal,
the rest diffuse; the array sees it through an isotropic-sky transposition. The model's
bias (shading, soiling, a wrong tilt) does not matter much: production is forecast as
model x clearness, and clearness is learned as actual / model, so a steady bias is learned
away with the weather.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

J2000 = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)
RAD = math.pi / 180
SOLAR_CONSTANT = 1367.0  # W/m2
ALBEDO = 0.2  # ground reflectance
TEMP_DERATE = 0.92  # typical cell heating at midday: -0.4 %/K x ~20 K above 25 C
RECENT_TAU_H = 3.0  # how fast today's clearness fades into the usual clearness, ahead (h)
DAY_ALPHA = 0.3  # weight of yesterday's clearness in the usual clearness


def sun_position(t: datetime, lat: float, lon: float) -> tuple[float, float]:
    """(cosine of the zenith angle, azimuth in degrees clockwise from north)."""
    d = (t - J2000).total_seconds() / 86400.0
    g = (357.529 + 0.98560028 * d) * RAD  # mean anomaly
    q = 280.459 + 0.98564736 * d  # mean longitude (deg)
    lam = (q + 1.915 * math.sin(g) + 0.020 * math.sin(2 * g)) * RAD  # ecliptic longitude
    eps = (23.439 - 0.00000036 * d) * RAD  # obliquity
    ra = math.atan2(math.cos(eps) * math.sin(lam), math.cos(lam))
    dec = math.asin(math.sin(eps) * math.sin(lam))
    gmst_h = (18.697374558 + 24.06570982441908 * d) % 24
    ha = (gmst_h * 15 + lon) * RAD - ra  # hour angle
    la = lat * RAD
    cos_z = math.sin(la) * math.sin(dec) + math.cos(la) * math.cos(dec) * math.cos(ha)
    az = math.atan2(-math.sin(ha), math.tan(dec) * math.cos(la) - math.sin(la) * math.cos(ha))
    return cos_z, (az / RAD) % 360


@dataclass(frozen=True, slots=True)
class Array:
    lat: float
    lon: float
    kwp: float  # DC nameplate (kW)
    tilt_deg: float = 20.0
    azimuth_deg: float = 180.0  # compass
    inverter_kw: float | None = None
    losses: float = 0.14

    def clear_sky_w(self, t: datetime) -> float:
        """AC watts the array would make under a clear sky at t."""
        cos_z, az = sun_position(t, self.lat, self.lon)
        if cos_z <= 0.01:
            return 0.0
        ghi = 1098.0 * cos_z * math.exp(-0.059 / cos_z)  # Haurwitz
        air_mass = 1.0 / (cos_z + 0.50572 * (96.07995 - math.degrees(math.acos(cos_z))) ** -1.6364)
        dni = SOLAR_CONSTANT * 0.7 ** (air_mass ** 0.678)  # Meinel
        dhi = max(0.0, ghi - dni * cos_z)
        tilt = self.tilt_deg * RAD
        sin_z = math.sqrt(max(0.0, 1 - cos_z * cos_z))
        cos_aoi = cos_z * math.cos(tilt) + sin_z * math.sin(tilt) * math.cos((az - self.azimuth_deg) * RAD)
        poa = (dni * max(0.0, cos_aoi) + dhi * (1 + math.cos(tilt)) / 2
               + ghi * ALBEDO * (1 - math.cos(tilt)) / 2)
        w = self.kwp * poa * (1 - self.losses) * TEMP_DERATE  # kWp x W/m2 / 1000 W/m2 -> kW -> W
        if self.inverter_kw is not None:
            w = min(w, self.inverter_kw * 1000)
        return w


@dataclass(slots=True)
class Clearness:
    """What share of the clear-sky production the house gets: now, and on a usual day."""
    usual: float = 0.6  # a first guess until a day has been seen
    recent_actual_wh: float = 0.0  # the last hour or so of daylight, decayed
    recent_model_wh: float = 0.0
    day_actual_wh: float = 0.0  # today so far
    day_model_wh: float = 0.0
    day: object = None  # the local date counted in day_*
    days_seen: int = 0
    _last: datetime | None = field(default=None, repr=False)

    def observe(self, t: datetime, actual_w: float, model_w: float, local_day) -> None:
        """One production reading; weights by the time since the previous one."""
        if self._last is None or t <= self._last:
            self._last = t
            return
        dt_h = min((t - self._last).total_seconds() / 3600, 0.25)  # a gap is not an hour of data
        self._last = t
        if local_day != self.day:
            self._close_day()
            self.day = local_day
        if model_w < 50:  # night and dawn tell nothing about clouds
            return
        decay = math.exp(-dt_h / 1.0)  # the recent ratio remembers about an hour
        self.recent_actual_wh = self.recent_actual_wh * decay + actual_w * dt_h
        self.recent_model_wh = self.recent_model_wh * decay + model_w * dt_h
        self.day_actual_wh += actual_w * dt_h
        self.day_model_wh += model_w * dt_h

    def _close_day(self) -> None:
        if self.day_model_wh > 500:  # a day with at least a little sun to compare against
            k = min(1.2, self.day_actual_wh / self.day_model_wh)
            self.usual = k if self.days_seen == 0 else (1 - DAY_ALPHA) * self.usual + DAY_ALPHA * k
            self.days_seen += 1
        self.day_actual_wh = self.day_model_wh = 0.0

    def now(self) -> float | None:
        if self.recent_model_wh < 100:
            return None
        return min(1.2, self.recent_actual_wh / self.recent_model_wh)

    def ahead(self, lead_h: float) -> float:
        """Expected clearness `lead_h` hours ahead: today's fades into the usual."""
        k = self.now()
        if k is None:
            return self.usual
        return self.usual + (k - self.usual) * math.exp(-max(0.0, lead_h) / RECENT_TAU_H)

    def dump(self) -> dict:
        return {"usual": round(self.usual, 4), "days_seen": self.days_seen}

    def restore(self, rec: dict) -> None:
        self.usual = float(rec.get("usual", self.usual))
        self.days_seen = int(rec.get("days_seen", 0))
