"""Deduplication on natural keys and classification of a batch against what silver already holds.

Within a batch the latest `_ingested_at` wins, then the later `_source_file`, then the later row. The
winners are then compared with silver: a new key is an insert; a changed value (from a row at least as
recent as silver's) an update; an identical row a duplicate, unless silver's row carries this very
batch id, i.e. an earlier run of the same batch already applied it (a crash before its progress
record), which counts as applied so a rerun reconciles exactly like an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

ACTION = "_action"
INSERT, UPDATE, APPLIED, SAME, STALE = "insert", "update", "applied", "same", "stale"
TO_SILVER = (INSERT, UPDATE, APPLIED)  # the batch row is silver's current row for its key
WRITES = (INSERT, UPDATE)  # rows the MERGE has to write
OLD = "_t_"  # prefix of silver's current values in the classified frame


def rank_latest(good: DataFrame, keys: Sequence[str]) -> DataFrame:
    """Add `_rank`: 1 for the row that wins its natural key, 2.. for the duplicates it supersedes."""
    order = [F.col("_ingested_at").desc(), F.col("_source_file").desc(), F.col("_row_number").desc()]
    return good.withColumn("_rank", F.row_number().over(Window.partitionBy(*keys).orderBy(*order)))


def values_equal(left: str, right: str, columns: Sequence[str]) -> str:
    """SQL: every value column equal (null-safe) between aliases left and right."""
    return " AND ".join(f"{left}.`{c}` <=> {right}.`{c}`" for c in columns) or "TRUE"


def _same_values(columns: Sequence[str]) -> Column:
    same = F.lit(True)
    for c in columns:
        same = same & F.col(c).eqNullSafe(F.col(OLD + c))
    return same


def classify(
    winners: DataFrame, silver: DataFrame | None, keys: Sequence[str], value_columns: Sequence[str]
) -> DataFrame:
    """Add `_action` (insert | update | applied | same | stale) and silver's old values (`_t_*`)."""
    old_cols = [*keys, *value_columns, "_batch_id", "_ingested_at"]
    if silver is None:
        out = winners
        for c in old_cols:
            out = out.withColumn(OLD + c, F.lit(None).cast(winners.schema[c].dataType))
        return out.withColumn(ACTION, F.lit(INSERT))
    current = silver.select(*[F.col(c).alias(OLD + c) for c in old_cols])
    on = [winners[k].eqNullSafe(current[OLD + k]) for k in keys]
    joined = winners.join(current, on, "left")
    action = (
        F.when(F.col(OLD + "_ingested_at").isNull(), INSERT)
        .when(_same_values(value_columns) & (F.col(OLD + "_batch_id") == F.col("_batch_id")), APPLIED)
        .when(_same_values(value_columns), SAME)
        .when(F.col(OLD + "_ingested_at") > F.col("_ingested_at"), STALE)
        .otherwise(UPDATE)
    )
    return joined.withColumn(ACTION, action)
