"""The run log (ops.runs): one row per job or step, with outcome and duration."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bakery.lakehouse import Lakehouse, struct_type
from bakery.logs import run_context
from bakery.tables import RUNS

log = logging.getLogger(__name__)

RUNS_SCHEMA = struct_type(RUNS)


@dataclass
class RunRecord:
    """What a step reports back; `details` is stored as JSON beside the outcome."""

    job: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "running"
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def new_batch_id() -> str:
    """A sortable id for one ingest batch: UTC time plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def _write(lh: Lakehouse, rec: RunRecord, seconds: float | None) -> None:
    finished = datetime.now(UTC) if rec.status != "running" else None
    row = (
        rec.run_id,
        rec.job,
        rec.started.replace(tzinfo=None),
        finished.replace(tzinfo=None) if finished else None,
        rec.status,
        seconds,
        rec.message[:2000],
        json.dumps(rec.details, default=str),
    )
    df = lh.spark.createDataFrame([row], RUNS_SCHEMA)
    lh.append(df, *RUNS)


@contextmanager
def track_run(lh: Lakehouse, job: str, run_id: str | None = None) -> Iterator[RunRecord]:
    """Record a run in ops.runs: success with its details, or failure with the error message."""
    rec = RunRecord(job=job) if run_id is None else RunRecord(job=job, run_id=run_id)
    t0 = time.perf_counter()
    try:
        with run_context(rec.run_id, job):
            yield rec
    except BaseException as exc:
        rec.status = "failed"
        rec.message = rec.message or f"{type(exc).__name__}: {exc}"
        _write(lh, rec, time.perf_counter() - t0)
        raise
    if rec.status == "running":
        rec.status = "success"
    _write(lh, rec, time.perf_counter() - t0)
    log.info("%s %s in %.1fs %s", job, rec.status, time.perf_counter() - t0, rec.message)


def recent_runs(lh: Lakehouse, since: datetime) -> list[dict[str, Any]]:
    """The rows of ops.runs started at or after `since` (UTC), oldest first; [] before the first run."""
    from pyspark.sql import functions as F

    if not lh.exists(*RUNS):
        return []
    rows = (
        lh.read(*RUNS)
        .filter(F.col("started") >= F.lit(since.astimezone(UTC).replace(tzinfo=None)))
        .select("run_id", "job", "started", "status", "message")
        .orderBy("started")
        .collect()
    )
    return [r.asDict() for r in rows]
