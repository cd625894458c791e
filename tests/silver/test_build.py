"""build_silver on bronze-shaped batches: reconciliation, quarantine, idempotent reruns, corrections, DQ gate."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta

import yaml
from pyspark.sql import functions as F

from bakery.config import load_settings
from bakery.lakehouse import Lakehouse
from bakery.silver.build import build_silver
from bakery.silver.quality import suites_dir
from tests.silver.conftest import pos_row

AS_OF = date(2026, 3, 10)


def _silver_versions(lh) -> dict[str, int | None]:
    return lh.versions(("silver", t.name) for t in lh.list_tables() if t.layer == "silver")


def _reconciliation(lh, source: str) -> dict[str, tuple]:
    rows = lh.read("ops", "reconciliation").filter(F.col("source") == source).collect()
    return {
        r.batch_id: (r.bronze_rows, r.silver_rows, r.quarantined, r.duplicates, r.held_back, r.status)
        for r in rows
    }


def _pos_batch():
    good = [
        pos_row("T1", "2026-03-02T09:00:00", qty="2"),
        pos_row("T1", "2026-03-02T09:00:00", product="P02", qty="1", price="1.5", total="1.5"),
        pos_row("T2", "2026-03-02T10:30:00+01:00", qty="3", total="3.6"),
    ]
    return [
        *good,
        dict(good[2]),  # an exact copy in the same file
        {**pos_row("T3", "2026-03-02T11:00:00", qty="-1", total="-1.2")},
        {"transaction_id": "T4", "_malformed": "expected 8 fields, found 5"},
        {
            **pos_row("T1", "2026-03-02T09:00:00", qty="4", total="4.8"),  # same key, later file: wins
            "_source_file": "pos/pos_S01_2026-03b.csv",
            "_row_number": 1,
        },
    ]


def test_batch_reconciles_quarantines_and_reruns_change_nothing(lh, settings, land, dims):
    land("pos", _pos_batch(), batch="b1", file="pos/pos_S01_2026-03a.csv")
    result = build_silver(lh, settings, "run1", as_of=AS_OF)
    assert result.ok and result.blocked_sources == set(), result.summary_lines()

    silver = {(r.transaction_id, r.product_id): r for r in lh.read("silver", "pos_transactions").collect()}
    assert set(silver) == {("T1", "P01"), ("T1", "P02"), ("T2", "P01")}
    assert silver[("T1", "P01")].quantity_sold == 4.0
    assert silver[("T1", "P01")]._source_file == "pos/pos_S01_2026-03b.csv"
    assert silver[("T2", "P01")].timestamp == datetime(2026, 3, 2, 9, 30)
    assert silver[("T2", "P01")].local_date == date(2026, 3, 2)
    # 7 bronze rows = 3 in silver + 2 quarantined + 2 duplicates (the exact copy, the superseded T1).
    assert _reconciliation(lh, "pos") == {"b1": (7, 3, 2, 2, 0, "ok")}
    for source in ("stores", "products"):
        assert all(b == s + q + d + h for b, s, q, d, h, _ in _reconciliation(lh, source).values())
    rules = {(r.row_number, r.rule) for r in lh.read("ops", "quarantine").filter("source = 'pos'").collect()}
    assert rules == {(5, "range:quantity_sold"), (5, "range:total_amount"), (6, "malformed_row")}
    assert any("pos: 7 bronze rows -> 3 silver" in line for line in result.summary_lines())
    inventory = lh.read("silver", "inventory_daily").filter("store_id = 'S01' AND product_id = 'P01'").first()
    assert (inventory.date, inventory.sold) == (date(2026, 3, 2), 7.0)

    before = _silver_versions(lh)
    assert build_silver(lh, settings, "run2", as_of=AS_OF).ok
    assert _silver_versions(lh) == before

    # A crash after the silver MERGE but before the progress record: the batch is taken again.
    lh.delete("ops", "silver_progress", "source = 'pos'")
    again = build_silver(lh, settings, "run3", as_of=AS_OF)
    assert _silver_versions(lh) == before
    assert _reconciliation(lh, "pos") == {"b1": (7, 3, 2, 2, 0, "ok")}
    assert again.sources["pos"].inserted == 0


def test_a_later_correction_updates_silver_and_inventory(lh, settings, land, dims):
    land("pos", _pos_batch()[:3], batch="b1")
    build_silver(lh, settings, "run1", as_of=AS_OF)
    inventory_before = {
        (r.product_id, r.date): r.sold for r in lh.read("silver", "inventory_daily").collect()
    }
    assert inventory_before[("P01", date(2026, 3, 2))] == 5.0

    later = datetime(2026, 3, 11, 5, 0)
    land(
        "pos",
        [
            pos_row("T1", "2026-03-02T09:00:00", qty="1", total="1.2"),  # corrected quantity
            pos_row("T2", "2026-03-02T10:30:00+01:00", qty="3", total="3.6"),  # unchanged: a duplicate
            pos_row("T9", "2026-03-04T08:00:00", qty="2"),
        ],  # a new day
        batch="b2",
        ingested_at=later,
    )
    result = build_silver(lh, settings, "run2", as_of=AS_OF + timedelta(days=1))
    assert result.sources["pos"].inserted == 1 and result.sources["pos"].updated == 1
    silver = {(r.transaction_id, r.product_id): r for r in lh.read("silver", "pos_transactions").collect()}
    assert silver[("T1", "P01")].quantity_sold == 1.0 and silver[("T1", "P01")]._batch_id == "b2"
    assert silver[("T2", "P01")]._batch_id == "b1"
    assert _reconciliation(lh, "pos")["b2"] == (3, 2, 0, 1, 0, "ok")
    inventory = {(r.product_id, r.date): r for r in lh.read("silver", "inventory_daily").collect()}
    assert inventory[("P01", date(2026, 3, 2))].sold == 4.0
    assert inventory[("P01", date(2026, 3, 3))].sold == 0.0
    # No count or delivery ever: the stock is unknown, so selling from "zero" is not a stock-out.
    assert (
        not inventory[("P01", date(2026, 3, 4))].stockout and inventory[("P01", date(2026, 3, 4))].sold == 2.0
    )
    assert result.inventory.mode == "incremental" and result.inventory.stores == {"S01": "2026-03-02"}


def test_critical_quality_failure_blocks_only_its_source_and_staleness_warns(
    spark, settings, land, dims, tmp_path
):
    suites = tmp_path / "quality"
    shutil.copytree(suites_dir(settings), suites)
    pos_suite = yaml.safe_load((suites / "pos.yml").read_text())
    pos_suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_between",
            "column": "price_unit",
            "kwargs": {"max_value": 1.0},
            "severity": "CRITICAL",
        }
    )
    (suites / "pos.yml").write_text(yaml.safe_dump(pos_suite))
    strict = load_settings(
        home=settings.home, overrides={"quality": {"suites_dir": str(suites), "engine": "spark"}}
    )
    lh = Lakehouse(spark, strict)
    land("pos", _pos_batch()[:3], batch="b1")
    land(
        "weather",
        [
            {"date": "2026-03-01", "store_id": "S01", "temperature": "12.5"},
            {"date": "2026-03-01", "store_id": "S02", "temperature": "19"},
        ],
        batch="b1",
    )

    result = build_silver(lh, strict, "run1", as_of=AS_OF)
    assert result.blocked_sources == {"pos"} and not result.ok
    text = "\n".join(result.summary_lines())
    assert "pos: blocked by data quality" in text
    assert (
        "FAIL expect_column_values_to_be_between(price_unit) [CRITICAL]" in text
        and '"unexpected_count": 3' in text
    )
    assert not lh.exists("silver", "pos_transactions")
    assert lh.read("silver", "weather").count() == 2
    assert _reconciliation(lh, "pos") == {"b1": (3, 0, 0, 0, 3, "blocked")}
    failed = lh.read("ops", "dq_results").filter("NOT success").collect()
    assert {(r.source, r.severity, r.column) for r in failed} >= {
        ("pos", "CRITICAL", "price_unit"),
        ("weather", "WARNING", "latest_date"),
    }
    stale = next(r for r in failed if r.source == "weather")
    assert "S01 latest 2026-03-01" in stale.observed and "cutoff 2026-03-08" in stale.observed
    assert "weather: WARNING expect_column_values_to_be_between(latest_date)" in text

    # With the suite fixed the held-back batch flows on the next run.
    result = build_silver(Lakehouse(spark, settings), settings, "run2", as_of=AS_OF)
    assert result.ok and lh.read("silver", "pos_transactions").count() == 3
    assert _reconciliation(lh, "pos") == {"b1": (3, 3, 0, 0, 0, "ok")}
