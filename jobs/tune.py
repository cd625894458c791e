"""Weekly tuning job: Hyperopt per tuning group on folds before the selection window, then a full
training that registers a new version (promoted only if it passes the gate). The nightly model job
reuses the tuned parameters until the next week.

Databricks: jobs/resources/tuning_job.yml. Locally, the same file:
    python jobs/tune.py --home lakehouse [--as-of 2026-11-25]
--as-of is the run's date; training uses data up to the day before.
"""

from __future__ import annotations

import logging
import sys
from datetime import date, timedelta

from bakery.entrypoints import job_parser, start_job
from bakery.logs import log_lines
from bakery.ops.lock import run_exclusive

log = logging.getLogger("bakery.jobs.tune")


def main(argv: list[str] | None = None) -> int:
    args = job_parser(__doc__).parse_args(argv)
    settings, lh = start_job(args)
    return run_exclusive(settings, "jobs/tune.py", lambda: _tune(args, settings, lh))


def _tune(args, settings, lh) -> int:
    from bakery.forecasting.train import run_train
    from bakery.ops.runs import track_run

    with track_run(lh, "tune") as run:
        result = run_train(lh, settings, as_of=(args.as_of or date.today()) - timedelta(days=1), tune=True)
        run.details = result.to_dict()
    log_lines(log, result.summary_lines())
    return 0


if __name__ == "__main__":
    sys.exit(main())
