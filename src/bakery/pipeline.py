"""The daily job: ingest and quality, train if due, forecast, tomorrow's bake plan, monitoring and alerts,
retention; each step recorded in ops.runs."""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta

from bakery.config import Settings
from bakery.etl import run_etl
from bakery.lakehouse import Lakehouse
from bakery.monitoring.run_alerts import Night, night_from_report
from bakery.ops.runs import track_run
from bakery.reports import JobReport

log = logging.getLogger(__name__)


def run_pipeline(lh: Lakehouse, settings: Settings, as_of: date | None = None) -> JobReport:
    """Run the nightly pipeline for `as_of` (default today): ETL, train if due and forecast from the
    last complete day (as_of - 1; the latest sales day when those are more than 28 days older, see
    forecasting.daily.models_as_of), then monitoring (live accuracy, drift, the night's alerts) and
    retention of old partitions as of the same day."""
    from bakery.admin.retention import enforce_retention
    from bakery.forecasting.daily import run_model_steps

    as_of = as_of or date.today()
    with track_run(lh, "pipeline") as run:
        started = datetime.now(UTC)  # retrain requests made from here on may bring data this ETL misses
        report = run_etl(lh, settings, as_of=as_of, weather_forecast=True)
        report.job = "pipeline"
        t0 = time.perf_counter()
        steps = run_model_steps(lh, settings, as_of, requested_before=started)
        report.add("models", steps, time.perf_counter() - t0)
        if steps.as_of:
            bake_plan(lh, settings, report, steps.as_of)
        monitor(lh, settings, report, steps.as_of, night_from_report(report, steps.ok, started), run.run_id)
        # An old history (the models work from its last day) is kept as of that day too: measured from the run
        # date, the first run would delete all of it. `bakery retention` applies the policy from today.
        kept_from = min(as_of, steps.as_of + timedelta(days=1)) if steps.as_of else as_of
        retention = enforce_retention(lh, settings, today=kept_from)
        report.notes.append(f"  retention: {retention.get('summary', retention)}")
        run.details = {"as_of": as_of.isoformat(), "ok": report.ok}
        if not report.ok:
            run.status = "failed"
            run.message = "one or more steps failed; see the ingest run"
    return report


def bake_plan(lh: Lakehouse, settings: Settings, report: JobReport, as_of: date) -> None:
    """Tomorrow's bake plan from the night's forecasts (bakery.decisions.nightly.plan_night); never fails the night."""
    from bakery.decisions.nightly import plan_night

    t0 = time.perf_counter()
    report.notes.append(f"  {plan_night(lh, settings, as_of)}")
    report.seconds["bake_plan"] = round(time.perf_counter() - t0, 2)


def monitor(
    lh: Lakehouse,
    settings: Settings,
    report: JobReport,
    as_of: date | None,
    night: Night,
    run_id: str | None = None,
) -> bool:
    """The monitoring step, recorded in ops.runs as `monitor`: live accuracy, drift and the night's alerts
    (`night`: what the run did). It never fails the night: a monitoring error is logged and noted, the forecasts
    stand, and False is returned. A sustained accuracy breach requests an early retraining."""
    from bakery.monitoring.run_alerts import run_alerts
    from bakery.monitoring.step import run_monitoring
    from bakery.ops.retrain import request_retrain

    t0 = time.perf_counter()
    try:
        with track_run(lh, "monitor") as rec:
            result = run_monitoring(
                lh, settings, as_of or date.today(), extra=run_alerts(night), run_id=run_id
            )
            rec.details = result.to_dict()
        if result.retrain:
            request_retrain(settings, "monitoring", "live accuracy below the backtest's expectation")
        raised = [r for r in result.raised if r.status != "suppressed"]
        report.notes.append(
            f"  monitoring: {len(raised)} alert(s) raised, retrain requested: {result.retrain}"
        )
        return True
    except Exception as exc:  # noqa: BLE001 - monitoring must not cost the night its forecasts
        log.exception("monitoring failed")
        report.notes.append(f"  monitoring FAILED: {type(exc).__name__}: {exc}"[:500])
        return False
    finally:
        report.seconds["monitor"] = time.perf_counter() - t0
