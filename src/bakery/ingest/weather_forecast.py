"""The nightly weather forecast: the next days' weather for each store's coordinates, from the Open-Meteo client
into the landing zone, where the night's ETL takes it like any weather file.

The models use forecast weather for future days where it exists (backtests keep their honest lookahead rule,
weather_lookahead_days) and climatology after it. When the API is down the night goes on with climatology: the
step is recorded in ops.runs as failed and the monitoring step raises a WARNING."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bakery.config import Settings
from bakery.ingest.weather_api import WeatherApiError, fetch_to_landing
from bakery.lakehouse import Lakehouse
from bakery.ops.runs import track_run
from bakery.tables import STORES

log = logging.getLogger(__name__)

JOB = "weather_forecast"  # its name in ops.runs and in the night's alerts


@dataclass
class WeatherForecastResult:
    """What the fetch did. `ok` stays True when the API failed: the night goes on with climatology; `degraded`
    says so."""

    status: str  # fetched, skipped, failed
    message: str
    stores: int = 0
    ok: bool = True

    @property
    def degraded(self) -> bool:
        return self.status == "failed"

    def summary_lines(self) -> list[str]:
        return [f"weather forecast {self.status}: {self.message}"]

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message, "stores": self.stores}


def _stores(lh: Lakehouse) -> list[dict[str, Any]]:
    if not lh.exists(*STORES):
        return []
    cols = ["store_id", "latitude", "longitude", "timezone"]
    return lh.read_arrow(*STORES, columns=cols).to_pylist()


def land_weather_forecast(lh: Lakehouse, settings: Settings, run_date: date) -> WeatherForecastResult:
    """Fetch run_date .. run_date + weather_forecast.days - 1 for every store with coordinates into
    landing/weather/ (weather_forecast.enabled; the API from weather_api.*)."""
    conf = settings.get("weather_forecast", {}) or {}
    if not conf.get("enabled", False):
        return WeatherForecastResult("skipped", "weather_forecast.enabled is false")
    days = int(conf.get("days", 16))
    if not 1 <= days <= 16:
        raise ValueError(f"weather_forecast.days is {days}; Open-Meteo forecasts 1 to 16 days")
    stores = _stores(lh)
    if not stores:
        return WeatherForecastResult("skipped", "no stores in silver.stores yet")
    end = run_date + timedelta(days=days - 1)
    with track_run(lh, JOB) as run:
        try:
            path = fetch_to_landing(settings, stores, run_date, end)
        except WeatherApiError as exc:
            run.status, run.message = "failed", f"{exc}; the models use climatology for future days"[:2000]
            log.warning("weather forecast: %s", run.message)
            return WeatherForecastResult("failed", run.message)
        if path is None:
            run.message = "no store has coordinates"
            return WeatherForecastResult("skipped", run.message)
        run.details = {"file": path.name, "start": run_date.isoformat(), "end": end.isoformat()}
        return WeatherForecastResult(
            "fetched", f"{run_date}..{end} for {len(stores)} store(s) into {path.name}", len(stores)
        )
