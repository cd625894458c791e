"""Metric formulas on hand-computed examples, and the shape of evaluate()."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bakery.models import metrics

Y = [10.0, 0.0, 30.0]
YHAT = [12.0, 1.0, 27.0]  # errors +2, +1, -3; sum|y| = 40


def test_wmape_is_sum_abs_error_over_sum_abs_actual():
    assert metrics.wmape(Y, YHAT) == pytest.approx(100 * 6 / 40)


def test_bias_is_signed_sum_over_sum_abs_actual():
    assert metrics.bias(Y, YHAT) == pytest.approx(100 * 0 / 40)
    assert metrics.bias([10, 10], [12, 13]) == pytest.approx(100 * 5 / 20)


def test_mae_rmse_n():
    assert metrics.mae(Y, YHAT) == pytest.approx(2.0)
    assert metrics.rmse(Y, YHAT) == pytest.approx(math.sqrt((4 + 1 + 9) / 3))
    assert metrics.n(Y, YHAT) == 3


def test_mape_skips_zero_actuals():
    assert metrics.mape(Y, YHAT) == pytest.approx(100 * (2 / 10 + 3 / 30) / 2)


def test_rows_without_forecast_are_not_counted():
    assert metrics.n([1, 2, 3], [1, float("nan"), 3]) == 2
    assert metrics.wmape([1, 2, 3], [1, float("nan"), 4]) == pytest.approx(100 * 1 / 4)


def test_all_zero_actuals_give_nan_not_a_crash():
    assert math.isnan(metrics.wmape([0, 0], [1, 1]))


def test_evaluate_is_model_then_horizon_then_metric():
    rows = pd.DataFrame(
        {
            "unique_id": "a",
            "store_id": "s",
            "product_id": "p",
            "cutoff": pd.Timestamp("2025-01-01"),
            "ds": pd.date_range("2025-01-02", periods=4),
            "horizon": [1, 1, 7, 7],
            "y": [10.0, 20.0, 10.0, 10.0],
            "m1": [11.0, 19.0, 10.0, 14.0],
            "m2": [10.0, 20.0, 5.0, 15.0],
        }
    )
    out = metrics.evaluate(rows)
    assert set(out) == {"m1", "m2"}
    assert set(out["m1"]) == {1, 7}
    assert out["m1"][1]["wmape"] == pytest.approx(100 * 2 / 30)
    assert out["m2"][7] == pytest.approx(
        {"wmape": 50.0, "mae": 5.0, "rmse": 5.0, "mape": 50.0, "bias": 0.0, "n": 2}
    )
