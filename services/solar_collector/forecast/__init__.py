"""The solar forecast (solar.forecast): Forecast.Solar or Open-Meteo -> circuitq/solar/forecast.

    forecast.model           pure rules: azimuth, alignment, irradiance -> AC W, schedule, health
    forecast.forecast_solar  Forecast.Solar request path, answer parser, error mapping
    forecast.open_meteo      Open-Meteo query, answer parser, error mapping
    forecast.client          one call on a worker thread
    forecast.runner          schedule, state file, publishing, health and alerts

See docs/solar_collector.md, "Solar forecast".
"""
from __future__ import annotations

from circuitq.config import ConfigError


def make_forecast(ctx):
    """The runner for solar.forecast, or None when the section has no forecast."""
    solar = ctx.cfg.solar
    if solar is None or solar.forecast is None:
        return None
    where = getattr(ctx.args, "config", None) or "config"
    missing = [k for k in ("latitude", "longitude") if getattr(ctx.cfg.site, k) is None]
    if missing:
        raise ConfigError(f"{where}: solar.forecast needs " + " and ".join(f"site.{k}" for k in missing)
                          + " (degrees, north and east positive)")
    from .client import ForecastClient
    from .runner import ForecastRunner
    return ForecastRunner(ctx, solar, ForecastClient(solar.forecast, solar, ctx.cfg.site, ctx.secrets))
