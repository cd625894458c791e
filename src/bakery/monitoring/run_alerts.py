"""Alerts about the night's own run: a step that failed, a source that quality blocked, no forecasts.

Two views of the same night: the in-process pipeline passes its JobReport; the bundle's `monitor` task, a
process of its own after `etl` and `models`, reads the night's rows of ops.runs (`night_from_runs`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bakery.monitoring.alerts import Alert, Severity
from bakery.reports import JobReport

# The steps of a night as ops.runs names them, in the order they run.
NIGHT_STEPS = ("weather_forecast", "ingest", "train", "forecast")


@dataclass(frozen=True)
class Night:
    """What the night did: whether forecasts were written, and each failed step with its summary lines."""

    forecasts_made: bool
    failed: dict[str, list[str]] = field(default_factory=dict)
    notes: str = ""
    since: datetime | None = None


def night_from_report(report: JobReport, forecasts_made: bool, started: datetime | None = None) -> Night:
    """The pipeline's own report of the night."""
    failed = {
        name: (step.summary_lines() if hasattr(step, "summary_lines") else [])
        for name, step in report.steps.items()
        if not getattr(step, "ok", True) or getattr(step, "degraded", False)
    }
    return Night(forecasts_made, failed, " ".join(report.notes), started)


def night_from_runs(rows: Sequence[dict], now: datetime | None = None, window_hours: int = 20) -> Night:
    """The night as ops.runs recorded it: its rows (job, started, status, message) from the latest `ingest`
    run on (a night starts with its ETL), no further back than `window_hours`. Forecasts were made when a
    `forecast` run of that night succeeded."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    recent = [
        r for r in rows if r["job"] in NIGHT_STEPS and r["started"] >= now - timedelta(hours=window_hours)
    ]
    ingests = [r["started"] for r in recent if r["job"] == "ingest"]
    since = max(ingests) if ingests else now - timedelta(hours=window_hours)
    night = sorted((r for r in recent if r["started"] >= since), key=lambda r: r["started"])
    latest = {
        r["job"]: r for r in night
    }  # the last run of each step (a retried task supersedes the first try)
    failed = {job: [r["message"] or "failed"] for job, r in latest.items() if r["status"] == "failed"}
    made = any(r["job"] == "forecast" and r["status"] == "success" for r in night)
    return Night(made, failed, "", since.replace(tzinfo=UTC))


def run_alerts(night: Night) -> list[Alert]:
    """CRITICAL when the night made no forecasts (the app keeps serving the previous ones, older each day);
    WARNING for each step that failed otherwise (a blocked source, a failed training)."""
    since = night.since or datetime.now(UTC)
    alerts = []
    if not night.forecasts_made:
        alerts.append(
            Alert(
                kind="run.no_forecasts",
                severity=Severity.CRITICAL,
                title="No forecasts were made tonight",
                detail=f"Store managers see yesterday's forecasts. {night.notes}".strip()[:1500],
                since=since,
                link="/admin/health",
            )
        )
    for name, lines in night.failed.items():
        if name in ("models", "forecast") and not night.forecasts_made:
            continue
        alerts.append(
            Alert(
                kind=f"run.step_failed.{name}",
                severity=Severity.WARNING,
                title=f"The nightly step '{name}' did not succeed",
                detail="\n".join(lines)[:1500],
                since=since,
                link="/admin/health",
            )
        )
    return alerts
