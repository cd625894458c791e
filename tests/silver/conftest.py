"""Bronze-shaped frames for the silver tests, built to the bronze contract (every template column as text)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import types as T

INGESTED = datetime(2026, 3, 10, 5, 0)
STORES = [
    {
        "store_id": "S01",
        "name": "Centro",
        "city": "Madrid",
        "country": "ES",
        "subdivision": "ES-MD",
        "timezone": "Europe/Madrid",
        "latitude": "40.4",
        "longitude": "-3.7",
        "store_type": "urban",
    },
    {
        "store_id": "S02",
        "name": "Puerto",
        "city": "Las Palmas",
        "country": "ES",
        "subdivision": "ES-CN",
        "timezone": "Atlantic/Canary",
        "latitude": "28.1",
        "longitude": "-15.4",
        "store_type": "mall",
    },
]
PRODUCTS = [
    {"product_id": "P01", "name": "Barra", "category": "bread", "unit_price": "1.2", "shelf_life_days": "1"},
    {
        "product_id": "P02",
        "name": "Croissant",
        "category": "pastry",
        "unit_price": "1.5",
        "shelf_life_days": "2",
    },
]


def bronze_schema(columns: Sequence[str]) -> T.StructType:
    fields = [T.StructField(c, T.StringType(), True) for c in (*columns, "_rescued_data", "_malformed")]
    fields += [
        T.StructField("_source_file", T.StringType(), False),
        T.StructField("_file_hash", T.StringType(), False),
        T.StructField("_row_number", T.LongType(), False),
        T.StructField("_ingested_at", T.TimestampType(), False),
        T.StructField("_batch_id", T.StringType(), False),
    ]
    return T.StructType(fields)


def bronze_frame(
    spark,
    spec,
    rows: Sequence[dict[str, Any]],
    *,
    batch: str = "b1",
    file: str | None = None,
    ingested_at: datetime = INGESTED,
) -> DataFrame:
    """Rows as the bronze layer holds them; a row may set `_malformed` (and omit columns)."""
    source_file = file or f"{spec.kind}/{spec.kind}_{batch}.csv"
    data = [
        tuple(r.get(c) for c in spec.column_names)
        + (
            None,
            r.get("_malformed"),
            r.get("_source_file", source_file),
            "sha",
            r.get("_row_number", i),
            ingested_at,
            batch,
        )
        for i, r in enumerate(rows, start=1)
    ]
    return spark.createDataFrame(data, bronze_schema(spec.column_names))


@pytest.fixture
def land(lh, settings):
    """Append bronze rows of a source: land("pos", rows, batch="b2")."""

    def _land(kind: str, rows: Sequence[dict[str, Any]], **kw: Any) -> None:
        spec = settings.source(kind)
        lh.append(bronze_frame(lh.spark, spec, rows, **kw), "bronze", spec.table)

    return _land


@pytest.fixture
def dims(land):
    """Two stores (Madrid, Canary Islands) and two products in bronze."""
    land("stores", STORES, batch="b0")
    land("products", PRODUCTS, batch="b0")


def pos_row(
    tx: str,
    ts: str,
    store: str = "S01",
    product: str = "P01",
    qty: str | None = "2",
    price: str = "1.2",
    total: str = "2.4",
    promo: str | None = None,
) -> dict[str, Any]:
    return {
        "transaction_id": tx,
        "timestamp": ts,
        "store_id": store,
        "product_id": product,
        "quantity_sold": qty,
        "price_unit": price,
        "total_amount": total,
        "promotion_applied_id": promo,
    }
