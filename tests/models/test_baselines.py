"""Seasonal naive exactly per docs/contract.md, and the weekday-profile fallback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bakery.models.baselines import seasonal_naive, weekday_profile


def _history(days: int = 35, missing: tuple[str, ...] = ()) -> pd.DataFrame:
    ds = pd.date_range("2025-03-01", periods=days, freq="D")
    hist = pd.DataFrame({"ds": ds, "y": np.arange(days, dtype=float), "censored": False})
    return hist[~hist["ds"].isin(pd.to_datetime(list(missing)))].reset_index(drop=True)


def test_uses_same_weekday_of_the_last_week_for_h_up_to_7():
    hist = _history()
    cutoff = hist["ds"].max()  # 2025-04-04, y = 34
    targets = pd.date_range(cutoff + pd.Timedelta(days=1), periods=7)
    # d - 7 for every h in 1..7: y values 28..34
    assert seasonal_naive(hist, cutoff, targets).tolist() == [28, 29, 30, 31, 32, 33, 34]


def test_h8_goes_back_14_days():
    hist = _history()
    cutoff = hist["ds"].max()
    d = cutoff + pd.Timedelta(days=8)
    assert seasonal_naive(hist, cutoff, [d]).tolist() == [(34 + 8 - 14)]


def test_steps_back_a_further_week_over_missing_days():
    hist = _history(missing=("2025-03-29", "2025-03-22"))  # y 28 and 21 are closed days
    cutoff = hist["ds"].max()
    d = pd.Timestamp("2025-04-05")  # h = 1 -> 2025-03-29 missing -> 03-22 missing -> 03-15 (y = 14)
    assert seasonal_naive(hist, cutoff, [d]).tolist() == [14.0]


def test_nan_when_no_same_weekday_observation_exists():
    hist = _history(days=3)
    cutoff = hist["ds"].max()
    assert np.isnan(seasonal_naive(hist, cutoff, [cutoff + pd.Timedelta(days=4)])[0])


def test_never_reads_after_the_cutoff():
    hist = _history()
    cutoff = pd.Timestamp("2025-03-20")
    a = seasonal_naive(hist, cutoff, pd.date_range("2025-03-21", periods=28))
    hist.loc[hist["ds"] > cutoff, "y"] = 1e6
    assert np.array_equal(
        a, seasonal_naive(hist, cutoff, pd.date_range("2025-03-21", periods=28)), equal_nan=True
    )


def test_weekday_profile_keeps_weekday_shape_and_bounds(cfg):
    ds = pd.date_range("2025-01-06", periods=56, freq="D")
    y = np.where(ds.dayofweek == 5, 200.0, 100.0)
    hist = pd.DataFrame({"ds": ds, "y": y, "censored": False})
    out = weekday_profile(hist, pd.date_range("2025-03-03", periods=7), cfg)
    sat = out.loc[out["ds"].dt.dayofweek == 5, "yhat"].iloc[0]
    mon = out.loc[out["ds"].dt.dayofweek == 0, "yhat"].iloc[0]
    assert sat == pytest.approx(200.0)
    assert mon == pytest.approx(100.0)
    assert (out["yhat_lower"] <= out["yhat"]).all() and (out["yhat"] <= out["yhat_upper"]).all()
