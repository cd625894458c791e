"""The daily job: ingest and quality, train if due, forecast, retention; each step recorded in ops.runs."""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta

from bakery.config import Settings
from bakery.etl import run_etl
from bakery.lakehouse import Lakehouse
from bakery.ops.runs import track_run
from bakery.reports import JobReport

log = logging.getLogger(__name__)


def run_pipeline(lh: Lakehouse, settings: Settings, as_of: date | None = None) -> JobReport:
    """Run the nightly pipeline for `as_of` (default today): ETL, train if due and forecast from the
    last complete day (as_of - 1; the latest sales day when those are more than 28 days older, see
    forecasting.daily.models_as_of), then retention of old partitions as of the same day."""
    from bakery.admin.retention import enforce_retention
    from bakery.forecasting.daily import run_model_steps

    as_of = as_of or date.today()
    with track_run(lh, "pipeline") as run:
        started = datetime.now(UTC)  # retrain requests made from here on may bring data this ETL misses
        report = run_etl(lh, settings, as_of=as_of)
        report.job = "pipeline"
        t0 = time.perf_counter()
        steps = run_model_steps(lh, settings, as_of, requested_before=started)
        report.add("models", steps, time.perf_counter() - t0)
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
