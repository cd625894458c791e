"""Nightly ETL job: the weather forecast into landing (when enabled), then landing -> bronze -> silver
(quality-gated) -> gold, recorded in ops.runs.

Databricks: the `etl` task of jobs/resources/etl_job.yml (spark_python_task). Locally, the same file:
    python jobs/etl.py --home lakehouse [--as-of 2026-11-25]
Exit code 0 when every step succeeded, 1 otherwise (the run's report is in the log and in ops.runs).
"""

from __future__ import annotations

import logging
import sys

from bakery.entrypoints import job_parser, start_job
from bakery.ops.lock import run_exclusive

log = logging.getLogger("bakery.jobs.etl")


def main(argv: list[str] | None = None) -> int:
    args = job_parser(__doc__).parse_args(argv)
    settings, lh = start_job(args)
    assert settings.landing_dir.is_dir(), f"no landing zone at {settings.landing_dir}"
    return run_exclusive(settings, "jobs/etl.py", lambda: _etl(args, settings, lh))


def _etl(args, settings, lh) -> int:
    from bakery.etl import run_etl

    report = run_etl(lh, settings, as_of=args.as_of, weather_forecast=True)
    log.info("%s", report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
