"""Live accuracy's reads and writes: served forecasts and actuals in, gold.live_accuracy out, and the
alerts for sustained breaches (bakery.monitoring.live_accuracy holds the rules)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pandas as pd

from bakery.lakehouse import Lakehouse
from bakery.monitoring import live_accuracy as la
from bakery.monitoring.alerts import Alert, Severity
from bakery.tables import BACKTEST_METRICS, DAILY_SALES, FORECASTS, LIVE_ACCURACY, Table

log = logging.getLogger(__name__)

MAX_HORIZON_DAYS = 28


def _arrow(lh: Lakehouse, table: Table, columns: list[str], filters: list) -> pd.DataFrame:
    if not lh.exists(*table):
        return pd.DataFrame(columns=columns)
    return lh.read_arrow(*table, columns=columns, filters=filters).to_pandas()


def read_inputs(
    lh: Lakehouse, evaluated_on: date, rule: la.AccuracyRule
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Served forecasts whose target day falls in the window, and the actuals the window and its seasonal
    naive need (weeks before the window's first day)."""
    start = evaluated_on - timedelta(days=rule.window_days)
    forecasts = _arrow(
        lh,
        FORECASTS,
        ["as_of", "store_id", "product_id", "date", "horizon", "role", "model_version", "yhat"],
        [("date", ">", start), ("date", "<=", evaluated_on)],
    )
    back = 7 * (-(-MAX_HORIZON_DAYS // 7) + la.NAIVE_MAX_STEPS)
    sales = _arrow(
        lh,
        DAILY_SALES,
        ["store_id", "product_id", "date", "quantity_sold", "is_open", "is_offered", "stockout"],
        [("date", ">", start - timedelta(days=back)), ("date", "<=", evaluated_on)],
    )
    return forecasts, sales


def expected_accuracy(lh: Lakehouse) -> pd.DataFrame:
    """The champion's backtest wMAPE per horizon (chain: store_id null, and per store) of the latest training."""
    rows = _arrow(
        lh, BACKTEST_METRICS, ["evaluated_at", "source", "model", "horizon", "store_id", "wmape"], []
    )
    rows = rows[(rows["source"] == "train") & (rows["model"] == "champion")]
    if rows.empty:
        return pd.DataFrame(columns=["horizon", "store_id", "wmape"])
    return rows[rows["evaluated_at"] == rows["evaluated_at"].max()][["horizon", "store_id", "wmape"]]


def write_summary(lh: Lakehouse, summary: pd.DataFrame) -> None:
    """Upsert one night's figures: a rerun of the same night rewrites its rows, never duplicates them."""
    if summary.empty:
        return
    sdf = lh.spark.createDataFrame(summary[LIVE_ACCURACY.columns], LIVE_ACCURACY.schema)
    lh.merge(sdf, *LIVE_ACCURACY, keys=list(LIVE_ACCURACY.keys))


def breach_alerts(runs: pd.DataFrame, rule: la.AccuracyRule) -> list[Alert]:
    """One WARNING per store whose champion breached on `nights` consecutive nights; one for the chain only
    when no store explains it (say many small stores, each with too few points to be judged)."""
    if (runs["level"] == "store").any():
        runs = runs[runs["level"] == "store"]
    alerts = []
    for (level, store), group in runs.groupby(["level", runs["store_id"].fillna("")], sort=True):
        where = f"store {store}" if level == "store" else "the chain"
        worst = group.sort_values("horizon")
        figures = "; ".join(
            f"D+{int(r.horizon)} {r.wmape:.1f}% against {r.expected:.1f}% expected"
            for r in worst.itertuples()
        )
        alerts.append(
            Alert(
                kind="accuracy.breach",
                severity=Severity.WARNING,
                title=f"Forecasts for {where} are less accurate than the backtest promised",
                detail=(
                    f"Median daily wMAPE over the last {rule.judge_days} days ({figures}), more than "
                    f"{rule.tolerance:.0%} worse on {rule.nights} nights in a row. A retraining is requested."
                ),
                stores=(store,) if store else (),
                link="/accuracy",
            )
        )
    return alerts


def run_live_accuracy(lh: Lakehouse, raw_conf: dict, evaluated_on: date) -> tuple[pd.DataFrame, list[Alert]]:
    """Score, store and judge one night. Returns the night's figures and the alerts to raise."""
    rule = la.AccuracyRule.from_conf(raw_conf)
    forecasts, sales = read_inputs(lh, evaluated_on, rule)
    if forecasts.empty or sales.empty:
        log.info("live accuracy: nothing to score yet for %s", evaluated_on)
        return pd.DataFrame(columns=la.SUMMARY_COLUMNS), []
    summary = la.summarise(la.score_served(forecasts, sales), evaluated_on, rule)
    summary = la.with_expectation(summary, expected_accuracy(lh), rule)
    write_summary(lh, summary)
    since = evaluated_on - timedelta(days=rule.nights - 1)
    history = _arrow(
        lh,
        LIVE_ACCURACY,
        [
            "evaluated_on",
            "level",
            "store_id",
            "horizon",
            "role",
            "median_daily_wmape",
            "expected_wmape",
            "breach",
            "window_days",
        ],
        [("evaluated_on", ">=", since), ("evaluated_on", "<=", evaluated_on)],
    )
    history = history[history["window_days"] == rule.window_days]
    return summary, breach_alerts(la.sustained_breaches(history, evaluated_on, rule), rule)
