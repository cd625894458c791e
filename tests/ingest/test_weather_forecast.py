"""The nightly weather forecast: every store's next days from the (stand-in) Open-Meteo API into landing, and
a WARNING for the night, not a failure, when the API is down."""

from __future__ import annotations

import datetime as dt

from bakery.config import load_settings
from bakery.ingest.readers import read_file
from bakery.ingest.validate import validate_raw
from bakery.ingest.weather_forecast import land_weather_forecast
from bakery.lakehouse import Lakehouse, struct_type
from bakery.monitoring.alerts import Severity
from bakery.monitoring.run_alerts import night_from_runs, run_alerts
from bakery.ops.runs import recent_runs
from bakery.tables import STORES
from tests.ingest.test_weather_api import server  # noqa: F401 - the stand-in API fixture

RUN_DATE = dt.date(2026, 12, 8)


def _home(spark, tmp_path, url: str, enabled: bool = True) -> Lakehouse:
    settings = load_settings(
        home=tmp_path / "home",
        overrides={
            "weather_forecast": {"enabled": enabled, "days": 16},
            "weather_api": {"base_url": url, "retries": 1, "backoff_seconds": 0.01, "timeout_seconds": 2},
        },
    )
    lh = Lakehouse(spark, settings)
    rows = [
        ("S001", "Centro", "Madrid", "ES", "ES-MD", "Europe/Madrid", 40.42, -3.70, "urban"),
        ("S002", "Sin mapa", "Madrid", "ES", "ES-MD", "Europe/Madrid", None, None, "urban"),
    ]
    lh.overwrite(spark.createDataFrame(rows, struct_type(STORES)), *STORES)
    return lh


def test_the_next_16_days_of_every_located_store_land_as_a_valid_weather_file(spark, tmp_path, server):  # noqa: F811
    url, state = server
    lh = _home(spark, tmp_path, url)
    result = land_weather_forecast(lh, lh.settings, RUN_DATE)
    assert result.status == "fetched" and not result.degraded, result
    (path,) = (lh.settings.landing_dir / "weather").glob("open_meteo_*.csv")
    report = validate_raw(read_file(path), lh.settings.source("weather"), today=RUN_DATE)
    assert report.errors == [] and len(report.rows) == 16
    assert set(report.rows["store_id"]) == {"S001"}
    assert (report.rows["date"].min(), report.rows["date"].max()) == ("2026-12-08", "2026-12-23")
    assert state.requests[0]["timezone"] == ["Europe/Madrid"]
    (run,) = recent_runs(lh, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert (run["job"], run["status"]) == ("weather_forecast", "success")


def test_an_api_outage_is_a_warning_and_the_night_goes_on(spark, tmp_path):
    lh = _home(spark, tmp_path, "http://127.0.0.1:9/v1/forecast")  # nothing listens on port 9
    result = land_weather_forecast(lh, lh.settings, RUN_DATE)
    assert result.ok and result.degraded and "climatology" in result.message
    assert not (lh.settings.landing_dir / "weather").exists() or not list(
        (lh.settings.landing_dir / "weather").iterdir()
    )
    runs = recent_runs(lh, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    now = runs[-1]["started"] + dt.timedelta(minutes=5)
    night = night_from_runs(
        [
            *runs,
            {"job": "ingest", "started": runs[-1]["started"], "status": "success", "message": ""},
            {"job": "forecast", "started": now, "status": "success", "message": ""},
        ],
        now=now,
    )
    (alert,) = run_alerts(night)
    assert (alert.kind, alert.severity) == ("run.step_failed.weather_forecast", Severity.WARNING)
    assert "climatology" in alert.detail


def test_off_by_default(spark, tmp_path):
    lh = _home(spark, tmp_path, "http://127.0.0.1:9/v1/forecast", enabled=False)
    assert land_weather_forecast(lh, lh.settings, RUN_DATE).status == "skipped"
    assert load_settings(home=tmp_path / "other").get("weather_forecast.enabled") is False
