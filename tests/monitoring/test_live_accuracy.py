"""Live accuracy: served forecasts scored against the sales that arrived later, beside seasonal naive and the
backtest's promise; a sustained breach (not a bad day) alerts for its store; a rerun of a night changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from bakery.monitoring.accuracy_io import run_live_accuracy
from bakery.monitoring.live_accuracy import AccuracyRule, score_served, summarise
from bakery.tables import LIVE_ACCURACY

STORES, PRODUCTS, HORIZONS = ["S001", "S002"], ["P01", "P02", "P03"], [1, 7, 28]
FIRST, LAST = date(2026, 8, 1), date(2026, 12, 6)
SHIFT_FROM = date(2026, 11, 20)  # S002's forecasts run 80% high from here on
CONF = {"accuracy": {"window_days": 28, "judge_days": 12, "min_points": 30, "tolerance": 0.3, "nights": 3}}


def _sales() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    days = pd.date_range(FIRST, LAST)
    rows = [
        (s, p, d.date(), float(round((30 + 10 * (d.dayofweek >= 5)) * rng.uniform(0.9, 1.1))))
        for s in STORES
        for p in PRODUCTS
        for d in days
    ]
    df = pd.DataFrame(rows, columns=["store_id", "product_id", "date", "quantity_sold"])
    return df.assign(is_open=True, is_offered=True, stockout=False)


def _forecasts(sales: pd.DataFrame) -> pd.DataFrame:
    truth = sales.set_index(["store_id", "product_id", "date"])["quantity_sold"]
    rows = []
    for as_of in pd.date_range(date(2026, 9, 15), LAST - timedelta(days=1)):
        for h in HORIZONS:
            day = (as_of + pd.Timedelta(days=h)).date()
            if day > LAST:
                continue
            for s in STORES:
                factor = 1.8 if s == "S002" and day >= SHIFT_FROM else 1.05
                for p in PRODUCTS:
                    for role in ("champion", "shadow"):
                        version = "1" if role == "champion" else "2"
                        rows.append((as_of.date(), s, p, day, h, role, version, truth[(s, p, day)] * factor))
    columns = ["as_of", "store_id", "product_id", "date", "horizon", "role", "model_version", "yhat"]
    return pd.DataFrame(rows, columns=columns)


def _expected() -> pd.DataFrame:
    rows = [(s, h, 9.0) for s in [None, *STORES] for h in HORIZONS]
    df = pd.DataFrame(rows, columns=["store_id", "horizon", "wmape"])
    return df.assign(evaluated_at=pd.Timestamp("2026-09-14 03:00"), source="train", model="champion")


def _seed(lh) -> None:
    sales = _sales()
    spark = lh.spark
    lh.append(
        spark.createDataFrame(
            sales,
            "store_id string, product_id string, date date, quantity_sold double, is_open boolean, "
            "is_offered boolean, stockout boolean",
        ),
        "gold",
        "daily_sales",
    )
    lh.append(
        spark.createDataFrame(
            _forecasts(sales),
            "as_of date, store_id string, product_id string, date date, horizon int, role string, "
            "model_version string, yhat double",
        ),
        "gold",
        "forecasts",
    )
    lh.append(
        spark.createDataFrame(
            _expected()[["evaluated_at", "source", "model", "horizon", "store_id", "wmape"]],
            "evaluated_at timestamp, source string, model string, horizon int, store_id string, wmape double",
        ),
        "gold",
        "backtest_metrics",
    )


def test_a_store_whose_forecasts_went_wrong_alerts_after_the_nights_of_the_rule_and_the_other_does_not(lh):
    _seed(lh)
    nights = [date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 5)]
    found = {}
    for night in nights:
        summary, alerts = run_live_accuracy(lh, CONF, night)
        found[night] = alerts
    # The shift is 14+ days into the 28-day window by then: breached on each of the three nights.
    assert found[nights[0]] == [] and found[nights[1]] == []  # fewer than `nights` evaluations stored yet
    [alert] = found[nights[2]]
    assert alert.kind == "accuracy.breach" and alert.stores == ("S002",)
    assert "D+1" in alert.detail and "9.0% expected" in alert.detail
    s002 = summary[
        (summary["level"] == "store") & (summary["store_id"] == "S002") & (summary["role"] == "champion")
    ]
    s001 = summary[
        (summary["level"] == "store") & (summary["store_id"] == "S001") & (summary["role"] == "champion")
    ]
    assert s002["breach"].all() and not s001["breach"].any()
    assert (s001["median_daily_wmape"] < 9.0 * 1.3).all() and (s002["median_daily_wmape"] > 30).all()
    # Seasonal naive on the same days is beside every figure, and the shadow is scored on the same days.
    assert summary["naive_wmape"].notna().all()
    assert set(summary["role"]) == {"champion", "shadow"} and set(summary["level"]) == {
        "chain",
        "store",
        "series",
    }


def test_rerunning_a_night_rewrites_its_figures_instead_of_adding_rows(lh):
    _seed(lh)
    night = date(2026, 12, 5)
    first, _ = run_live_accuracy(lh, CONF, night)
    count = lh.read_arrow(*LIVE_ACCURACY).num_rows
    run_live_accuracy(lh, CONF, night)
    assert lh.read_arrow(*LIVE_ACCURACY).num_rows == count == len(first)


def test_one_bad_day_does_not_breach_a_28_day_window():
    sales = _sales()
    fc = _forecasts(sales)
    fc = fc[fc["date"] < SHIFT_FROM]  # no shift ...
    bad = (fc["store_id"] == "S001") & (fc["date"] == date(2026, 11, 10))
    fc.loc[bad, "yhat"] *= 3  # ... but one awful day
    summary = summarise(score_served(fc, sales), date(2026, 11, 19), AccuracyRule(min_points=30))
    store = summary[(summary["level"] == "store") & (summary["role"] == "champion")]
    assert (store["median_daily_wmape"] < 9.0 * 1.3).all()
    pooled = store.set_index(["store_id", "horizon"])["wmape"]
    assert (
        pooled["S001"] > pooled["S002"]
    ).all()  # the bad day shows in the pooled figure, not the judged one


def test_days_that_cannot_judge_a_forecast_are_not_scored():
    sales = _sales()
    day = date(2026, 11, 10)
    mask = (sales["store_id"] == "S001") & (sales["date"] == day)
    sales.loc[mask & (sales["product_id"] == "P01"), "stockout"] = True
    sales.loc[mask & (sales["product_id"] == "P02"), "is_open"] = False
    scored = score_served(_forecasts(sales), sales)
    on_day = scored[(scored["store_id"] == "S001") & (scored["date"] == pd.Timestamp(day))]
    assert set(on_day["product_id"]) == {"P03"}
