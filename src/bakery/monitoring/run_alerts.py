"""Alerts about the night's own run: a step that failed, a source that quality blocked, no forecasts."""

from __future__ import annotations

from datetime import UTC, datetime

from bakery.monitoring.alerts import Alert, Severity
from bakery.reports import JobReport


def run_alerts(report: JobReport, forecasts_made: bool, started: datetime | None = None) -> list[Alert]:
    """CRITICAL when the night made no forecasts (the app keeps serving the previous ones, older each day);
    WARNING for each step that failed otherwise (a blocked source, a failed training)."""
    since = started or datetime.now(UTC)
    alerts = []
    if not forecasts_made:
        alerts.append(
            Alert(
                kind="run.no_forecasts",
                severity=Severity.CRITICAL,
                title="No forecasts were made tonight",
                detail="Store managers see yesterday's forecasts. " + " ".join(report.notes)[:1500],
                since=since,
                link="/admin/health",
            )
        )
    failed = [name for name, step in report.steps.items() if not getattr(step, "ok", True)]
    for name in failed:
        if name == "models" and not forecasts_made:
            continue
        step = report.steps[name]
        lines = step.summary_lines() if hasattr(step, "summary_lines") else []
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
