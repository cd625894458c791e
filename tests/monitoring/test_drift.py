"""Data drift: an injected change (a store's weekday pattern, a heat wave) is found for that store and
feature; three years of unshifted data replayed week by week raise next to nothing."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from bakery.monitoring.drift import DriftRule, compare, store_days
from bakery.monitoring.drift_io import drift_alerts, run_drift
from bakery.tables import FEATURE_DRIFT

END = date(2026, 11, 29)
STORES = ["S001", "S002", "S003"]
WEEKDAY = np.array([0.9, 0.85, 0.9, 0.95, 1.1, 1.4, 0.9])


def features(seed: int = 11) -> pd.DataFrame:
    """Three years of per-product rows: weekday and yearly seasonality, seasonal temperature, promotions."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(END - timedelta(days=3 * 365), END)
    rows = []
    for s in STORES:
        season = 1 + 0.15 * np.sin(2 * np.pi * days.dayofyear / 365.25)
        temp = 14 + 9 * np.sin(2 * np.pi * (days.dayofyear - 110) / 365.25) + rng.normal(0, 2.5, len(days))
        rain = rng.gamma(0.6, 3.0, len(days))
        for p in range(5):
            y = rng.poisson(20 * WEEKDAY[days.dayofweek] * season)
            promo = rng.random(len(days)) < 0.1
            rows.append(
                pd.DataFrame(
                    {
                        "store_id": s,
                        "product_id": f"P{p}",
                        "date": days,
                        "y": y.astype(float),
                        "is_open": True,
                        "promo": promo,
                        "temperature": temp,
                        "precipitation": rain,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def last_week(df: pd.DataFrame, store: str) -> pd.Series:
    return (df["store_id"] == store) & (df["date"] > pd.Timestamp(END - timedelta(days=7)))


def drifted(found: pd.DataFrame) -> set[tuple[str, str]]:
    return {(r.store_id, r.feature) for r in found[found["drifted"]].itertuples()}


def test_a_weekday_pattern_change_and_a_heat_wave_are_found_for_their_store_and_feature():
    df = features()
    shifted = last_week(df, "S002")
    monday, saturday = df["date"].dt.dayofweek == 0, df["date"].dt.dayofweek == 5
    df.loc[shifted & monday, "y"] = 0.0  # S002 stops selling on Mondays ...
    df.loc[shifted & saturday, "y"] *= 2.0  # ... and its Saturdays double
    df.loc[last_week(df, "S001"), "temperature"] += 14  # a heat wave at S001
    found = compare(store_days(df), END, DriftRule())
    assert drifted(found) == {("S002", "weekday_shape"), ("S001", "temperature")}
    alerts = {a.stores: a for a in drift_alerts(found)}
    assert set(alerts) == {("S001",), ("S002",)}
    assert "temperature" in alerts[("S001",)].title and "sales by weekday" in alerts[("S002",)].title


def test_unshifted_data_replayed_week_by_week_for_half_a_year_raises_at_most_two_warnings():
    days = store_days(features(seed=5))
    alerts = []
    for k in range(26):
        alerts += drift_alerts(compare(days, END - timedelta(weeks=k), DriftRule()))
    assert len(alerts) <= 2, [a.title for a in alerts]


def test_december_is_compared_with_earlier_decembers_not_with_the_autumn_before_it():
    found = compare(store_days(features()), END, DriftRule())
    temp = found[found["feature"] == "temperature"]
    # The autumn weeks before late November are ~5 degrees warmer; the same weeks of earlier years are not.
    assert (temp["reference_mean"] - temp["current_mean"]).abs().max() < 2.5
    assert not temp["drifted"].any()


def test_the_nightly_drift_step_stores_its_figures_once_per_night(lh):
    df = features()
    df.loc[last_week(df, "S001"), "temperature"] += 14
    lh.append(
        lh.spark.createDataFrame(
            df.assign(date=df["date"].dt.date),
            "store_id string, product_id string, date date, y double, is_open boolean, promo boolean, "
            "temperature double, precipitation double",
        ),
        "gold",
        "features",
    )
    found, alerts = run_drift(lh, {}, END)
    run_drift(lh, {}, END)
    stored = lh.read_arrow(*FEATURE_DRIFT).to_pandas()
    assert len(stored) == len(found) > 0
    assert [a.stores for a in alerts] == [("S001",)]


def _persistent_weather(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Daily temperature anomalies that persist, as real ones do (AR(1), 0.75 from one day to the next), and
    promotion campaigns of 5-10 days every 3-5 weeks on two of the five products, as the chain runs them."""
    rng = np.random.default_rng(seed)
    out = []
    for _, part in df.groupby("store_id"):
        days = pd.DatetimeIndex(sorted(part["date"].unique()))
        anomaly = np.zeros(len(days))
        for i in range(1, len(days)):
            anomaly[i] = 0.75 * anomaly[i - 1] + rng.normal(0, 1.8)
        seasonal = 14 + 9 * np.sin(2 * np.pi * (days.dayofyear - 110) / 365.25)
        campaign = np.zeros(len(days), dtype=bool)
        start = int(rng.integers(0, 21))
        while start < len(days):
            campaign[start : start + int(rng.integers(5, 11))] = True
            start += int(rng.integers(21, 36))
        by_day = pd.DataFrame({"date": days, "temperature": seasonal + anomaly, "campaign": campaign})
        part = part.drop(columns="temperature").merge(by_day, on="date")
        part["promo"] = part["campaign"] & part["product_id"].isin(["P0", "P1"])
        out.append(part.drop(columns="campaign"))
    return pd.concat(out, ignore_index=True)


def test_warm_spells_and_promotion_campaigns_are_not_drift_but_a_heat_wave_is():
    """Seven days of one warm spell are not seven independent draws, nor is a campaign week: judged as if
    they were, half a year of ordinary weather and campaigns raised dozens of alerts."""
    days = store_days(_persistent_weather(features(seed=5), seed=5))
    alerts = []
    for k in range(0, 26 * 7, 3):  # every third night: each warm spell is seen on a night or two
        alerts += drift_alerts(compare(days, END - timedelta(days=k), DriftRule()))
    assert len(alerts) <= 2, [a.title for a in alerts]
    hot = days.copy()
    hot.loc[
        (hot["store_id"] == "S001") & (hot["date"] > pd.Timestamp(END - timedelta(days=7))), "temperature"
    ] += 9
    assert ("S001", "temperature") in drifted(compare(hot, END, DriftRule()))
