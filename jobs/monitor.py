"""Nightly monitoring job: live accuracy, data drift, and the night's own alerts (a failed or quality-blocked
step, no forecasts), delivered by the channels of conf/monitoring.yml and recorded in ops.alerts.

Databricks: the `monitor` task of jobs/resources/etl_job.yml, after `models`, run whatever `etl` and `models`
did (run_if ALL_DONE): it reads what they did from ops.runs. Locally, the same file:
    python jobs/monitor.py --home lakehouse [--as-of 2026-11-25]
Exit code 0 when monitoring ran (whatever it found), 1 when monitoring itself failed.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, date, datetime, timedelta

from bakery.entrypoints import job_parser, start_job
from bakery.ops.lock import run_exclusive

log = logging.getLogger("bakery.jobs.monitor")


def main(argv: list[str] | None = None) -> int:
    args = job_parser(__doc__).parse_args(argv)
    settings, lh = start_job(args)
    return run_exclusive(settings, "jobs/monitor.py", lambda: _monitor(args, settings, lh))


def _monitor(args, settings, lh) -> int:
    from bakery.forecasting.daily import models_as_of
    from bakery.monitoring.run_alerts import night_from_runs
    from bakery.ops.runs import recent_runs
    from bakery.pipeline import monitor
    from bakery.reports import JobReport

    now = datetime.now(UTC)
    night = night_from_runs(recent_runs(lh, now - timedelta(days=1)), now=now.replace(tzinfo=None))
    as_of, _ = models_as_of(lh, settings, args.as_of or date.today())
    report = JobReport(job="monitor")
    ok = monitor(lh, settings, report, as_of, night)
    log.info("%s", report.render())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
