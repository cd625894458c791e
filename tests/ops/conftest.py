"""Tiny hand-made lakehouses for the ops tests: a few rows per table, dates chosen to straddle horizons."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.ops.helpers import tiny_settings, write


@pytest.fixture(scope="module")
def status_lh(spark, tmp_path_factory):
    """A read-only lakehouse with one table per kind of date column, runs, quarantine and DQ results."""
    from bakery.lakehouse import Lakehouse
    from bakery.ops.quarantine import quarantine_rows
    from bakery.ops.runs import track_run

    lh = Lakehouse(spark, tiny_settings(tmp_path_factory.mktemp("status") / "home"))
    write(
        lh,
        "bronze",
        "pos_transactions",
        [("t1", "2026-11-20T09:00:00", datetime(2026, 11, 21, 3))],
        "transaction_id string, timestamp string, _ingested_at timestamp",
    )
    write(lh, "silver", "stores", [("S01", "Madrid"), ("S02", "Sevilla")], "store_id string, city string")
    write(
        lh,
        "silver",
        "pos_transactions",
        [("t1", datetime(2026, 11, 20, 9), "S01"), ("t2", datetime(2026, 11, 23, 18), "S02")],
        "transaction_id string, timestamp timestamp, store_id string",
    )
    write(
        lh,
        "silver",
        "weather",
        [(date(2026, 11, 10), "S01", 12.0)],
        "date date, store_id string, temperature double",
    )
    write(
        lh,
        "gold",
        "daily_sales",
        [
            ("S01", "P1", date(2026, 11, 22), 3.0),
            ("S01", "P2", date(2026, 11, 22), 0.0),
            ("S02", "P1", date(2026, 11, 23), 5.0),
            ("S02", "P2", date(2026, 11, 23), None),
        ],
        "store_id string, product_id string, date date, quantity_sold double",
    )
    write(
        lh,
        "ops",
        "dq_results",
        [
            (
                "r1",
                "b-old",
                "pos",
                "pos",
                "expect_not_null",
                "quantity_sold",
                "CRITICAL",
                False,
                "3",
                datetime(2026, 11, 20, 2),
            ),
            (
                "r2",
                "b-new",
                "pos",
                "pos",
                "expect_not_null",
                "quantity_sold",
                "CRITICAL",
                True,
                "0",
                datetime(2026, 11, 24, 2),
            ),
            (
                "r2",
                "b-new",
                "weather",
                "weather",
                "expect_between",
                "temperature",
                "WARNING",
                False,
                "2",
                datetime(2026, 11, 24, 2),
            ),
            (
                "r2",
                "b-new",
                "pos",
                "pos",
                "expect_unique",
                None,
                "INFO",
                False,
                "1",
                datetime(2026, 11, 24, 2),
            ),
        ],
        "run_id string, batch_id string, source string, suite string, expectation string, column string, "
        "severity string, success boolean, observed string, checked_at timestamp",
    )
    quarantine_rows(
        lh,
        spark.createDataFrame(
            [
                ("pos", f"pos/{name}.csv", None, "b-new", "file:empty", None, "empty file", None)
                for name in ("a", "b")
            ],
            "source string, source_file string, row_number long, batch_id string, rule string, column string, "
            "reason string, raw string",
        ),
    )
    with track_run(lh, "ingest"):
        pass
    with pytest.raises(RuntimeError), track_run(lh, "pipeline"):
        raise RuntimeError("boom")
    return lh
