"""Data freshness and the 06:00 promise: late sources (WARNING), stores whose sales of the day before are
missing although they were expected open (CRITICAL: their forecasts are made from incomplete data), and open
stores left without the night's forecasts (CRITICAL)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pandas as pd

from bakery.lakehouse import Lakehouse
from bakery.monitoring.alerts import Alert, Severity
from bakery.silver.quality import latest_dates
from bakery.tables import DAILY_SALES, FORECASTS

log = logging.getLogger(__name__)

OBSERVED = ("sold", "zero")  # gold.daily_sales statuses of a day the store reported


def late_stores(latest: pd.DataFrame, cutoff: date) -> list[str]:
    """Stores (or "(all)" for a source without stores) whose latest event date is before `cutoff`."""
    days = pd.to_datetime(latest["latest_date"]).dt.date
    return sorted(latest.loc[days < cutoff, "store_id"].astype(str))


def missing_sales(expected_open: pd.DataFrame, reported: pd.DataFrame) -> list[str]:
    """Stores forecast as open on the day (a forecast whose model is not `closed`) that reported no sales."""
    return sorted(set(expected_open["store_id"]) - set(reported["store_id"]))


def late_source_alerts(lh: Lakehouse, run_date: date) -> list[Alert]:
    alerts = []
    for kind, spec in sorted(lh.settings.sources.items()):
        if spec.freshness_days is None or spec.event_time is None:
            continue
        latest = latest_dates(lh, spec)
        if latest is None or latest.empty:
            continue
        cutoff = run_date - timedelta(days=int(spec.freshness_days))
        late = late_stores(latest, cutoff)
        if late:
            newest = max(pd.to_datetime(latest["latest_date"]).dt.date)
            stores = tuple(s for s in late if s != "(all)")
            alerts.append(
                Alert(
                    f"freshness.late_source.{kind}",
                    Severity.WARNING,
                    f"Source '{kind}' is late",
                    f"No {kind} data after {cutoff - timedelta(days=1)} for {len(late)} store(s) "
                    f"({', '.join(late[:10])}); the newest is from {newest}; expected within "
                    f"{spec.freshness_days} day(s) of {run_date}.",
                    stores=stores,
                    link="/admin/health",
                )
            )
    return alerts


def _arrow(lh: Lakehouse, table, columns: list[str], filters: list) -> pd.DataFrame:
    if not lh.exists(*table):
        return pd.DataFrame(columns=columns)
    return lh.read_arrow(*table, columns=columns, filters=filters).to_pandas()


def store_alerts(lh: Lakehouse, day: date) -> list[Alert]:
    """`day` is the last complete day the night forecast from (the models' as-of date)."""
    alerts = []
    expected = _arrow(
        lh,
        FORECASTS,
        ["as_of", "store_id", "date", "role", "model"],
        [("date", "=", day), ("as_of", "=", day - timedelta(days=1))],
    )
    expected = expected[(expected["role"] == "champion") & (expected["model"] != "closed")]
    sales = _arrow(lh, DAILY_SALES, ["store_id", "date", "status"], [("date", "=", day)])
    missing = missing_sales(expected, sales[sales["status"].isin(OBSERVED)])
    if missing:
        alerts.append(
            Alert(
                "freshness.store_missing_sales",
                Severity.CRITICAL,
                f"No sales from {len(missing)} store(s) for {day}",
                f"Stores {', '.join(missing)} were expected open on {day} and sent no sales. Their forecasts "
                "were made from incomplete data and are marked degraded; check their POS export.",
                stores=tuple(missing),
                link="/admin/health",
            )
        )
    served = _arrow(lh, FORECASTS, ["as_of", "store_id", "role"], [("as_of", "=", day)])
    before = _arrow(lh, FORECASTS, ["as_of", "store_id", "role"], [("as_of", "=", day - timedelta(days=1))])
    left_out = sorted(set(before["store_id"]) - set(served["store_id"])) if len(served) else []
    if left_out:
        alerts.append(
            Alert(
                "run.store_without_forecasts",
                Severity.CRITICAL,
                f"{len(left_out)} store(s) have no forecasts for today",
                f"Stores {', '.join(left_out)} had forecasts as of {day - timedelta(days=1)} but none as of {day}: "
                "their managers will not have today's figures by 06:00.",
                stores=tuple(left_out),
                link="/admin/health",
            )
        )
    return alerts
