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


def run_etl(
    lh: Lakehouse, settings: Settings, as_of: date | None = None, weather_forecast: bool = False
) -> JobReport:
    """Run one incremental ETL batch. Sources whose quality check fails critically stop before gold. The
    nightly runs (`weather_forecast`) first land the next days' weather forecast for every store."""
    from bakery.gold.build import build_gold
    from bakery.ingest.bronze import ingest_landing
    from bakery.ingest.weather_forecast import land_weather_forecast
    from bakery.silver.build import build_silver

    as_of = as_of or date.today()
    batch_id = new_batch_id()
    report = JobReport(job="ingest")
    with track_run(lh, "ingest") as run:
        if weather_forecast:  # inside the ingest run: the night's runs start with it (monitoring.run_alerts)
            t0 = time.perf_counter()
            report.add(
                "weather_forecast", land_weather_forecast(lh, settings, as_of), time.perf_counter() - t0
            )
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
            run.message = "; ".join(failure_lines(report))[:2000]
    return report


def failure_lines(report: JobReport) -> list[str]:
    """The summary lines at error level of the steps that give levels (silver: a failed critical check or a
    blocked source; gold: a table kept for a blocked source): the level, never the wording, decides."""
    return [
        line
        for step in report.steps.values()
        if callable(getattr(step, "summary", None))
        for level, line in step.summary()
        if level >= logging.ERROR
    ]


def pending_files(lh: Lakehouse, settings: Settings) -> list[str]:
    """Landing files bronze has not taken yet (by path and content hash), e.g. after `bakery import` without
    `bakery ingest`."""
    from bakery.ingest.landing import scan_landing
    from bakery.ingest.registry import sha256_file, taken_files

    files, _ = scan_landing(settings)
    taken = taken_files(lh)
    return [
        lf.relpath
        for kind_files in files.values()
        for lf in kind_files
        if (lf.relpath, sha256_file(lf.path)) not in taken
    ]


def ingest_pending(lh: Lakehouse, settings: Settings, job: str) -> JobReport | None:
    """Run the ETL first when the landing zone holds files not ingested yet, so that `bakery train|forecast|backtest`
    right after `bakery import` reads what was imported; None when there is nothing new."""
    pending = pending_files(lh, settings)
    if not pending:
        return None
    log.info(
        "%s: %d landing file(s) not ingested yet (%s%s): running ingest first",
        job,
        len(pending),
        ", ".join(pending[:3]),
        ", ..." if len(pending) > 3 else "",
    )
    return run_etl(lh, settings)
