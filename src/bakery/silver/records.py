"""The silver step's own records in the ops layer: progress, reconciliation and data-quality results.

ops.silver_progress (step, source, batch_id, bronze_rows, run_batch_id, processed_at): which bronze
batches a step has taken; step `silver` per source, `inventory_daily` per input source, and
`retired_upload` per source and retired upload batch (batch_id is the upload's) once silver has left it
out, and `reference_retry` per source and version of the dimensions (batch_id `stores@<v>,products@<v>`, bronze_rows
the rows checked again) once its rows quarantined for an unknown store or product have been checked against them
(bakery.silver.requeue). Appended once, last, by each run, so a crash before it only means the batches are taken again
(every write before it is idempotent).

ops.reconciliation, one row per bronze batch and source, with
bronze_rows = silver_rows + quarantined + duplicates + held_back + retired:
  silver_rows  rows that are silver's current row for their key after the batch: inserted, or changed
               a row, or were already applied by an interrupted run of the same batch;
  quarantined  rows that broke at least one rule (ops.quarantine has one entry per broken rule);
  duplicates   rows not applied because another row with the same key wins: a later row of the same
               batch (exact copies included), or silver already holds the same values or newer ones;
  held_back    rows of a batch whose source failed a CRITICAL quality check (retried next run);
  retired      rows from an upload deleted or replaced in the app before silver took the batch: left
               out, not quarantined (they broke no rule); null on rows written before the column existed.
A later batch may supersede a key, and a later retirement may take a batch's rows out of silver again;
each row describes its batch when it was processed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from bakery.lakehouse import Lakehouse, struct_type
from bakery.silver.quality import DQResult
from bakery.tables import DQ_RESULTS, RECONCILIATION, SILVER_PROGRESS

SILVER_STEP = "silver"
RETIRED_STEP = "retired_upload"

PROGRESS_SCHEMA = struct_type(SILVER_PROGRESS)
RECONCILIATION_SCHEMA = struct_type(RECONCILIATION)
DQ_SCHEMA = struct_type(DQ_RESULTS)


@dataclass
class BatchCounts:
    """Where the rows of one bronze batch of one source went."""

    batch_id: str
    bronze_rows: int = 0
    silver_rows: int = 0
    quarantined: int = 0
    duplicates: int = 0
    held_back: int = 0
    retired: int = 0

    @property
    def balanced(self) -> bool:
        """The reconciliation invariant: every bronze row went exactly one way."""
        return self.bronze_rows == (
            self.silver_rows + self.quarantined + self.duplicates + self.held_back + self.retired
        )


class UnbalancedBatch(AssertionError):
    """Counts of a batch that do not add up: a defect in the silver step, never written as reconciled."""


def _with_now(df: DataFrame, column: str, schema: T.StructType) -> DataFrame:
    df = df.withColumn(column, F.current_timestamp())
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])


def load_progress(lh: Lakehouse) -> set[tuple[str, str, str]]:
    """(step, source, batch_id) of every bronze batch a step has taken."""
    if not lh.exists(*SILVER_PROGRESS):
        return set()
    taken = lh.read_arrow(*SILVER_PROGRESS, columns=["step", "source", "batch_id"])
    return set(zip(*(taken[c].to_pylist() for c in ("step", "source", "batch_id")), strict=True))


def record_progress(
    lh: Lakehouse, rows: Iterable[tuple[str, str, str, int | None]], run_batch_id: str
) -> None:
    """Mark (step, source, batch_id, bronze_rows) as taken, in one commit."""
    data = [(*row, run_batch_id) for row in rows]
    if not data:
        return
    df = lh.spark.createDataFrame(
        data, "step string, source string, batch_id string, bronze_rows long, run_batch_id string"
    )
    lh.append(_with_now(df, "processed_at", PROGRESS_SCHEMA), *SILVER_PROGRESS)


def record_reconciliation(
    lh: Lakehouse, rows: Iterable[tuple[str, BatchCounts, str]], run_batch_id: str
) -> None:
    """Upsert (source, counts, status) of each batch in one commit (a rerun of a batch replaces its row).
    Raises UnbalancedBatch, writing nothing, when a batch's counts break the reconciliation invariant."""
    rows = list(rows)
    unbalanced = [
        f"{source} batch {c.batch_id}: bronze_rows {c.bronze_rows} != silver_rows {c.silver_rows} + quarantined "
        f"{c.quarantined} + duplicates {c.duplicates} + held_back {c.held_back} + retired {c.retired}"
        for source, c, _ in rows
        if not c.balanced
    ]
    if unbalanced:
        raise UnbalancedBatch("reconciliation does not balance: " + "; ".join(unbalanced))
    data = [
        (
            c.batch_id,
            source,
            c.bronze_rows,
            c.silver_rows,
            c.quarantined,
            c.duplicates,
            c.held_back,
            c.retired,
            status,
            run_batch_id,
        )
        for source, c, status in rows
    ]
    if not data:
        return
    df = lh.spark.createDataFrame(
        data,
        "batch_id string, source string, bronze_rows long, silver_rows long, "
        "quarantined long, duplicates long, held_back long, retired long, "
        "status string, run_batch_id string",
    )
    _add_missing_columns(lh, RECONCILIATION, RECONCILIATION_SCHEMA)
    lh.merge(_with_now(df, "checked_at", RECONCILIATION_SCHEMA), *RECONCILIATION, keys=RECONCILIATION.keys)


def _add_missing_columns(lh: Lakehouse, table: tuple[str, str], schema: T.StructType) -> None:
    """Add the schema's newer columns (nullable) to a table written before they existed, so MERGE keeps them."""
    lh.add_missing_columns(*table, schema)


def record_dq_results(lh: Lakehouse, run_id: str, batch_id: str, results: Sequence[DQResult]) -> None:
    """Append this run's expectation results."""
    if not results:
        return
    data = [
        (run_id, batch_id, r.source, r.suite, r.expectation, r.column, r.severity, r.success, r.observed)
        for r in results
    ]
    df = lh.spark.createDataFrame(
        data,
        "run_id string, batch_id string, source string, suite string, "
        "expectation string, column string, severity string, success boolean, "
        "observed string",
    )
    lh.append(_with_now(df, "checked_at", DQ_SCHEMA), *DQ_RESULTS)
