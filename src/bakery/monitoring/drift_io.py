"""Data drift's reads and writes: gold.features (and silver foot traffic) in, gold.feature_drift out, and
one alert per store naming the drifted features."""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd

from bakery.lakehouse import Lakehouse
from bakery.monitoring import drift
from bakery.monitoring.alerts import Alert, Severity
from bakery.tables import FEATURE_DRIFT, FEATURES, Table, source_silver

log = logging.getLogger(__name__)

LABELS = {
    "sales_level": "daily sales",
    "weekday_shape": "sales by weekday",
    "temperature": "temperature",
    "precipitation": "precipitation",
    "promo_share": "promotions",
    "foot_traffic": "foot traffic",
}


def foot_traffic_table(lh: Lakehouse) -> Table | None:
    """The silver table of the foot-traffic source, as conf/sources.yml names it (None without that source)."""
    return source_silver(lh.settings.sources, "traffic")


def read_store_days(lh: Lakehouse, evaluated_on: date, rule: drift.DriftRule) -> pd.DataFrame:
    first, last = drift.reference_window(evaluated_on, rule)
    window = [("date", ">=", first), ("date", "<=", last)]
    columns = ["store_id", "date", "y", "is_open", "promo", "temperature", "precipitation"]
    if not lh.exists(*FEATURES):
        return pd.DataFrame(columns=["store_id", "date", *drift.NUMERIC])
    features = lh.read_arrow(*FEATURES, columns=columns, filters=window).to_pandas()
    traffic = None
    foot_traffic = foot_traffic_table(lh)
    if foot_traffic is not None and lh.exists(*foot_traffic):
        columns = ["timestamp", "store_id", "foot_traffic_count"]
        traffic = lh.read_arrow(*foot_traffic, columns=columns).to_pandas()
    return drift.store_days(features, traffic)


def drift_alerts(found: pd.DataFrame) -> list[Alert]:
    alerts = []
    for store, rows in found[found["drifted"]].groupby("store_id", sort=True):
        names = [LABELS.get(f, f) for f in rows["feature"]]
        detail = "; ".join(
            f"{LABELS.get(r.feature, r.feature)}: PSI {r.psi:.2f}"
            + (f", mean {r.reference_mean:.1f} -> {r.current_mean:.1f}" if pd.notna(r.current_mean) else "")
            for r in rows.itertuples()
        )
        alerts.append(
            Alert(
                kind="drift." + "+".join(sorted(rows["feature"])),
                severity=Severity.WARNING,
                title=f"Inputs of store {store} changed this week: {', '.join(names)}",
                detail=f"Compared with the same weeks of earlier years (or the weeks before): {detail}.",
                stores=(str(store),),
                link="/accuracy",
            )
        )
    return alerts


def run_drift(lh: Lakehouse, raw_conf: dict, evaluated_on: date) -> tuple[pd.DataFrame, list[Alert]]:
    """Compare, store (a rerun of the same night replaces its rows) and return the alerts to raise."""
    rule = drift.DriftRule.from_conf(raw_conf)
    found = drift.compare(read_store_days(lh, evaluated_on, rule), evaluated_on, rule)
    if found.empty:
        log.info("drift: nothing to compare for %s", evaluated_on)
        return found, []
    sdf = lh.spark.createDataFrame(found[FEATURE_DRIFT.columns], FEATURE_DRIFT.schema)
    lh.merge(sdf, *FEATURE_DRIFT, keys=list(FEATURE_DRIFT.keys))
    return found, drift_alerts(found)
