"""The night's freshness alerts: late sources, a store that sent no sales although expected open (a simulated
late POS file), and open stores left without forecasts."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from bakery.lakehouse import struct_type
from bakery.monitoring.alerts import Severity
from bakery.monitoring.freshness import late_stores, missing_sales, store_alerts
from bakery.tables import DAILY_SALES, FORECASTS

DAY = date(2026, 3, 10)


def test_late_stores_are_those_before_the_cutoff():
    latest = pd.DataFrame({"store_id": ["S001", "S002"], "latest_date": [date(2026, 3, 9), date(2026, 3, 6)]})
    assert late_stores(latest, date(2026, 3, 8)) == ["S002"]
    assert missing_sales(
        pd.DataFrame({"store_id": ["S001", "S003"]}), pd.DataFrame({"store_id": ["S001"]})
    ) == ["S003"]


def _forecast(as_of: date, store: str, model: str = "prophet") -> tuple:
    return (
        as_of,
        store,
        "P1",
        as_of + timedelta(days=1),
        1,
        model,
        "1",
        "champion",
        5.0,
        4.0,
        6.0,
        "{}",
        "",
        None,
        None,
        None,
        None,
    )


def test_a_late_pos_file_is_critical_for_its_store_and_a_store_left_out_tonight_too(lh):
    spark = lh.spark
    yesterday = DAY - timedelta(days=1)
    rows = [
        _forecast(yesterday, "S001"),
        _forecast(yesterday, "S002", "closed"),
        _forecast(yesterday, "S003"),
    ]
    rows += [_forecast(DAY, "S001"), _forecast(DAY, "S002")]  # tonight S003 got no forecast
    lh.overwrite(spark.createDataFrame(rows, struct_type(FORECASTS)), *FORECASTS)
    sales = [("S001", "P1", DAY, 3.0, None, None, True, True, "sold", False, False, "pos")]
    lh.overwrite(spark.createDataFrame(sales, struct_type(DAILY_SALES)), *DAILY_SALES)

    alerts = {a.kind: a for a in store_alerts(lh, DAY)}
    assert set(alerts) == {"freshness.store_missing_sales", "run.store_without_forecasts"}
    late = alerts["freshness.store_missing_sales"]
    assert late.severity == Severity.CRITICAL and late.stores == ("S003",)  # S002 was expected closed
    assert alerts["run.store_without_forecasts"].stores == ("S003",)


def test_every_store_reported_and_forecast_raises_nothing(lh):
    spark = lh.spark
    yesterday = DAY - timedelta(days=1)
    rows = [_forecast(yesterday, "S001"), _forecast(DAY, "S001")]
    lh.overwrite(spark.createDataFrame(rows, struct_type(FORECASTS)), *FORECASTS)
    sales = [("S001", "P1", DAY, 0.0, None, None, True, True, "zero", False, False, "pos")]
    lh.overwrite(spark.createDataFrame(sales, struct_type(DAILY_SALES)), *DAILY_SALES)
    assert store_alerts(lh, DAY) == []
