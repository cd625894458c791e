"""Retired uploads: batches deleted or replaced in the app, whose rows silver leaves out and takes back out.

The app logs every status change of an upload batch in ops.upload_batches (bakery.ops.upload_batches; the latest
row per batch_id is its status) with `source_file`, the landing file the upload's rows were written to. It
is named like bronze's `_source_file` (relative to the landing dir, `/`-separated); both go through
`landing_relpath`, which also normalises a name logged on Windows. A batch whose latest status is deleted or
replaced is retired, and the silver step (bakery.silver.build):
- leaves the rows of its file out of every bronze batch it takes; they are counted as `retired` in
  ops.reconciliation rather than quarantined (they broke no rule, and ops.quarantine is the list of bad rows
  to fix), so bronze_rows = silver_rows + quarantined + duplicates + held_back + retired still holds;
- once per retired batch (then recorded in ops.silver_progress, step `retired_upload`), takes the rows
  silver already holds from its file out, in one MERGE per table: a key for which a file still in force has a
  valid row gets the latest such row back (what a rebuild from bronze would hold, e.g. the value a deleted
  correction had overwritten), every other key is deleted;
- hands silver.inventory_daily the stores and first days to recompute. Gold follows by itself: it is rebuilt
  whenever a silver table it reads has a new version.
A replacement is a new upload with its own landing file, so its rows flow like any other batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import reduce

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from bakery.config import SourceSpec
from bakery.ingest.landing import landing_relpath
from bakery.lakehouse import Lakehouse
from bakery.silver.cleaning import References, check_rows, silver_columns, split_checked
from bakery.silver.dedupe import rank_latest
from bakery.silver.inventory import DAY_COLUMN, INPUTS
from bakery.tables import UPLOAD_BATCHES

log = logging.getLogger(__name__)

RETIRED_STATUSES = ("deleted", "replaced")
DELETE = "_delete"


@dataclass(frozen=True)
class RetiredUpload:
    """An upload batch whose latest status is deleted or replaced, and its landing file as `_source_file`."""

    batch_id: str
    kind: str
    source_file: str
    status: str


@dataclass
class Removal:
    """What taking newly retired uploads out of one silver table did this run."""

    batches: list[str] = field(default_factory=list)  # upload batch ids handled (recorded as done)
    removed: int = 0  # silver rows that came from their files
    restored: int = 0  # of those, keys given back an earlier file's row
    stores: dict[str, date] = field(default_factory=dict)  # store -> first day inventory must recompute


def latest_retired(events: pd.DataFrame) -> pd.DataFrame:
    """batch_id, kind, source_file, status of the batches whose latest event is a retirement.

    Latest by changed_at; on a tie the retirement counts as later (a batch is never accepted again). The
    file is the batch's last recorded one, should the retiring event lack it.
    """
    events = events.assign(_retired=events["status"].isin(RETIRED_STATUSES))
    events = events.sort_values(["changed_at", "_retired"], kind="stable", na_position="first")
    latest = events.groupby("batch_id", sort=True).tail(1)
    files = events.dropna(subset=["source_file"]).groupby("batch_id")["source_file"].last()
    retired = latest[latest["_retired"]].drop(columns="source_file").join(files, on="batch_id")
    return retired.dropna(subset=["source_file"])[["batch_id", "kind", "source_file", "status"]]


def retired_uploads(lh: Lakehouse) -> list[RetiredUpload]:
    """Every retired upload batch in ops.upload_batches (none while the app has logged nothing)."""
    if not lh.exists(*UPLOAD_BATCHES):
        return []
    events = lh.read_arrow(
        *UPLOAD_BATCHES, columns=["batch_id", "kind", "source_file", "status", "changed_at"]
    ).to_pandas()
    return [
        RetiredUpload(r.batch_id, r.kind, landing_relpath(lh.settings, r.source_file), r.status)
        for r in latest_retired(events).itertuples()
    ]


def from_files(uploads: Sequence[RetiredUpload]) -> Column:
    """True for rows (bronze or silver) that came from the landing file of one of these uploads."""
    return F.col("_source_file").isin(*sorted({u.source_file for u in uploads}))


def _latest_kept(
    lh: Lakehouse,
    spec: SourceSpec,
    retired: Column,
    pending: Sequence[str],
    as_of: date,
    refs: References,
    keys: DataFrame,
) -> DataFrame:
    """Per key of `keys`, the latest valid row of the bronze batches silver has taken that no retired upload
    brought: the row silver would hold without those uploads."""
    bronze = lh.read("bronze", spec.table).filter(~retired)
    if pending:
        bronze = bronze.filter(~F.col("_batch_id").isin(*pending))
    good, _ = split_checked(check_rows(bronze, spec, as_of, refs), spec)
    good = good.join(keys, list(spec.keys), "left_semi")
    return rank_latest(good, spec.keys).filter(F.col("_rank") == 1).select(*silver_columns(spec))


def first_days(frames: Sequence[DataFrame], kind: str) -> dict[str, date]:
    """Store -> earliest day among these rows (inventory recomputes each store from there)."""
    day = DAY_COLUMN[kind]
    union = reduce(DataFrame.unionByName, [f.select("store_id", day) for f in frames])
    rows = union.groupBy("store_id").agg(F.min(day).alias("_from")).collect()
    return {r.store_id: r._from for r in rows if r.store_id is not None and r._from is not None}


def take_out(
    lh: Lakehouse,
    spec: SourceSpec,
    retired: Sequence[RetiredUpload],
    new: Sequence[RetiredUpload],
    pending: Sequence[str],
    as_of: date,
    refs: References,
) -> Removal:
    """Take the rows of retired uploads out of silver.<table> once `new` ones appear (see the module doc).

    `retired`: every retired upload of this source; `new`: those not handled yet; `pending`: bronze batches
    silver has not taken yet (they are filtered when taken, and are no source of restored rows).
    """
    removal = Removal(batches=sorted(u.batch_id for u in new))
    if not new or not lh.exists("silver", spec.table):
        return removal
    keys, columns = list(spec.keys), silver_columns(spec)
    retired_rows = from_files(retired)
    gone = (
        lh.read("silver", spec.table)
        .filter(retired_rows)
        .select(*columns)
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    marked = None
    try:
        removal.removed = gone.count()
        touched = []
        if removal.removed:
            kept = _latest_kept(lh, spec, retired_rows, pending, as_of, refs, gone.select(*keys))
            marked = (
                gone.select(*keys)
                .join(kept.withColumn(DELETE, F.lit(False)), keys, "left")
                .select(*columns, F.coalesce(DELETE, F.lit(True)).alias(DELETE))
                .persist(StorageLevel.MEMORY_AND_DISK)
            )
            removal.restored = marked.filter(~F.col(DELETE)).count()
            touched = [gone, marked.filter(~F.col(DELETE))]
        if spec.kind in INPUTS:
            # The new files' bronze rows too: after a crash that followed the MERGE, silver no longer shows them.
            landed, _ = split_checked(
                check_rows(lh.read("bronze", spec.table).filter(from_files(new)), spec, as_of, refs), spec
            )
            removal.stores = first_days([landed, *touched], spec.kind)
        if removal.removed:
            lh.merge(marked, "silver", spec.table, keys=keys, delete=DELETE)
            log.info(
                "silver.%s: took out %d row(s) of retired upload(s) %s, %d key(s) back to an earlier file",
                spec.table,
                removal.removed,
                ", ".join(removal.batches),
                removal.restored,
            )
    finally:
        gone.unpersist()
        if marked is not None:
            marked.unpersist()
    return removal
