"""Landing job: take new landing files into bronze now, without waiting for the nightly ETL.

Silver takes every bronze batch it has not taken yet, so the next `etl` run carries these rows on.
Not scheduled in the bundle (the nightly `etl` task ingests too; two writers on bronze would only
conflict); run it on demand, e.g. after a large upload. Locally:
    python jobs/ingest.py --home lakehouse
"""

from __future__ import annotations

import logging
import sys

from bakery.entrypoints import job_parser, start_job
from bakery.logs import log_lines
from bakery.ops.lock import run_exclusive

log = logging.getLogger("bakery.jobs.ingest")


def main(argv: list[str] | None = None) -> int:
    args = job_parser(__doc__).parse_args(argv)
    settings, lh = start_job(args)
    assert settings.landing_dir.is_dir(), f"no landing zone at {settings.landing_dir}"
    return run_exclusive(settings, "jobs/ingest.py", lambda: _ingest(settings, lh))


def _ingest(settings, lh) -> int:
    from bakery.ingest.bronze import ingest_landing
    from bakery.ops.runs import new_batch_id, track_run

    with track_run(lh, "ingest_landing") as run:
        result = ingest_landing(lh, settings, new_batch_id())
        run.details = result.to_dict()
        run.status = "success" if result.ok else "failed"
    log_lines(log, result.summary_lines())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
