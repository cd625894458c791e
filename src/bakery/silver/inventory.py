"""silver.inventory_daily: stock per store x product x local day from snapshots, deliveries and sales.

A day's closing stock is the last snapshot minus the sales since, plus the deliveries since. On a day with
a snapshot that is the (day's last) count plus the deliveries and minus the sales after its time; on other
days it is the previous closing plus the day's deliveries minus its sales. Before a series' first snapshot
it starts from zero. Sales are POS lines by local date; for a store-day without any POS line, that day's
uploaded daily totals (silver.daily_sales_uploads) count instead, taken as sold before that day's count.
Stock never goes below zero: the shortfall is added back and recorded in `correction` (it means a sale,
delivery or count is missing). `stockout` marks days with sales that ended with no stock left, but only once
the series' stock is tracked: from its first count or delivery on. A series with sales and nothing else (a
sales-only import) has no known stock, so its zero level is not a stock-out and its days stay uncensored.

On non-snapshot days opening + delivered - sold + correction = closing; on snapshot days the count resets
the level, so closing - (opening + delivered - sold) is the count's adjustment (shrinkage, waste).

Recomputation is incremental: when POS, uploads, deliveries or snapshots change, each affected store is
recomputed from the earliest changed local date, starting from the stored closing of the day before.
When input rows were taken out (retired uploads, bakery.silver.retired), those stores are recomputed from
the first day that lost rows, and stored days the remaining inputs no longer produce (a series or its
first or last days that only the retired rows made) are deleted in the same MERGE, so the table ends as a
full rebuild would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import reduce
from operator import or_
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from bakery.config import Settings
from bakery.lakehouse import Lakehouse, struct_type
from bakery.tables import INVENTORY_DAILY

log = logging.getLogger(__name__)

TABLE = INVENTORY_DAILY
STEP = "inventory_daily"
KEYS = INVENTORY_DAILY.keys
SERIES = ("store_id", "product_id")
INPUTS = ("pos", "sales", "deliveries", "inventory")  # source kinds the inventory is derived from
DAY_COLUMN = {"pos": "local_date", "sales": "date", "deliveries": "local_date", "inventory": "local_date"}
EPSILON = 1e-9
DECIMALS = 6
INVENTORY_SCHEMA = struct_type(INVENTORY_DAILY)
FLOW_COLUMNS = ("sold", "delivered", "sold_after", "delivered_after")
DELETE = "_delete"  # marks stored days a MERGE deletes (inputs lost their rows)


@dataclass
class InventoryInputs:
    """The silver frames inventory is derived from (None where a table does not exist yet)."""

    pos: DataFrame | None = None
    uploads: DataFrame | None = None
    deliveries: DataFrame | None = None
    snapshots: DataFrame | None = None


@dataclass
class InventoryOutcome:
    """What the inventory step did this run."""

    mode: str = "unchanged"  # unchanged | full | incremental | skipped
    stores: dict[str, str] = field(default_factory=dict)  # store -> first recomputed date
    rows_written: int = 0
    corrected_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "stores": self.stores,
            "rows_written": self.rows_written,
            "corrected_rows": self.corrected_rows,
        }


# ---- transforms ---------------------------------------------------------------------------------
def _flow(df: DataFrame, day: str, **values: Column) -> DataFrame:
    cols = {c: F.lit(0.0) for c in FLOW_COLUMNS} | {"snapshot_stock": F.lit(None).cast("double")} | values
    return df.select(
        "store_id",
        "product_id",
        F.col(day).alias("date"),
        *[v.cast("double").alias(k) for k, v in cols.items()],
    )


def last_snapshots(snapshots: DataFrame) -> DataFrame:
    """The last count of each store x product x local day, with its time."""
    return snapshots.groupBy("store_id", "product_id", F.col("local_date").alias("date")).agg(
        F.max_by("current_stock", "snapshot_timestamp").alias("snapshot_stock"),
        F.max("snapshot_timestamp").alias("_snap_at"),
    )


def _timed_flows(
    lines: DataFrame, snaps: DataFrame | None, ts: str, qty: str, total: str, after: str
) -> DataFrame:
    """Daily totals of timed lines (POS, deliveries), and the part after that day's snapshot."""
    lines = lines.select("store_id", "product_id", F.col("local_date").alias("date"), ts, qty)
    if snaps is None:
        late = F.lit(0.0)
    else:
        lines = lines.join(F.broadcast(snaps.select(*KEYS, "_snap_at")), list(KEYS), "left")
        late = F.when(F.col(ts) > F.col("_snap_at"), F.col(qty)).otherwise(F.lit(0.0))
    daily = lines.groupBy(*KEYS).agg(F.sum(qty).alias(total), F.sum(late).alias(after))
    return _flow(daily, "date", **{total: F.col(total), after: F.col(after)})


def daily_flows(inputs: InventoryInputs) -> DataFrame:
    """Per store x product x day: sold, delivered, the last snapshot, and sold/delivered after it."""
    parts: list[DataFrame] = []
    snaps = last_snapshots(inputs.snapshots) if inputs.snapshots is not None else None
    if snaps is not None:
        parts.append(_flow(snaps, "date", snapshot_stock=F.col("snapshot_stock")))
    if inputs.pos is not None:
        parts.append(_timed_flows(inputs.pos, snaps, "timestamp", "quantity_sold", "sold", "sold_after"))
    if inputs.deliveries is not None:
        parts.append(
            _timed_flows(
                inputs.deliveries,
                snaps,
                "delivery_timestamp",
                "quantity_delivered",
                "delivered",
                "delivered_after",
            )
        )
    if inputs.uploads is not None:
        uploads = inputs.uploads
        if inputs.pos is not None:
            pos_days = inputs.pos.select("store_id", F.col("local_date").alias("date")).distinct()
            uploads = uploads.join(pos_days, ["store_id", "date"], "left_anti")
        parts.append(_flow(uploads, "date", sold=F.col("quantity_sold")))
    if not parts:
        raise ValueError("inventory needs at least one of pos, sales uploads, deliveries or snapshots")
    union = reduce(DataFrame.unionByName, parts)
    return union.groupBy(*KEYS).agg(
        *[F.sum(c).alias(c) for c in FLOW_COLUMNS], F.max("snapshot_stock").alias("snapshot_stock")
    )


def stock_levels(
    flows: DataFrame, anchors: DataFrame | None = None, ends: DataFrame | None = None
) -> DataFrame:
    """inventory_daily rows from daily flows.

    anchors (store_id, product_id, anchor_date, anchor_stock, anchor_tracked): a known closing stock the
    series continues from (the day before the recomputed range), and whether a count or delivery came before
    it; ends (store_id, product_id, end_date): days to carry the series to even without flows (the stored
    range being recomputed).
    """
    span = flows.groupBy(*SERIES).agg(F.min("date").alias("_first"), F.max("date").alias("_last"))
    if anchors is not None:
        span = span.join(anchors, list(SERIES), "full")
    else:
        span = span.select(
            "*",
            F.lit(None).cast("date").alias("anchor_date"),
            F.lit(None).cast("double").alias("anchor_stock"),
            F.lit(None).cast("boolean").alias("anchor_tracked"),
        )
    if ends is not None:
        span = span.join(ends, list(SERIES), "left")
    else:
        span = span.withColumn("end_date", F.lit(None).cast("date"))
    start = F.coalesce(F.date_add("anchor_date", 1), "_first")
    end = F.greatest("_last", "end_date")
    grid = span.filter(start.isNotNull() & end.isNotNull() & (end >= start)).select(
        *SERIES, "anchor_stock", "anchor_tracked", F.explode(F.sequence(start, end)).alias("date")
    )
    w = Window.partitionBy(*SERIES).orderBy("date")
    days = (
        grid.join(flows, list(KEYS), "left")
        .fillna(0.0, subset=list(FLOW_COLUMNS))
        .withColumn("_snap", F.col("snapshot_stock").isNotNull())
        .withColumn(
            "_seg", F.sum(F.col("_snap").cast("int")).over(w.rowsBetween(Window.unboundedPreceding, 0))
        )
    )
    seg = Window.partitionBy(*SERIES, "_seg").orderBy("date")
    running = seg.rowsBetween(Window.unboundedPreceding, 0)
    base = F.when(F.col("_seg") == 0, F.coalesce("anchor_stock", F.lit(0.0))).otherwise(
        F.first("snapshot_stock").over(seg)
    )
    change = F.when(F.col("_snap"), F.col("delivered_after") - F.col("sold_after")).otherwise(
        F.col("delivered") - F.col("sold")
    )
    levels = (
        days.withColumn("_s", F.round(base + F.sum(change).over(running), DECIMALS))
        .withColumn("_m", F.least(F.lit(0.0), F.min("_s").over(running)))
        .withColumn("closing_stock", F.round(F.col("_s") - F.col("_m"), DECIMALS))
        .withColumn("correction", F.round(F.lag("_m", 1, 0.0).over(seg) - F.col("_m"), DECIMALS))
    )
    counted = (F.col("_snap") | (F.col("delivered") > 0)).cast("int")
    tracked = F.coalesce(F.col("anchor_tracked"), F.lit(False)) | (
        F.max(counted).over(w.rowsBetween(Window.unboundedPreceding, 0)) > 0
    )
    opening = F.lag("closing_stock").over(w)
    return levels.select(
        "store_id",
        "product_id",
        "date",
        F.coalesce(opening, F.col("anchor_stock"), F.lit(0.0)).alias("opening_stock"),
        F.round("delivered", DECIMALS).alias("delivered"),
        F.round("sold", DECIMALS).alias("sold"),
        "closing_stock",
        "snapshot_stock",
        ((F.col("sold") > 0) & (F.col("closing_stock") <= EPSILON) & tracked).alias("stockout"),
        F.when(F.col("_snap"), "snapshot").otherwise("derived").alias("source"),
        (F.col("correction") + F.lit(0.0)).alias("correction"),
    )


def inventory_table(rows: DataFrame) -> DataFrame:
    return rows.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in INVENTORY_SCHEMA.fields])


# ---- IO -----------------------------------------------------------------------------------------
def _read_inputs(lh: Lakehouse, settings: Settings) -> InventoryInputs:
    def table(kind: str) -> DataFrame | None:
        name = settings.source(kind).table
        return lh.read("silver", name) if lh.exists("silver", name) else None

    return InventoryInputs(
        pos=table("pos"), uploads=table("sales"), deliveries=table("deliveries"), snapshots=table("inventory")
    )


def _since(stores: dict[str, date], day: str, offset: int = 0) -> Column:
    """Rows of the given stores on or after each one's date (+ offset days), as a literal predicate so
    Delta can skip the files that hold only older days."""
    return reduce(
        or_,
        [
            (F.col("store_id") == F.lit(s)) & (F.col(day) >= F.lit(d + timedelta(days=offset)))
            for s, d in sorted(stores.items())
        ],
    )


def _restrict(inputs: InventoryInputs, stores: dict[str, date]) -> InventoryInputs:
    """Only the rows of affected stores on or after their first affected date."""

    def cut(df: DataFrame | None, day: str) -> DataFrame | None:
        return None if df is None else df.filter(_since(stores, day))

    return InventoryInputs(
        pos=cut(inputs.pos, "local_date"),
        uploads=cut(inputs.uploads, "date"),
        deliveries=cut(inputs.deliveries, "local_date"),
        snapshots=cut(inputs.snapshots, "local_date"),
    )


def _affected_stores(lh: Lakehouse, settings: Settings, pending: list[tuple[str, str]]) -> dict[str, date]:
    """The earliest local date each store's pending batches touched."""
    parts = []
    for kind in INPUTS:
        batches = [b for s, b in pending if s == kind]
        table = settings.source(kind).table
        if batches and lh.exists("silver", table):
            parts.append(
                lh.read("silver", table)
                .filter(F.col("_batch_id").isin(*batches))
                .groupBy("store_id")
                .agg(F.min(DAY_COLUMN[kind]).alias("_from"))
            )
    if not parts:
        return {}
    union = reduce(DataFrame.unionByName, parts)
    rows = union.groupBy("store_id").agg(F.min("_from").alias("_from")).collect()
    return {r.store_id: r._from for r in rows if r.store_id is not None and r._from is not None}


def changed_rows(rows: DataFrame, existing: DataFrame | None) -> DataFrame:
    """Rows not stored exactly like this already (null-safe on every column)."""
    if existing is None:
        return rows
    on = [rows[c].eqNullSafe(existing[c]) for c in rows.columns]
    return rows.join(existing.select(*rows.columns), on, "left_anti")


def _write_changes(
    lh: Lakehouse,
    flows: DataFrame,
    anchors: DataFrame | None,
    ends: DataFrame | None,
    existing: DataFrame | None,
    prune: bool = False,
) -> tuple[int, int]:
    """Compute stock levels and MERGE the rows that differ from the stored ones (no change, no commit).

    prune: also delete the `existing` rows the computation no longer produces (same commit).
    Returns (rows written or deleted, rows of tracked stock with a negative-stock correction among them).
    """
    flows = flows.persist()  # read twice by stock_levels (the series spans and the days)
    levels = inventory_table(stock_levels(flows, anchors, ends))
    rows = changed_rows(levels, existing)
    if prune and existing is not None:
        stale = existing.select(*KEYS).join(levels.select(*KEYS), list(KEYS), "left_anti")
        rows = rows.withColumn(DELETE, F.lit(False)).unionByName(
            stale.withColumn(DELETE, F.lit(True)), allowMissingColumns=True
        )
    rows = rows.persist()
    try:
        # Corrections of tracked stock only (they come with a stock-out); an untracked series' are just its sales.
        corrected = F.when((F.col("correction") > 0) & F.col("stockout"), 1)
        counts = rows.agg(F.count(F.lit(1)).alias("n"), F.count(corrected).alias("c")).first()
        if counts.n:
            values = [c for c in INVENTORY_SCHEMA.fieldNames() if c not in KEYS]
            changed = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in values)
            lh.merge(
                rows, *TABLE, keys=KEYS, condition=changed, delete=DELETE if DELETE in rows.columns else None
            )
        return int(counts.n), int(counts.c)
    finally:
        rows.unpersist()
        flows.unpersist()


def refresh_inventory(
    lh: Lakehouse, settings: Settings, pending: list[tuple[str, str]], removed: dict[str, date] | None = None
) -> InventoryOutcome:
    """Bring silver.inventory_daily up to date with the (source, batch) merged into its inputs since its
    last refresh, and with `removed` (store -> first day whose input rows were taken out); the caller
    records the batches as taken (step `inventory_daily`) once this returns."""
    outcome = InventoryOutcome()
    removed = removed or {}
    if not pending and not removed and lh.exists(*TABLE):
        return outcome
    inputs = _read_inputs(lh, settings)
    if all(v is None for v in vars(inputs).values()):
        outcome.mode = "skipped"
        return outcome
    if not lh.exists(*TABLE):
        outcome.mode = "full"
        outcome.rows_written, outcome.corrected_rows = _write_changes(
            lh, daily_flows(inputs), None, None, None
        )
    else:
        affected = _affected_stores(lh, settings, pending)
        for store, day in removed.items():
            affected[store] = min(day, affected.get(store, day))
        outcome.stores = {s: d.isoformat() for s, d in sorted(affected.items())}
        if affected:
            outcome.mode = "incremental"
            outcome.rows_written, outcome.corrected_rows = _recompute(
                lh, inputs, affected, prune=bool(removed)
            )
    if outcome.rows_written:
        log.info(
            "inventory_daily: %s refresh wrote %d rows (%d with a stock correction)",
            outcome.mode,
            outcome.rows_written,
            outcome.corrected_rows,
        )
    return outcome


def _recompute(
    lh: Lakehouse, inputs: InventoryInputs, affected: dict[str, date], prune: bool = False
) -> tuple[int, int]:
    """Recompute the affected stores from their first affected day, continuing from the stored closing.

    prune (inputs lost rows): series end at their last remaining flow, as in a full build, and stored days
    beyond what the remaining inputs produce are deleted; otherwise each series is carried to its stored end.
    """
    stored = lh.read(*TABLE).filter(_since(affected, "date", offset=-1))
    first = F.create_map(*[x for s, d in sorted(affected.items()) for x in (F.lit(s), F.lit(d))])[
        F.col("store_id")
    ]
    tracked = (
        lh.read(*TABLE)
        .filter(F.col("store_id").isin(*affected) & (F.col("date") < first))
        .groupBy(*SERIES)
        .agg(F.max(F.col("snapshot_stock").isNotNull() | (F.col("delivered") > 0)).alias("anchor_tracked"))
    )
    anchors = (
        stored.filter(F.col("date") < first)
        .select(*SERIES, F.col("date").alias("anchor_date"), F.col("closing_stock").alias("anchor_stock"))
        .join(tracked, list(SERIES), "left")
    )
    in_range = stored.filter(F.col("date") >= first)
    ends = None if prune else in_range.groupBy(*SERIES).agg(F.max("date").alias("end_date"))
    return _write_changes(lh, daily_flows(_restrict(inputs, affected)), anchors, ends, in_range, prune)
