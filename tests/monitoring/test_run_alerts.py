"""The night's own alerts, from the pipeline's report and from ops.runs as the bundle's monitor task reads it."""

from __future__ import annotations

from datetime import datetime, timedelta

from bakery.monitoring.alerts import Severity
from bakery.monitoring.run_alerts import night_from_runs, run_alerts
from tests.bundle_runner import Task, should_run

NOW = datetime(2026, 12, 8, 4, 0)


def _row(job: str, hours_ago: float, status: str = "success", message: str = "") -> dict:
    return {"job": job, "started": NOW - timedelta(hours=hours_ago), "status": status, "message": message}


def test_a_blocked_source_degrades_the_night_with_a_warning_and_forecasts_still_count():
    rows = [
        _row("ingest", 30, "failed", "old night"),  # yesterday's night is not tonight's
        _row("ingest", 2, "failed", "traffic: blocked by data quality"),
        _row("forecast", 1.5),
    ]
    alerts = run_alerts(night_from_runs(rows, now=NOW))
    assert [(a.kind, a.severity) for a in alerts] == [("run.step_failed.ingest", Severity.WARNING)]
    assert "traffic: blocked by data quality" in alerts[0].detail


def test_no_forecast_tonight_is_critical_even_if_last_night_had_them():
    rows = [
        _row("forecast", 22),
        _row("ingest", 2),
        _row("train", 1.8, "failed", "boom"),
        _row("forecast", 1.5, "failed"),
    ]
    kinds = {a.kind: a.severity for a in run_alerts(night_from_runs(rows, now=NOW))}
    assert kinds == {"run.no_forecasts": Severity.CRITICAL, "run.step_failed.train": Severity.WARNING}


def test_a_retried_step_that_succeeded_raises_nothing():
    rows = [_row("ingest", 2), _row("forecast", 1.6, "failed", "lost executor"), _row("forecast", 1.4)]
    assert run_alerts(night_from_runs(rows, now=NOW)) == []


def test_run_if_as_the_platform_applies_it():
    def task(run_if: str) -> Task:
        return Task("models", None, [], ("etl",), run_if)  # type: ignore[arg-type]

    assert not should_run(task("ALL_SUCCESS"), {"etl": "failed"})
    assert should_run(task("ALL_DONE"), {"etl": "failed"})
    assert should_run(task("ALL_SUCCESS"), {"etl": "success"})
    assert not should_run(task("NONE_FAILED"), {"etl": "failed"})
