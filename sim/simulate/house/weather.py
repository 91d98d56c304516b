"""Weather: a typical-year file (hourly) -> per-minute sun and air for the run.

Sources: the two TMY3 files pvlib ships (Greensboro NC 723170TYA.CSV, Sand Point AK
703165TY.csv), any TMY3 or EPW file (pvlib.iotools), or a CSV with a header
`time,ghi,dni,dhi,temp_air[,wind_speed]` (time ISO 8601 with its UTC offset, hourly,
each row the average of the hour that ENDS at `time`, like TMY3).

Hourly -> minutes: each hour's irradiance is spread over its minutes in the shape of the
clear sky (pvlib Ineichen), which keeps every hour's energy; in partly cloudy hours the beam
gets a seeded AR(1) flicker (mean 1 over the hour) so that production moves minute to minute
as under passing clouds. Air temperature and wind are interpolated linearly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from scipy.signal import lfilter

PVLIB_DATA = Path(os.path.dirname(pvlib.__file__)) / "data"
# name -> (file in pvlib/data, IANA zone, country, subdivision)
BUILTIN = {
    "greensboro": ("723170TYA.CSV", "America/New_York", "US", "NC"),
    "sandpoint": ("703165TY.csv", "America/Anchorage", "US", "AK"),
}
HOURS = 8760  # a typical year; a leap day reuses the following hours
K_CAP = 2.0  # an hour's irradiance may sit at most this far above its clear-sky shape
FLICKER_TAU_MIN = 8.0  # correlation time of the cloud flicker (min)


class WeatherError(ValueError):
    """A weather source that cannot be read, phrased for the user (names the file)."""


@dataclass
class Weather:
    name: str
    source: str  # file path
    latitude: float
    longitude: float
    altitude_m: float
    std_offset_h: float  # the file's standard time (TMY3/EPW: local standard time)
    ghi: np.ndarray  # W/m2, HOURS values, row i = hour-of-year i (standard time) average
    dni: np.ndarray
    dhi: np.ndarray
    temp_air: np.ndarray  # C at the END of hour i
    wind: np.ndarray  # m/s at the end of hour i
    timezone: str | None = None  # known IANA zone (built-in sites)
    country: str | None = None
    subdivision: str | None = None


def read_weather(source: str) -> Weather:
    """A built-in site name or a file path -> hourly typical-year weather."""
    if source in BUILTIN:
        fname, tz, country, subdiv = BUILTIN[source]
        w = _read_file(PVLIB_DATA / fname)
        w.name, w.timezone, w.country, w.subdivision = source, tz, country, subdiv
        return w
    path = Path(source)
    if not path.is_file():
        raise WeatherError(f"weather {source!r}: neither a built-in site ({', '.join(BUILTIN)}) nor a file")
    return _read_file(path)


def _read_file(path: Path) -> Weather:
    try:
        if path.suffix.lower() == ".epw":
            data, meta = pvlib.iotools.read_epw(str(path), coerce_year=2001)
            offset = float(meta["TZ"])  # EPW rows are the hour ending at the stamp, like TMY3
        else:
            head = path.read_text(errors="replace").splitlines()[:1]
            if head and head[0].split(",")[0].strip().lower() == "time":
                return _read_csv(path)
            data, meta = pvlib.iotools.read_tmy3(str(path), coerce_year=2001, map_variables=True)
            offset = float(meta["TZ"])
    except WeatherError:
        raise
    except Exception as exc:  # pvlib raises many kinds on a malformed file
        raise WeatherError(f"{path}: not a readable TMY3/EPW/CSV weather file ({exc})") from None
    for col in ("ghi", "dni", "dhi", "temp_air"):
        if col not in data:
            raise WeatherError(f"{path}: no {col} column")
    wind = data["wind_speed"] if "wind_speed" in data else pd.Series(1.0, index=data.index)
    return _weather(path.stem, str(path), float(meta["latitude"]), float(meta["longitude"]),
                    float(meta.get("altitude", meta.get("elevation", 0.0)) or 0.0), offset,
                    data.index, data["ghi"], data["dni"], data["dhi"], data["temp_air"], wind)


def _read_csv(path: Path) -> Weather:
    df = pd.read_csv(path)
    if "latitude" not in df or "longitude" not in df:
        raise WeatherError(f"{path}: a CSV weather file needs latitude and longitude columns "
                           "(the same on every row)")
    for col in ("ghi", "dni", "dhi", "temp_air"):
        if col not in df:
            raise WeatherError(f"{path}: no {col} column")
    idx = pd.to_datetime(df["time"], utc=False)
    if idx.dt.tz is None:
        raise WeatherError(f"{path}: column time needs a UTC offset (e.g. 2025-01-01T01:00-05:00)")
    offset = idx.iloc[0].utcoffset().total_seconds() / 3600
    wind = df["wind_speed"] if "wind_speed" in df else pd.Series(1.0, index=df.index)
    return _weather(path.stem, str(path), float(df["latitude"].iloc[0]), float(df["longitude"].iloc[0]),
                    float(df["altitude"].iloc[0]) if "altitude" in df else 0.0, offset,
                    pd.DatetimeIndex(idx), df["ghi"], df["dni"], df["dhi"], df["temp_air"], wind)


def _weather(name, source, lat, lon, alt, offset, index, ghi, dni, dhi, temp, wind) -> Weather:
    """Place each row on its hour of the (standard-time) year: the row ending at `index`."""
    std = timezone(timedelta(hours=offset))
    local = pd.DatetimeIndex(index).tz_convert(std) if index.tz is not None else index.tz_localize(std)
    start = local - pd.Timedelta(hours=1)
    hoy = ((start.day_of_year - 1) * 24 + start.hour).to_numpy() % HOURS
    out = {}
    for key, col in (("ghi", ghi), ("dni", dni), ("dhi", dhi), ("temp_air", temp), ("wind", wind)):
        arr = np.full(HOURS, np.nan)
        arr[hoy] = np.asarray(col, dtype=float)
        s = pd.Series(arr).interpolate(limit_direction="both")  # a missing hour: its neighbours
        out[key] = s.to_numpy()
    if np.isnan(out["ghi"]).all():
        raise WeatherError(f"{source}: no usable rows")
    for key in ("ghi", "dni", "dhi"):
        out[key] = np.clip(out[key], 0, None)
    return Weather(name, source, lat, lon, alt, offset, **out)


def minute_weather(w: Weather, t0: datetime, n: int, seed: int, step_min: int = 1) -> dict[str, np.ndarray]:
    """Per-minute ghi, dni, dhi (W/m2), temp_air (C), wind (m/s), solar position, from t0 (UTC).
    `step_min` > 1: coarser steps (the annual yield test), same method."""
    times = pd.date_range(t0, periods=n, freq=f"{step_min}min", tz=timezone.utc)
    mid = times + pd.Timedelta(seconds=30 * step_min)  # the sun at the middle of each step
    std = mid.tz_convert(timezone(timedelta(hours=w.std_offset_h)))
    hoy = (((std.day_of_year - 1) * 24 + std.hour).to_numpy()) % HOURS
    loc = pvlib.location.Location(w.latitude, w.longitude, altitude=w.altitude_m)
    sp = loc.get_solarposition(mid)
    cs = loc.get_clearsky(mid, model="ineichen", solar_position=sp)
    clear_ghi, clear_dni = cs["ghi"].to_numpy(), cs["dni"].to_numpy()
    # each hour's clear-sky mean over the minutes of this run (the run may start mid-hour)
    uniq, inv = np.unique(hoy, return_inverse=True)
    cnt = np.bincount(inv)

    def spread(hourly: np.ndarray, shape: np.ndarray) -> np.ndarray:
        mean_shape = np.bincount(inv, weights=shape) / cnt
        k = np.divide(hourly[uniq], mean_shape, out=np.zeros(len(uniq)), where=mean_shape > 1.0)
        return shape * np.minimum(k, K_CAP)[inv]

    ghi = spread(w.ghi, clear_ghi)
    dhi = spread(w.dhi, clear_ghi)  # diffuse follows the sun's height, not the clear beam
    # a cloud edge may lift the beam a little above clear sky (enhancement), never far above
    dni = np.minimum(spread(w.dni, clear_dni) * _flicker(w, uniq, inv, cnt, n, seed, step_min), 1.2 * clear_dni)
    ghi = np.maximum(ghi, 0.0)
    t_hours = (std - std.normalize()).total_seconds().to_numpy() / 3600 + (std.day_of_year.to_numpy() - 1) * 24
    at = np.arange(HOURS + 1.0)  # temp_air[i] is at the end of hour i, i.e. at hour i + 1
    temp = np.interp(t_hours % HOURS, at, np.concatenate([w.temp_air[-1:], w.temp_air]))
    wind = np.interp(t_hours % HOURS, at, np.concatenate([w.wind[-1:], w.wind]))
    return {"ts": int(t0.timestamp()) + 60 * step_min * np.arange(n, dtype=np.int64),
            "ghi": ghi, "dni": dni, "dhi": dhi, "temp_air": temp, "wind": wind,
            "zenith": sp["apparent_zenith"].to_numpy(), "azimuth": sp["azimuth"].to_numpy(),
            "dni_extra": pvlib.irradiance.get_extra_radiation(mid).to_numpy(), "index": times}


def _flicker(w: Weather, uniq, inv, cnt, n: int, seed: int, step_min: int) -> np.ndarray:
    """Mean-one multiplicative beam noise, strongest in half-clear hours (clearness ~ 0.5)."""
    rng = np.random.default_rng([seed, 7919])
    a = np.exp(-step_min / FLICKER_TAU_MIN)
    e = rng.standard_normal(n) * np.sqrt(1 - a * a)
    x = lfilter([1.0], [1.0, -a], e)  # AR(1), unit variance
    hourly_kt = np.divide(w.dhi[uniq], np.maximum(w.ghi[uniq], 1.0))  # diffuse fraction
    amp = 4.0 * hourly_kt * (1.0 - hourly_kt)  # 0 when all beam or all diffuse, 1 at half
    f = np.clip(1.0 + 0.6 * amp[inv] * x, 0.0, None)
    mean = np.bincount(inv, weights=f) / cnt
    return f / np.where(mean > 0, mean, 1.0)[inv]
