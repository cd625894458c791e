"""Retention job (design 2.3): delete raw data older than 5 years and processed data older than 3, VACUUM.

Databricks: the `retention` task of jobs/resources/etl_job.yml, after `etl`. Locally:
    python jobs/retention.py --home lakehouse [--as-of 2026-11-25]
Safe to rerun: a second run on the same date deletes nothing. The summary is logged and kept in ops.runs.
"""

from __future__ import annotations

import logging
import sys
from datetime import date

from bakery.entrypoints import job_parser, start_job
from bakery.ops.lock import run_exclusive

log = logging.getLogger("bakery.jobs.retention")


def main(argv: list[str] | None = None) -> int:
    parser = job_parser(__doc__)
    args = parser.parse_args(argv)
    today = args.as_of or date.today()
    if today > date.today():  # refused before Spark starts
        parser.error(f"--as-of {today} is in the future: retention would delete data still in use")
    settings, lh = start_job(args)
    return run_exclusive(settings, "jobs/retention.py", lambda: _retention(today, settings, lh))


def _retention(today, settings, lh) -> int:
    from bakery.admin.retention import enforce_retention

    report = enforce_retention(lh, settings, today=today)
    log.info("retention: %s", report["summary"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
