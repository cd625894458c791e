"""Silver-shaped test tables written exactly per the silver contract (spec columns + lineage)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from bakery.lakehouse import Lakehouse

SPARK_TYPES = {
    "string": T.StringType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "double": T.DoubleType(),
    "long": T.LongType(),
    "boolean": T.BooleanType(),
}
LINEAGE = [
    T.StructField("_source_file", T.StringType()),
    T.StructField("_batch_id", T.StringType()),
    T.StructField("_ingested_at", T.TimestampType()),
]
INVENTORY_DAILY = T.StructType(
    [
        T.StructField("store_id", T.StringType()),
        T.StructField("product_id", T.StringType()),
        T.StructField("date", T.DateType()),
        T.StructField("opening_stock", T.DoubleType()),
        T.StructField("delivered", T.DoubleType()),
        T.StructField("sold", T.DoubleType()),
        T.StructField("closing_stock", T.DoubleType()),
        T.StructField("snapshot_stock", T.DoubleType()),
        T.StructField("stockout", T.BooleanType()),
        T.StructField("source", T.StringType()),
    ]
)
INGESTED = datetime(2026, 6, 1, 3, 0)


def silver_schema(lh: Lakehouse, kind: str) -> T.StructType:
    spec = lh.settings.source(kind)
    fields = [T.StructField(c.name, SPARK_TYPES[c.type]) for c in spec.columns]
    if spec.event_time and spec.column(spec.event_time).type == "timestamp":
        fields.append(T.StructField("local_date", T.DateType()))
    return T.StructType(fields + LINEAGE)


def silver_df(lh: Lakehouse, kind: str, rows: list[dict]) -> DataFrame:
    """A silver DataFrame of `kind` from dicts; absent columns are null, lineage is filled in."""
    schema = silver_schema(lh, kind)
    lineage = {"_source_file": f"{kind}/test.csv", "_batch_id": "test", "_ingested_at": INGESTED}
    data = [tuple({**lineage, **r}.get(f.name) for f in schema.fields) for r in rows]
    return lh.spark.createDataFrame(data, schema)


def write_silver(lh: Lakehouse, kind: str, rows: list[dict]) -> None:
    """Replace silver.<table of kind> with these rows."""
    lh.overwrite(silver_df(lh, kind, rows), "silver", lh.settings.source(kind).table)


def merge_silver(lh: Lakehouse, kind: str, rows: list[dict]) -> None:
    spec = lh.settings.source(kind)
    lh.merge(silver_df(lh, kind, rows), "silver", spec.table, keys=spec.keys)


def inventory_daily_df(lh: Lakehouse, rows: list[dict]) -> DataFrame:
    base = {
        "opening_stock": 10.0,
        "delivered": 0.0,
        "sold": 0.0,
        "closing_stock": 10.0,
        "snapshot_stock": None,
        "stockout": False,
        "source": "derived",
    }
    return lh.spark.createDataFrame(
        [tuple({**base, **r}.get(f.name) for f in INVENTORY_DAILY.fields) for r in rows], INVENTORY_DAILY
    )


def pos_lines(
    store: str,
    product: str,
    day: date,
    quantities: list[float],
    price: float = 1.0,
    promo: str | None = None,
    tag: str = "",
) -> list[dict]:
    """POS lines of one product on one local day, one transaction per quantity (noon UTC)."""
    return [
        {
            "transaction_id": f"{store}-{day.isoformat()}-{product}-{i}{tag}",
            "timestamp": datetime(day.year, day.month, day.day, 12, 0) + timedelta(minutes=i),
            "store_id": store,
            "product_id": product,
            "quantity_sold": float(q),
            "price_unit": price,
            "total_amount": float(q) * price,
            "promotion_applied_id": promo,
            "local_date": day,
        }
        for i, q in enumerate(quantities)
    ]


def days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]
