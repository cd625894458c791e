"""Inventory arithmetic: the last snapshot minus the sales since, plus deliveries; clamps and stock-outs."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bakery.silver.inventory import InventoryInputs, daily_flows, inventory_table, stock_levels

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


@pytest.fixture
def inputs(spark):
    pos = spark.createDataFrame(
        [
            ("S01", "P01", datetime(2026, 3, 1, 9), D1, 3.0),
            ("S01", "P01", datetime(2026, 3, 1, 12), D1, 2.0),
            ("S01", "P01", datetime(2026, 3, 2, 10), D2, 6.0),
            ("S01", "P01", datetime(2026, 3, 2, 20, 30), D2, 1.0),
            ("S01", "P01", datetime(2026, 3, 3, 10), D3, 3.0),
        ],
        "store_id string, product_id string, timestamp timestamp, local_date date, quantity_sold double",
    )
    deliveries = spark.createDataFrame(
        [
            ("S01", "P01", datetime(2026, 3, 1, 5), D1, 10.0),
            ("S01", "P01", datetime(2026, 3, 2, 5), D2, 4.0),
            ("S02", "P02", datetime(2026, 3, 1, 6), D1, 5.0),
        ],
        "store_id string, product_id string, delivery_timestamp timestamp, local_date date, quantity_delivered double",
    )
    snapshots = spark.createDataFrame(
        [
            ("S01", "P01", datetime(2026, 3, 2, 8), D2, 9.0),  # superseded by the evening count
            ("S01", "P01", datetime(2026, 3, 2, 20), D2, 2.0),  # the books say 3: one unit went missing
        ],
        "store_id string, product_id string, snapshot_timestamp timestamp, local_date date, current_stock double",
    )
    uploads = spark.createDataFrame(
        [
            (D1, "S02", "P02", 2.0),  # S02 has no POS: the uploaded total is the day's sales
            (D3, "S02", "P02", 1.0),
            (D1, "S01", "P02", 7.0),  # S01 has POS that day: the upload is not counted again
        ],
        "date date, store_id string, product_id string, quantity_sold double",
    )
    return InventoryInputs(pos=pos, uploads=uploads, deliveries=deliveries, snapshots=snapshots)


def _rows(df):
    cols = [
        "opening_stock",
        "delivered",
        "sold",
        "closing_stock",
        "snapshot_stock",
        "stockout",
        "source",
        "correction",
    ]
    return {
        (r.store_id, r.product_id, r.date): tuple(r[c] for c in cols) for r in inventory_table(df).collect()
    }


def test_three_days_with_snapshot_deliveries_sales_and_a_stockout(inputs):
    rows = _rows(stock_levels(daily_flows(inputs)))
    assert rows[("S01", "P01", D1)] == (0.0, 10.0, 5.0, 5.0, None, False, "derived", 0.0)
    # The 20:00 count of 2 resets the level; the 20:30 sale comes after it.
    assert rows[("S01", "P01", D2)] == (5.0, 4.0, 7.0, 1.0, 2.0, False, "snapshot", 0.0)
    # 1 in stock, 3 sold: two units were sold that no delivery explains; clamp and flag the stock-out.
    assert rows[("S01", "P01", D3)] == (1.0, 0.0, 3.0, 0.0, None, True, "derived", 2.0)
    assert rows[("S02", "P02", D1)] == (0.0, 5.0, 2.0, 3.0, None, False, "derived", 0.0)
    assert rows[("S02", "P02", D2)] == (3.0, 0.0, 0.0, 3.0, None, False, "derived", 0.0)
    assert rows[("S02", "P02", D3)] == (3.0, 0.0, 1.0, 2.0, None, False, "derived", 0.0)
    assert ("S01", "P02", D1) not in rows


def test_recompute_from_a_stored_closing_matches_the_full_history(spark, inputs):
    full = _rows(stock_levels(daily_flows(inputs)))
    later = InventoryInputs(
        pos=inputs.pos.filter("local_date >= '2026-03-03'"),
        uploads=inputs.uploads.filter("date >= '2026-03-03'"),
        deliveries=inputs.deliveries.filter("local_date >= '2026-03-03'"),
        snapshots=inputs.snapshots.filter("local_date >= '2026-03-03'"),
    )
    anchors = spark.createDataFrame(
        [("S01", "P01", D2, 1.0, True), ("S02", "P02", D2, 3.0, True)],
        "store_id string, product_id string, anchor_date date, anchor_stock double, anchor_tracked boolean",
    )
    part = _rows(stock_levels(daily_flows(later), anchors))
    assert part == {k: v for k, v in full.items() if k[2] == D3}


def _sales_only(spark, rows):
    uploads = spark.createDataFrame(
        rows, "date date, store_id string, product_id string, quantity_sold double"
    )
    return InventoryInputs(uploads=uploads)


def test_sales_without_counts_or_deliveries_are_not_stockouts(spark):
    """A sales-only import knows nothing of stock: its zero level must not censor every day it sold."""
    rows = _rows(
        stock_levels(daily_flows(_sales_only(spark, [(D1, "S09", "P09", 4.0), (D2, "S09", "P09", 6.0)])))
    )
    assert [rows[("S09", "P09", d)][5] for d in (D1, D2)] == [False, False]


def test_stock_is_tracked_from_the_first_delivery_on(spark):
    uploads = spark.createDataFrame(
        [(D1, "S09", "P09", 4.0), (D2, "S09", "P09", 6.0), (D3, "S09", "P09", 5.0)],
        "date date, store_id string, product_id string, quantity_sold double",
    )
    deliveries = spark.createDataFrame(
        [("S09", "P09", datetime(2026, 3, 2, 5), D2, 6.0)],
        "store_id string, product_id string, delivery_timestamp timestamp,"
        " local_date date, quantity_delivered double",
    )
    rows = _rows(stock_levels(daily_flows(InventoryInputs(uploads=uploads, deliveries=deliveries))))
    # D1: nothing known yet. D2: 6 delivered, 6 sold, none left. D3: 5 sold that no delivery explains.
    assert [rows[("S09", "P09", d)][5] for d in (D1, D2, D3)] == [False, True, True]


@pytest.mark.parametrize("tracked", [False, True])
def test_a_recompute_keeps_whether_the_stored_history_tracked_stock(spark, tracked):
    later = _sales_only(spark, [(D3, "S09", "P09", 5.0)])
    anchors = spark.createDataFrame(
        [("S09", "P09", D2, 0.0, tracked)],
        "store_id string, product_id string, anchor_date date, anchor_stock double, anchor_tracked boolean",
    )
    assert _rows(stock_levels(daily_flows(later), anchors))[("S09", "P09", D3)][5] is tracked
