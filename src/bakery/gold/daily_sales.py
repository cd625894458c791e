"""Daily sales per store x product x day from POS lines and uploads, each day sold, zero, closed or not offered.

A store with no sales row at all on a day of its active range was closed. On an open day a product with no
row sold zero if it was offered, i.e. it sold within `window` days before and after (the days after the
store's latest data count as sold, since they are not known yet); otherwise it was not offered.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from bakery.lakehouse import struct_type
from bakery.tables import DAILY_SALES

SERIES_KEYS = ("store_id", "product_id")
KEYS = DAILY_SALES.keys
STATUSES = ("sold", "zero", "closed", "not_offered")

DAILY_SALES_SCHEMA = struct_type(DAILY_SALES)
# Internal columns kept beside the table's for the feature step: whether a row was observed, and the target
# as it was known on the day itself (only the past decides whether a missing row is a zero).
HAS_ROW = "_has_row"
Y_KNOWN = "_y_known"


def _has_text(col: str) -> Column:
    return F.col(col).isNotNull() & (F.trim(F.col(col)) != "")


def pos_daily(pos: DataFrame) -> DataFrame:
    """silver.pos_transactions summed per store, product and local date; promo if any line had a promotion."""
    return (
        pos.groupBy("store_id", "product_id", F.col("local_date").alias("date"))
        .agg(
            F.sum("quantity_sold").alias("quantity_sold"),
            F.sum("total_amount").alias("revenue"),
            F.count("transaction_id").alias("n_transactions"),  # a line per (transaction, product)
            F.max(_has_text("promotion_applied_id")).alias("promo"),
        )
        .withColumn("source", F.lit("pos"))
    )


def upload_daily(uploads: DataFrame) -> DataFrame:
    """silver.daily_sales_uploads in the shape of pos_daily (no transaction counts)."""
    return uploads.select(
        "store_id",
        "product_id",
        "date",
        F.col("quantity_sold").cast("double"),
        F.col("revenue").cast("double"),
        F.lit(None).cast("long").alias("n_transactions"),
        _has_text("promotion_id").alias("promo"),
        F.lit("upload").alias("source"),
    )


def observed_sales(pos: DataFrame, uploads: DataFrame) -> DataFrame:
    """One row per observed store x product x day: POS where the store-day has any POS, else the upload."""
    rows = pos_daily(pos).unionByName(upload_daily(uploads))
    has_pos = F.max((F.col("source") == "pos").cast("int")).over(Window.partitionBy("store_id", "date"))
    return (
        rows.withColumn("_has_pos", has_pos)
        .where((F.col("source") == "pos") | (F.col("_has_pos") == 0))
        .drop("_has_pos")
    )


def _grid(observed: DataFrame) -> DataFrame:
    """Every day of each store's active range (first..last observed day) for each series it ever sold."""
    ranges = observed.groupBy("store_id").agg(F.min("date").alias("_first"), F.max("date").alias("_last"))
    series = observed.select(*SERIES_KEYS).distinct()
    return series.join(F.broadcast(ranges), "store_id").select(
        *SERIES_KEYS, F.explode(F.sequence("_first", "_last")).alias("date"), "_last"
    )


def build_daily_sales(
    observed: DataFrame, inventory_daily: DataFrame, products: DataFrame, window: int
) -> DataFrame:
    """The gold.daily_sales rows plus the internal _has_row and _y_known columns (see module docstring).

    `observed` is observed_sales(pos, uploads); it is used several times, so callers may persist it.
    """
    observed = observed.withColumn(HAS_ROW, F.lit(True))
    store_days = observed.groupBy("store_id", "date").agg(F.max("source").alias("_day_source"))
    stock = inventory_daily.groupBy(*KEYS).agg(F.max("stockout").alias("_stockout"))
    launch = products.select("product_id", F.col("launched_on").alias("_launched_on"))
    w = Window.partitionBy(*SERIES_KEYS).orderBy("date")
    rows = (
        _grid(observed)
        .join(observed, list(KEYS), "left")
        .join(F.broadcast(store_days), ["store_id", "date"], "left")
        .join(stock, list(KEYS), "left")
        .join(F.broadcast(launch), "product_id", "left")
        .withColumn(HAS_ROW, F.coalesce(F.col(HAS_ROW), F.lit(False)))
        .withColumn("_n", F.col(HAS_ROW).cast("int"))
        .withColumn("_before", F.sum("_n").over(w.rowsBetween(-window, -1)) > 0)
        .withColumn(
            "_after",
            (F.sum("_n").over(w.rowsBetween(1, window)) > 0) | (F.datediff("_last", "date") < window),
        )
    )
    is_open = F.col("_day_source").isNotNull()
    launched = F.col("_launched_on").isNull() | (F.col("date") >= F.col("_launched_on"))
    offered = F.col(HAS_ROW) | (launched & F.col("_before") & F.col("_after"))
    status = (
        F.when(F.col(HAS_ROW) & (F.col("quantity_sold") > 0), "sold")
        .when(F.col(HAS_ROW), "zero")
        .when(~is_open, "closed")
        .when(offered, "zero")
        .otherwise("not_offered")
    )
    implicit_zero = ~F.col(HAS_ROW) & (status == "zero")
    return rows.select(
        *KEYS,
        F.when(status.isin("sold", "zero"), F.coalesce("quantity_sold", F.lit(0.0))).alias("quantity_sold"),
        F.when(implicit_zero, F.lit(0.0)).otherwise(F.col("revenue")).alias("revenue"),
        F.when(implicit_zero & (F.col("_day_source") == "pos"), F.lit(0).cast("long"))
        .otherwise(F.col("n_transactions"))
        .alias("n_transactions"),
        is_open.alias("is_open"),
        offered.alias("is_offered"),
        status.alias("status"),
        F.coalesce("_stockout", F.lit(False)).alias("stockout"),
        F.coalesce("promo", F.lit(False)).alias("promo"),
        F.col("_day_source").alias("source"),
        F.col(HAS_ROW),
        F.when(F.col(HAS_ROW), F.col("quantity_sold"))
        .when(is_open & launched & F.col("_before"), F.lit(0.0))
        .alias(Y_KNOWN),
    )


def daily_sales_table(sales: DataFrame) -> DataFrame:
    """The table's columns, in order and with the table's types."""
    return sales.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in DAILY_SALES_SCHEMA.fields])
