"""Which uploads are retired: the latest event per batch in ops.upload_batches, and its file named like bronze's."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
from deltalake import write_deltalake

from bakery.ingest.landing import landing_relpath
from bakery.ops import upload_batches
from bakery.silver.build import build_silver
from bakery.silver.records import RECONCILIATION, BatchCounts, record_reconciliation
from bakery.silver.retired import latest_retired
from bakery.tables import UPLOAD_BATCHES
from tests.silver.conftest import INGESTED


def _events(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["batch_id", "kind", "source_file", "status", "changed_at"]).assign(
        changed_at=lambda d: pd.to_datetime(d["changed_at"], utc=True)
    )


def test_latest_status_decides_and_ties_count_as_retired():
    events = _events(
        ("a", "sales", "sales/import_a.parquet", "accepted", "2026-05-01 10:00"),
        ("a", "sales", "sales/import_a.parquet", "deleted", "2026-05-02 10:00"),
        ("b", "sales", "sales/import_b.parquet", "accepted", "2026-05-01 11:00"),  # still in force
        ("c", "pos", "pos/import_c.parquet", "replaced", "2026-05-03 09:00"),
        ("c", "pos", "pos/import_c.parquet", "accepted", "2026-05-03 09:00"),  # same instant
        ("d", "sales", None, "rejected", "2026-05-01 12:00"),  # never landed
        ("e", "sales", "sales/import_e.parquet", "accepted", "2026-05-01 13:00"),
        ("e", "sales", None, "deleted", "2026-05-04 13:00"),  # file from its upload
    )
    retired = latest_retired(events).sort_values("batch_id")
    assert retired.values.tolist() == [
        ["a", "sales", "sales/import_a.parquet", "deleted"],
        ["c", "pos", "pos/import_c.parquet", "replaced"],
        ["e", "sales", "sales/import_e.parquet", "deleted"],
    ]


def test_logged_names_are_normalised_like_bronze_source_files(settings):
    landed = settings.landing_dir / "sales" / "import_20260501T100000Z_ventas.parquet"
    bronze_name = landing_relpath(settings, landed)  # what bronze writes to _source_file
    assert bronze_name == "sales/import_20260501T100000Z_ventas.parquet"
    for logged in (
        bronze_name,
        "sales\\import_20260501T100000Z_ventas.parquet",
        "./sales//import_20260501T100000Z_ventas.parquet",
        str(landed),
        Path(landed).as_posix(),
    ):
        assert landing_relpath(settings, logged) == bronze_name, logged


# ---- build_silver with retired uploads (bronze-shaped batches) -----------------------------------------------
AS_OF = date(2026, 3, 10)
FEED, FIX, LATE = "sales/feed_2026-03.csv", "sales/import_fix.parquet", "sales/import_late.parquet"


def _sales(day: str, qty: str) -> dict[str, str]:
    return {"date": day, "store_id": "S01", "product_id": "P01", "quantity_sold": qty}


def _log(lh, *events: tuple[str, str, str, int]) -> None:
    """Events as the app's upload module appends them to ops.upload_batches."""
    rows = pd.DataFrame(
        [
            {
                "batch_id": b,
                "kind": "sales",
                "source_file": f,
                "original_name": "ventas.csv",
                "file_hash": "x",
                "uploaded_by": "ana",
                "status": st,
                "rows_loaded": 1,
                "replaces": None,
                "changed_at": pd.Timestamp("2026-03-09 10:00", tz="UTC") + pd.Timedelta(minutes=m),
            }
            for b, f, st, m in events
        ]
    )
    write_deltalake(
        lh.path(*UPLOAD_BATCHES),
        pa.Table.from_pandas(rows, schema=upload_batches.SCHEMA, preserve_index=False),
        mode="append",
    )


def _stock(lh) -> list[tuple]:
    rows = lh.read("silver", "inventory_daily").filter("store_id = 'S01' AND product_id = 'P01'").collect()
    return sorted((r.date.isoformat(), r.sold) for r in rows)


def test_retired_upload_leaves_silver_and_inventory_and_a_corrected_key_gets_its_value_back(
    lh, settings, land, dims
):
    land("sales", [_sales("2026-03-02", "5"), _sales("2026-03-03", "6")], batch="b1", file=FEED)
    assert build_silver(lh, settings, "run1", as_of=AS_OF).ok
    land(
        "sales",
        [_sales("2026-03-02", "8"), _sales("2026-03-04", "2")],
        batch="b2",
        file=FIX,
        ingested_at=INGESTED + timedelta(hours=1),
    )
    _log(lh, ("upl-fix", FIX, "accepted", 0))
    assert build_silver(lh, settings, "run2", as_of=AS_OF).ok
    assert _stock(lh) == [("2026-03-02", 8.0), ("2026-03-03", 6.0), ("2026-03-04", 2.0)]

    land(
        "sales", [_sales("2026-03-05", "1")], batch="b3", file=LATE, ingested_at=INGESTED + timedelta(hours=2)
    )
    _log(
        lh,
        ("upl-late", LATE, "accepted", 1),
        ("upl-fix", FIX, "deleted", 2),
        ("upl-late", LATE, "deleted", 3),
    )
    result = build_silver(lh, settings, "run3", as_of=AS_OF)
    assert result.ok, result.summary_lines()

    silver = {
        r.date.isoformat(): (r.quantity_sold, r._source_file)
        for r in lh.read("silver", "daily_sales_uploads").collect()
    }
    assert silver == {"2026-03-02": (5.0, FEED), "2026-03-03": (6.0, FEED)}  # the correction's key restored
    assert _stock(lh) == [("2026-03-02", 5.0), ("2026-03-03", 6.0)]  # 03-04 and 03-05 gone
    removal = result.sources["sales"].removal
    assert (removal.batches, removal.removed, removal.restored) == (["upl-fix", "upl-late"], 2, 1)
    rec = {
        r.batch_id: (r.bronze_rows, r.silver_rows, r.quarantined, r.duplicates, r.held_back, r.retired)
        for r in lh.read("ops", "reconciliation").filter("source = 'sales'").collect()
    }
    assert rec["b3"] == (1, 0, 0, 0, 0, 1)
    assert all(b == s + q + d + h + r for b, s, q, d, h, r in rec.values())

    versions = lh.versions(("silver", t.name) for t in lh.list_tables() if t.layer == "silver")
    assert build_silver(lh, settings, "run4", as_of=AS_OF).sources["sales"].removal.batches == []
    assert lh.versions(("silver", t.name) for t in lh.list_tables() if t.layer == "silver") == versions


def test_reconciliation_written_before_the_retired_column_gets_it(lh):
    old = [("b0", "sales", 2, 2, 0, 0, 0, "ok", "run0", datetime(2026, 3, 1))]
    lh.append(
        lh.spark.createDataFrame(
            old,
            "batch_id string, source string, bronze_rows long, silver_rows long, "
            "quarantined long, duplicates long, held_back long, status string, "
            "run_batch_id string, checked_at timestamp",
        ),
        *RECONCILIATION,
    )
    record_reconciliation(
        lh, [("sales", BatchCounts("b1", bronze_rows=3, silver_rows=1, retired=2), "ok")], "run1"
    )
    rows = {r.batch_id: r.retired for r in lh.read(*RECONCILIATION).collect()}
    assert rows == {"b0": None, "b1": 2}
