"""Backtest and train before gold exists: the error says what to run, and what quarantine took if ingest ran."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bakery.forecasting.backtest import run_backtest
from bakery.forecasting.train import run_train
from bakery.ops.quarantine import QUARANTINE_SCHEMA, quarantine_rows


def _unknown_store_rows(lh, n: int):
    rows = [
        (
            "sales",
            "landing/sales/import_x.parquet",
            i,
            "b1",
            "unknown_store",
            "store_id",
            "store_id 'CHC' is unknown",
            "{}",
            datetime(2026, 3, 2),
        )
        for i in range(n)
    ]
    return lh.spark.createDataFrame(rows, QUARANTINE_SCHEMA).drop("quarantined_at")


def test_backtest_and_train_before_ingest_say_what_to_run_and_what_quarantine_holds(lh, settings, tmp_path):
    def backtest():
        run_backtest(lh, settings, date(2026, 3, 1), date(2026, 3, 8), tmp_path / "r.json")

    with pytest.raises(ValueError, match=r"gold.features does not exist yet: run `bakery ingest`") as plain:
        backtest()
    assert "quarantine" not in str(plain.value)
    quarantine_rows(lh, _unknown_store_rows(lh, 3))
    for call in (backtest, lambda: run_train(lh, settings)):
        with pytest.raises(ValueError) as err:
            call()
        assert "ops.quarantine holds 3 rejected row(s) (sales unknown_store: 3)" in str(err.value)
        assert "stores and products imported first" in str(err.value)
    assert not (tmp_path / "r.json").exists()
