"""PV: per-minute weather -> plane-of-array irradiance -> cell temperature -> DC -> AC.

The PVWatts chain, with pvlib's own functions: Hay-Davies transposition, the physical
incidence-angle modifier on the beam, the SAPM cell temperature of a close-mounted glass
module (a roof), pvwatts_dc with the array's temperature coefficient and its losses, and
the PVWatts inverter clipped at `inverter_w` AC (default: an inverter of the array's DC size).
"""
from __future__ import annotations

import numpy as np
import pvlib

from ..spec import PVSpec

TEMP_PARAMS = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["close_mount_glass_glass"]
INVERTER_ETA = 0.96  # PVWatts nominal inverter efficiency
ALBEDO = 0.2


def inverter_dc_w(pv: PVSpec) -> float:
    """The PVWatts inverter's DC rating (W) that clips at inverter_w AC."""
    return (pv.inverter_w or pv.dc_w * INVERTER_ETA) / INVERTER_ETA


def pv_ac_w(pv: PVSpec, mw: dict[str, np.ndarray]) -> np.ndarray:
    """AC watts per minute from minute_weather() output (W, >= 0)."""
    poa = pvlib.irradiance.get_total_irradiance(
        pv.tilt_deg, pv.azimuth_deg, mw["zenith"], mw["azimuth"], mw["dni"], mw["ghi"], mw["dhi"],
        dni_extra=mw["dni_extra"], model="haydavies", albedo=ALBEDO)
    aoi = pvlib.irradiance.aoi(pv.tilt_deg, pv.azimuth_deg, mw["zenith"], mw["azimuth"])
    iam = pvlib.iam.physical(aoi)
    beam = np.nan_to_num(np.asarray(poa["poa_direct"], dtype=float)) * np.nan_to_num(iam)
    diffuse = np.nan_to_num(np.asarray(poa["poa_diffuse"], dtype=float))
    effective = np.clip(beam + diffuse, 0, None)  # W/m2 reaching the cells
    total = np.clip(np.nan_to_num(np.asarray(poa["poa_global"], dtype=float)), 0, None)
    t_cell = pvlib.temperature.sapm_cell(total, mw["temp_air"], mw["wind"], **TEMP_PARAMS)
    dc = pvlib.pvsystem.pvwatts_dc(effective, t_cell, pv.dc_w, pv.gamma_pdc) * (1 - pv.losses_pct / 100)
    ac = pvlib.inverter.pvwatts(np.clip(dc, 0, None), inverter_dc_w(pv), INVERTER_ETA)
    return np.clip(np.nan_to_num(np.asarray(ac, dtype=float)), 0, None)


def pvwatts_reference_kwh(pv: PVSpec, weather) -> float:
    """pvlib's own PVWatts ModelChain on the hourly file: the annual AC yield (kWh).

    The yardstick for pv_ac_w (tests): the same system, hour by hour as PVWatts runs it."""
    import pandas as pd
    from datetime import timedelta, timezone
    std = timezone(timedelta(hours=weather.std_offset_h))
    idx = pd.date_range("2001-01-01 00:30", periods=len(weather.ghi), freq="1h", tz=std)
    wx = pd.DataFrame({"ghi": weather.ghi, "dni": weather.dni, "dhi": weather.dhi,
                       "temp_air": weather.temp_air, "wind_speed": weather.wind}, index=idx)
    losses = {k: 0.0 for k in ("soiling", "shading", "snow", "mismatch", "wiring", "connections",
                               "lid", "nameplate_rating", "age", "availability")}
    losses["soiling"] = pv.losses_pct
    system = pvlib.pvsystem.PVSystem(
        surface_tilt=pv.tilt_deg, surface_azimuth=pv.azimuth_deg, albedo=ALBEDO,
        module_parameters={"pdc0": pv.dc_w, "gamma_pdc": pv.gamma_pdc},
        inverter_parameters={"pdc0": inverter_dc_w(pv), "eta_inv_nom": INVERTER_ETA},
        temperature_model_parameters=TEMP_PARAMS, losses_parameters=losses)
    loc = pvlib.location.Location(weather.latitude, weather.longitude, altitude=weather.altitude_m)
    mc = pvlib.modelchain.ModelChain.with_pvwatts(system, loc, losses_model="pvwatts")
    mc.run_model(wx)
    return float(mc.results.ac.clip(lower=0).sum()) / 1000.0
