"""Interval calibration: the split-conformal factor per model and horizon bucket, and where it is applied
(backtest rows, the served champion, the ensemble after averaging, a saved bundle)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bakery.models.intervals import (
    calibrate_frame,
    calibrate_rows,
    interval_scales,
    needed_scale,
    residual_bounds,
    scale_bounds,
)
from bakery.models.metrics import coverage
from bakery.models.selection import (
    add_ensemble,
    calibration,
    champion_forecast,
    rolling_selection,
    served_selection,
)

SETTINGS = {"horizon_buckets": [1, 7, 14, 28], "min_rows": 30, "scale_range": [0.5, 3.0]}


def _rows(n_per_h: int, seed: int, narrow: float = 2.0, horizons=(1, 7, 28)) -> pd.DataFrame:
    """Backtest-shaped rows whose model intervals are `narrow` times too narrow: y = 100 + N(0, 10 * h-growth),
    the model's 80% interval is +-1.2816 * sd / narrow."""
    rng = np.random.default_rng(seed)
    parts = []
    for h in horizons:
        sd = 10.0 * (1 + h / 28)
        y = 100 + rng.normal(0, sd, n_per_h)
        half = 1.2816 * sd / narrow
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": [f"s{k % 5}" for k in range(n_per_h)],
                    "horizon": h,
                    "y": y,
                    "censored": False,
                    "prophet": 100.0,
                    "prophet_lower": 100 - half,
                    "prophet_upper": 100 + half,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_needed_scale_is_the_factor_that_just_covers_the_actual():
    y = np.array([90.0, 115.0, 100.0, 80.0])
    yhat = np.full(4, 100.0)
    lower, upper = np.array([95.0, 95.0, 95.0, 100.0]), np.array([110.0, 110.0, 110.0, 110.0])
    assert needed_scale(y, yhat, lower, upper).tolist() == [2.0, 1.5, 0.0, np.inf]
    lo, hi = scale_bounds(yhat, lower, upper, 2.0)
    assert lo.tolist() == [90.0, 90.0, 90.0, 100.0] and hi.tolist() == [120.0] * 4
    assert scale_bounds([10.0], [2.0], [12.0], [3.0])[0].tolist() == [0.0]  # never below zero


def test_intervals_twice_too_narrow_are_widened_to_hold_the_nominal_share_out_of_sample():
    train, fresh = _rows(2000, seed=1), _rows(2000, seed=2)
    scales = interval_scales(train, ["prophet"], 0.8, SETTINGS)
    assert sorted(scales["horizon"]) == list(range(1, 29))
    at = scales.set_index("horizon")
    for h in (1, 7, 28):
        assert 1.7 < at.loc[h, "scale"] < 2.3
        assert at.loc[h, "coverage"] < 0.55 and at.loc[h, "coverage_scaled"] >= 0.8
    before = coverage(fresh, ["prophet"])["prophet"]
    after = coverage(calibrate_rows(fresh, scales), ["prophet"])["prophet"]
    for h in (1, 7, 28):
        assert before[h] < 0.55
        assert 0.76 <= after[h] <= 0.84


def test_too_wide_intervals_are_narrowed_but_not_past_the_floor():
    scales = interval_scales(_rows(400, seed=3, narrow=0.8), ["prophet"], 0.8, SETTINGS)
    assert (scales["scale"] < 0.9).all() and (scales["scale"] >= 0.5).all()
    tight = interval_scales(_rows(400, seed=3, narrow=0.1), ["prophet"], 0.8, SETTINGS)
    assert (tight["scale"] == 0.5).all()


def test_thin_buckets_take_the_pooled_factor_and_thin_models_keep_their_intervals():
    rows = pd.concat([_rows(200, seed=4, horizons=(7,)), _rows(10, seed=5, horizons=(28,), narrow=1.0)])
    scales = interval_scales(rows, ["prophet", "lgbm"], 0.8, SETTINGS).set_index("horizon")
    pooled = scales.loc[20, "scale"]  # bucket 15..28 has 10 rows: below min_rows, so the pooled factor
    assert scales.loc[20, "n"] == 10 and pooled == scales.loc[1, "scale"]  # bucket 1 has no rows at all
    assert scales.loc[7, "scale"] != pooled
    assert set(interval_scales(rows, ["lgbm"], 0.8, SETTINGS)["model"]) == set()  # no bounds: not scaled
    few = interval_scales(_rows(5, seed=6), ["prophet"], 0.8, SETTINGS)
    assert (few["scale"] == 1.0).all()


def test_stock_out_days_do_not_widen_the_intervals():
    rows = _rows(300, seed=7, narrow=1.0)
    cut = rows.assign(y=rows["y"] * 0.3, censored=True)  # sold out early: far below the forecast
    with_cut = interval_scales(pd.concat([rows, cut]), ["prophet"], 0.8, SETTINGS)
    without = interval_scales(rows, ["prophet"], 0.8, SETTINGS)
    pd.testing.assert_frame_equal(with_cut[["horizon", "scale"]], without[["horizon", "scale"]])


def test_residual_bounds_still_hold_yhat():
    lo, hi = residual_bounds(np.array([10.0, 0.0]), np.array([-0.2, 0.1, 0.3, -0.5]), 0.8, relative=True)
    assert (lo <= [10.0, 0.0]).all() and (hi >= [10.0, 0.0]).all()


def _frame(model: str, yhat: float, lower: float, upper: float) -> pd.DataFrame:
    days = pd.date_range("2025-06-01", periods=3)
    return pd.DataFrame(
        {
            "unique_id": "S1/P1",
            "store_id": "S1",
            "product_id": "P1",
            "as_of": pd.Timestamp("2025-05-31"),
            "ds": days,
            "horizon": [1, 2, 3],
            "model": model,
            "yhat": yhat,
            "yhat_lower": lower,
            "yhat_upper": upper,
            "trend": yhat,
            "weekly": 0.0,
            "yearly": 0.0,
            "holidays": 0.0,
            "regressors": "{}",
            "fallback_reason": None,
            "reason_code": None,
            "launched_on": None,
            "reason_facts": None,
            "notes": None,
        }
    )


def _scales(model: str, scale: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": model,
            "horizon": range(1, 29),
            "scale": scale,
            "n": 50,
            "coverage": 0.7,
            "coverage_scaled": 0.8,
        }
    )


def test_the_served_ensemble_is_averaged_first_then_scaled_by_its_own_factor(cfg):
    candidates = {
        "prophet": _frame("prophet", 100.0, 90.0, 110.0),
        "lgbm": _frame("lgbm", 80.0, 60.0, 90.0),
        "seasonal_naive": _frame("seasonal_naive", 95.0, 95.0, 95.0),
    }
    scales = pd.concat([_scales("ensemble", 2.0), _scales("prophet", 3.0)])
    choice = pd.DataFrame({"unique_id": ["S1/P1"], "model": ["ensemble"]})
    served = champion_forecast(candidates, choice, cfg, scales)
    # Averaged: yhat 90, bounds 75 / 100; half-widths 15 / 10 doubled -> 60 / 110 (prophet's factor unused).
    assert served["yhat"].tolist() == [90.0] * 3
    assert served["yhat_lower"].tolist() == [60.0] * 3 and served["yhat_upper"].tolist() == [110.0] * 3
    assert calibrate_frame(candidates["prophet"], scales, "prophet")["yhat_upper"].tolist() == [130.0] * 3
    raw = champion_forecast(candidates, choice, cfg)
    assert raw["yhat_lower"].tolist() == [75.0] * 3


def test_backtest_champion_bounds_are_calibrated_on_what_was_known_at_each_cutoff(cfg):
    rng = np.random.default_rng(8)
    cutoffs = pd.date_range("2025-01-05", periods=10, freq="7D")
    parts = []
    for c in cutoffs:
        for h in (1, 7):
            y = 100 + rng.normal(0, 10, 20)
            parts.append(
                pd.DataFrame(
                    {
                        "unique_id": [f"S{k}/P" for k in range(20)],
                        "store_id": [f"S{k}" for k in range(20)],
                        "cutoff": c,
                        "horizon": h,
                        "ds": c + pd.Timedelta(days=h),
                        "y": y,
                        "censored": False,
                        "seasonal_naive": 100.0,
                        "prophet": 100.0,
                        "prophet_lower": 95.0,
                        "prophet_upper": 105.0,
                        "lgbm": 100.0,
                        "lgbm_lower": 94.0,
                        "lgbm_upper": 106.0,
                    }
                )
            )
    rows = add_ensemble(pd.concat(parts, ignore_index=True), ["prophet", "lgbm"])
    assert rows["ensemble_lower"].eq(94.5).all()
    out = rolling_selection(rows, cfg)
    first, last = out[out["cutoff"] == cutoffs[0]], out[out["cutoff"] == cutoffs[-1]]
    assert first["champion_lower"].eq(94.5).all()  # nothing known yet: the ensemble's own interval
    assert last["champion_upper"].gt(110).all()  # sd 10 but half-width 5.5: widened about 2.3x
    assert out["ensemble_upper"].eq(105.5).all()  # the candidate's own column is left as fitted
    cov = coverage(out[out["cutoff"] >= cutoffs[3]], ["ensemble", "champion"])
    assert cov["ensemble"][7] < 0.5 and cov["champion"][7] > 0.7
    choice = pd.DataFrame({"unique_id": ["S0/P"], "model": ["prophet"]})
    scales = calibration(rows, cfg)
    served = served_selection(rows, choice, scales, cfg)
    s0 = served[served["unique_id"] == "S0/P"]
    factor = scales.set_index(["model", "horizon"]).loc[("prophet", 7), "scale"]
    assert s0.loc[s0["horizon"] == 7, "champion_upper"].round(6).eq(round(100 + 5 * factor, 6)).all()


def test_backtests_calibrate_on_the_recent_rows_only(cfg):
    rng = np.random.default_rng(10)
    cutoffs = pd.date_range("2025-01-05", periods=20, freq="7D")
    parts = []
    for k, c in enumerate(cutoffs):
        y = 100 + rng.normal(0, 30 if k < 10 else 5, 40)  # a volatile quarter, then a calm one
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": [f"S{j}/P" for j in range(40)],
                    "cutoff": c,
                    "horizon": 7,
                    "ds": c + pd.Timedelta(days=7),
                    "y": y,
                    "censored": False,
                    "seasonal_naive": 100.0,
                    "prophet": 100.0,
                    "prophet_lower": 95.0,
                    "prophet_upper": 105.0,
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    cfg = cfg.with_overrides(
        {"selection": {**cfg.selection, "candidates": ["seasonal_naive", "prophet"], "default": "prophet"}}
    )
    last = rolling_selection(rows, cfg).query("cutoff == @cutoffs[-1]")["champion_upper"].iloc[0]
    window = cfg.with_overrides({"interval_calibration": {"window_days": 365}})
    all_known = rolling_selection(rows, window).query("cutoff == @cutoffs[-1]")["champion_upper"].iloc[0]
    assert last < 110 < all_known  # the calm weeks' errors, not the volatile quarter's


def test_calibration_off_leaves_intervals_as_fitted(cfg):
    off = cfg.with_overrides({"interval_calibration": {"enabled": False}})
    assert calibration(_rows(100, seed=9), off).empty


@pytest.fixture
def cfg(cfg):
    return cfg.with_overrides({"selection": {**cfg.selection, "min_pairs": 1}})
