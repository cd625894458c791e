"""Deleting or replacing an upload batch in the app takes its rows out of silver, inventory and gold on the next run."""

from __future__ import annotations

from pyspark.sql import functions as F

from bakery.app import uploads
from bakery.app.auth import Principal
from bakery.app.db import UploadBatch
from bakery.etl import run_etl
from bakery.ingest.bronze import ingest_landing
from bakery.lakehouse import Lakehouse
from bakery.ops.runs import new_batch_id
from bakery.silver.retired import RetiredUpload, retired_uploads
from tests.app.conftest import build_app
from tests.conftest import SMALL_AS_OF

ANA = Principal("ana", "analyst", frozenset(), 2)
DAY = SMALL_AS_OF  # a day after the small demo's data: any sales on it come from the uploads
BUSINESS_LAYERS = ("bronze", "silver", "gold")


def _upload(ctx, rows: list[tuple[str, str, int]], replaces: str | None = None) -> dict:
    text = "date,store_id,product_id,quantity_sold\n" + "".join(f"{DAY},{s},{p},{q}\n" for s, p, q in rows)
    staged = uploads.stage(ctx, ANA, "sales", "ventas.csv", text.encode())
    result = uploads.commit(
        ctx, ANA, staged, mapping=None, shape=None, on_duplicate="skip", max_error_rate=0.0, replaces=replaces
    )
    assert result["accepted"], result
    return result


def _landing_file(ctx, batch_id: str) -> str:
    with ctx.db.session() as s:
        return s.get(UploadBatch, batch_id).path


def _bronze_files(lh) -> set[str]:
    return set(
        lh.read_arrow("bronze", "daily_sales_uploads", columns=["_source_file"])["_source_file"].to_pylist()
    )


def test_retired_uploads_name_their_rows_as_bronze_does(spark, ctx, app_settings):
    lh = Lakehouse(spark, app_settings)
    first = _upload(ctx, [("S01", "P001", 12)])["batch_id"]
    ingest_landing(lh, app_settings, new_batch_id())
    second = _upload(ctx, [("S01", "P001", 13)], replaces=first)["batch_id"]
    third = _upload(ctx, [("S02", "P001", 4)])["batch_id"]
    ingest_landing(lh, app_settings, new_batch_id())
    uploads.soft_delete(ctx, ANA, third)
    retired = {u.batch_id: u for u in retired_uploads(lh)}
    assert retired == {
        first: RetiredUpload(first, "sales", _landing_file(ctx, first), "replaced"),
        third: RetiredUpload(third, "sales", _landing_file(ctx, third), "deleted"),
    }
    assert {u.source_file for u in retired.values()} | {_landing_file(ctx, second)} == _bronze_files(lh)


def _same_rows(left, right) -> bool:
    return left.exceptAll(right).isEmpty() and right.exceptAll(left).isEmpty()


def _uploaded_sales(lh) -> dict[tuple[str, str], float]:
    rows = lh.read("silver", "daily_sales_uploads").collect()
    return {(r.store_id, r.product_id): r.quantity_sold for r in rows}


def _gold_day(lh, store: str) -> dict[str, float]:
    rows = (
        lh.read("gold", "daily_sales")
        .filter((F.col("store_id") == store) & (F.col("date") == DAY) & (F.col("status") == "sold"))
        .collect()
    )
    return {r.product_id: r.quantity_sold for r in rows}


def test_deleted_and_replaced_uploads_leave_silver_inventory_and_gold_on_the_next_run(
    spark, built_small_copy
):
    settings = built_small_copy.settings
    lh = Lakehouse(spark, settings)
    ctx = build_app(settings).server.extensions["bakery"]
    s1, s2 = sorted(lh.read_arrow("silver", "stores", columns=["store_id"])["store_id"].to_pylist())[:2]
    p1, p2, p3 = sorted(
        lh.read_arrow("silver", "products", columns=["product_id"])["product_id"].to_pylist()
    )[:3]
    gold_before = lh.read("gold", "daily_sales", version=lh.version("gold", "daily_sales"))
    inventory_before = lh.read("silver", "inventory_daily", version=lh.version("silver", "inventory_daily"))

    deleted = _upload(ctx, [(s1, p1, 5), (s1, p2, 7)])["batch_id"]
    replaced = _upload(ctx, [(s2, p1, 4)])["batch_id"]
    assert run_etl(lh, settings, as_of=SMALL_AS_OF).ok
    assert _uploaded_sales(lh) == {(s1, p1): 5.0, (s1, p2): 7.0, (s2, p1): 4.0}
    assert _gold_day(lh, s1) == {p1: 5.0, p2: 7.0}

    uploads.soft_delete(ctx, ANA, deleted)
    # The dry run ("Validar") judges duplicates as the load will: the replaced batch's keys are not stored ones.
    staged = uploads.stage(
        ctx,
        ANA,
        "sales",
        "ventas.csv",
        f"date,store_id,product_id,quantity_sold\n{DAY},{s2},{p1},9\n".encode(),
    )
    raw = uploads.parse(ctx, staged, None)
    assert uploads.validate(ctx, staged, raw, None, "skip").to_dict()["totals"]["skipped_duplicates"] == 1
    assert (
        uploads.validate(ctx, staged, raw, None, "skip", replaces=replaced).to_dict()["totals"][
            "skipped_duplicates"
        ]
        == 0
    )
    replacement = _upload(ctx, [(s2, p1, 9)], replaces=replaced)  # same key: not skipped as already stored
    assert replacement["totals"]["rows_written"] == 1
    late = _upload(ctx, [(s1, p3, 2)])["batch_id"]  # reaches bronze (with the replacement), then is deleted
    ingest_landing(lh, settings, new_batch_id())
    uploads.soft_delete(ctx, ANA, late)
    report = run_etl(lh, settings, as_of=SMALL_AS_OF)
    assert report.ok, report.render()

    assert _uploaded_sales(lh) == {(s2, p1): 9.0}
    assert _gold_day(lh, s1) == {} and _gold_day(lh, s2) == {p1: 9.0}
    for table, before in (("gold.daily_sales", gold_before), ("silver.inventory_daily", inventory_before)):
        now = lh.read(*table.split("."))
        assert _same_rows(now.filter(F.col("store_id") == s1), before.filter(F.col("store_id") == s1)), table
    rec = lh.read("ops", "reconciliation").filter(F.col("source") == "sales").collect()
    assert all(
        r.bronze_rows == r.silver_rows + r.quarantined + r.duplicates + r.held_back + (r.retired or 0)
        for r in rec
    )
    assert sorted((r.bronze_rows, r.silver_rows, r.retired) for r in rec) == [(2, 1, 1), (3, 3, 0)]

    versions = lh.versions((t.layer, t.name) for t in lh.list_tables() if t.layer in BUSINESS_LAYERS)
    assert run_etl(lh, settings, as_of=SMALL_AS_OF).ok
    assert lh.versions((t.layer, t.name) for t in lh.list_tables() if t.layer in BUSINESS_LAYERS) == versions
