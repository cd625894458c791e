"""Nightly model job: train if due (no champion, a retrain request, or an old champion), then forecast
D+1..D+28 for every series from the last complete day into gold.forecasts, and tomorrow's bake plan into
gold.bake_plan (a failed plan is recorded in ops.runs and leaves the forecasts standing).

Databricks: the `models` task of jobs/resources/etl_job.yml, after `etl`. Locally, the same file:
    python jobs/models.py --home lakehouse [--as-of 2026-11-25]
--as-of is the run's date; forecasts are made as of the day before. Exit code 0 when the forecasts were
written (a failed training leaves the champion serving and is recorded in ops.runs), 1 otherwise.
"""

from __future__ import annotations

import logging
import sys
from datetime import date

from bakery.entrypoints import job_parser, start_job
from bakery.logs import log_lines
from bakery.ops.lock import run_exclusive

log = logging.getLogger("bakery.jobs.models")


def main(argv: list[str] | None = None) -> int:
    args = job_parser(__doc__).parse_args(argv)
    settings, lh = start_job(args)
    return run_exclusive(settings, "jobs/models.py", lambda: _models(args, settings, lh))


def _models(args, settings, lh) -> int:
    from bakery.forecasting.daily import run_model_steps

    steps = run_model_steps(lh, settings, args.as_of or date.today())
    log_lines(log, steps.summary_lines())
    if steps.ok and steps.as_of:
        from bakery.decisions.nightly import plan_night

        log_lines(log, [plan_night(lh, settings, steps.as_of)])
    return 0 if steps.ok else 1


if __name__ == "__main__":
    sys.exit(main())
