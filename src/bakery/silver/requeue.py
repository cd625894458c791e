"""Late-arriving dimensions: rows quarantined as `unknown_store` / `unknown_product` are checked again once
silver.stores or silver.products has changed, and those that now pass every rule are taken into silver.

Sales imported before their stores, a new store's first POS file landing a night before the store list: the
rows wait in ops.quarantine, not lost. When a run finds the dimensions at versions it has not retried a
source's waiting rows against (the marker `stores@<version>,products@<version>` in ops.silver_progress, step
`reference_retry`), it reads those rows back from bronze and takes them like a new batch (same rules,
deduplication against silver and quality suite). A row that now passes leaves ops.quarantine (Delta history
keeps the entries); one that still fails keeps the entries of the rules it still breaks, and is checked again
after the next change of the dimensions, not every night. Its ops.reconciliation row keeps describing its batch as first processed.

Every write is idempotent and the marker is recorded last with the run's progress, so a crash means the next
run retries the same rows and ends in the same state (rows already in silver classify as applied).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bakery.lakehouse import Lakehouse
from bakery.ops.quarantine import QUARANTINE_KEYS, QUARANTINE_TABLE
from bakery.silver.cleaning import VIOLATIONS

STEP = "reference_retry"
REFERENCE_RULES = ("unknown_store", "unknown_product")


@dataclass
class Requeue:
    """What checking one source's rows with unknown references again did this run."""

    marker: str  # dimension versions they were checked against
    checked: int = 0  # rows read back from bronze
    taken: int = 0  # of those, rows that now pass every rule
    stores: dict[str, date] = field(default_factory=dict)  # store -> first day inventory must recompute

    def to_dict(self) -> dict[str, object]:
        return {"against": self.marker, "checked": self.checked, "taken": self.taken}


def dimension_marker(lh: Lakehouse, tables: Iterable[tuple[str, str]]) -> str:
    """`<kind>@<version>` of each dimension's silver table (kind, table), joined: changes with any commit."""
    return ",".join(f"{kind}@{lh.version('silver', table)}" for kind, table in tables)


def waiting_sources(lh: Lakehouse) -> set[str]:
    """Sources with rows in ops.quarantine for an unknown store or product."""
    if not lh.exists(*QUARANTINE_TABLE):
        return set()
    entries = lh.read_arrow(*QUARANTINE_TABLE, columns=["source", "rule"])
    waiting = entries.filter(pc.is_in(entries["rule"], value_set=pa.array(REFERENCE_RULES)))
    return set(pc.unique(waiting["source"]).to_pylist())


def due(kind: str, marker: str, waiting: set[str], done: set[tuple[str, str, str]]) -> bool:
    """A source's waiting rows are checked again once per version of the dimensions."""
    return kind in waiting and (STEP, kind, marker) not in done


def waiting_rows(lh: Lakehouse, kind: str, bronze: DataFrame) -> DataFrame:
    """The bronze rows (of `bronze`, one source's table) quarantined for an unknown store or product."""
    entries = (
        lh.read(*QUARANTINE_TABLE)
        .filter((F.col("source") == kind) & F.col("rule").isin(*REFERENCE_RULES))
        .select(
            F.col("source_file").alias("_source_file"),
            F.col("row_number").alias("_row_number"),
            F.col("batch_id").alias("_batch_id"),
        )
        .distinct()
    )
    return bronze.join(entries, ["_source_file", "_row_number", "_batch_id"], "left_semi")


def release(lh: Lakehouse, kind: str, checked: DataFrame) -> None:
    """Take out the ops.quarantine entries of these rows (`_source_file`, `_row_number`, checked again, with their
    `_violations`) for rules they no longer break: all of a row silver now holds, `unknown_store` of a row
    whose store arrived but whose quantity is still out of range."""
    rows = checked.select(
        F.col("_source_file").alias("source_file"),
        F.col("_row_number").cast("long").alias("row_number"),
        VIOLATIONS,
    )
    broken = rows.select("source_file", "row_number", F.explode(VIOLATIONS).alias("v")).select(
        "source_file", "row_number", F.col("v.rule").alias("rule")
    )
    entries = (
        lh.read(*QUARANTINE_TABLE)
        .filter(F.col("source") == kind)
        .join(rows.select("source_file", "row_number"), ["source_file", "row_number"], "left_semi")
        .join(broken, ["source_file", "row_number", "rule"], "left_anti")
        .select(*QUARANTINE_KEYS, F.lit(True).alias("_release"))
    )
    lh.merge(entries, *QUARANTINE_TABLE, keys=QUARANTINE_KEYS, update=False, delete="_release")
