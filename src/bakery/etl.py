"""The ETL job: landing -> bronze -> silver (with data quality) -> gold, each step recorded in ops.runs."""

from __future__ import annotations

import logging
import time
from datetime import date

from bakery.config import Settings
from bakery.faults import fault_point
from bakery.lakehouse import Lakehouse
from bakery.ops.runs import new_batch_id, track_run
from bakery.reports import JobReport

log = logging.getLogger(__name__)


def run_etl(lh: Lakehouse, settings: Settings, as_of: date | None = None) -> JobReport:
    """Run one incremental ETL batch. Sources whose quality check fails critically stop before gold."""
    from bakery.gold.build import build_gold
    from bakery.ingest.bronze import ingest_landing
    from bakery.silver.build import build_silver

    as_of = as_of or date.today()
    batch_id = new_batch_id()
    report = JobReport(job="ingest")
    with track_run(lh, "ingest") as run:
        t0 = time.perf_counter()
        bronze = ingest_landing(lh, settings, batch_id)
        report.add("bronze", bronze, time.perf_counter() - t0)
        fault_point("after_bronze")
        t0 = time.perf_counter()
        silver = build_silver(lh, settings, batch_id, as_of=as_of)
        report.add("silver", silver, time.perf_counter() - t0)
        fault_point("after_silver")
        t0 = time.perf_counter()
        gold = build_gold(lh, settings, blocked_sources=silver.blocked_sources)
        report.add("gold", gold, time.perf_counter() - t0)
        run.details = {"batch_id": batch_id, **report.to_dict()}
        if not report.ok:
            run.status = "failed"
            run.message = "; ".join(line for step in report.steps.values() for line in step.summary_lines()
                                    if "FAIL" in line or "blocked" in line)[:2000]
    return report
