"""The forecaster registry: a model added by one class and one config line reaches the backtest and the
selection, and every model round-trips through JSON to the same forecast."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bakery.models.backtest import BACKTEST_COLUMNS, backtest_series
from bakery.models.forecaster import backtest_fields, candidates
from bakery.models.frames import design, series_data
from bakery.models.output import FORECAST_COLUMNS
from bakery.models.selection import select_models
from tests.models.synth import make_series

CUTOFFS = [pd.Timestamp("2025-05-06"), pd.Timestamp("2025-05-13"), pd.Timestamp("2025-05-20")]
TOY = "mean_last_7"


@pytest.fixture(scope="module")
def toy_cfg(cfg):
    return cfg.with_overrides(
        {
            "forecasters": {TOY: "tests.models.toy_forecaster:MeanLast7"},
            "selection": {"candidates": [TOY], "default": TOY, "min_pairs": 1},
        }
    )


def test_the_configured_models_give_the_published_backtest_columns(cfg):
    assert [c for c, _ in backtest_fields(cfg)] == BACKTEST_COLUMNS
    assert list(candidates(cfg)) == ["seasonal_naive", "weekday_profile", "prophet_default", "prophet"]


def test_a_model_added_by_config_is_backtested_and_selected(toy_cfg):
    pdf = make_series(days=150, closed_weekday=None)
    rows = backtest_series(pdf, toy_cfg, CUTOFFS, horizons=range(1, 8), models=["seasonal_naive", TOY])
    assert TOY in rows.columns and rows[TOY].notna().all()
    last7 = pdf.set_index("date")["y"]
    expected = last7[last7.index <= CUTOFFS[-1]].tail(7).mean()
    assert rows.loc[rows["cutoff"] == CUTOFFS[-1], TOY].eq(expected).all()
    # A weekly series is far better served by last week than by a flat mean: the toy competes and loses.
    choice = select_models(rows, toy_cfg)
    assert choice[f"wmape_{TOY}"].gt(choice["wmape_seasonal_naive"] * 1.5).all()
    assert choice["model"].tolist() == ["seasonal_naive"]
    # On a series with no weekly pattern it stays the chosen default.
    noisy = pdf.assign(y=100.0 + (pdf.index % 3))
    rows = backtest_series(noisy, toy_cfg, CUTOFFS, horizons=range(1, 8), models=["seasonal_naive", TOY])
    assert select_models(rows, toy_cfg)["model"].tolist() == [TOY]


def test_an_unknown_or_misnamed_model_is_a_clear_error(cfg, toy_cfg):
    with pytest.raises(ValueError, match="unknown per-series model"):
        backtest_series(make_series(), cfg, CUTOFFS, models=[TOY])
    bad = cfg.with_overrides({"forecasters": {"mean7": "tests.models.toy_forecaster:MeanLast7"}})
    with pytest.raises(ValueError, match="forecasters.mean7.*named 'mean_last_7'"):
        candidates(bad)


@pytest.mark.parametrize("name", ["seasonal_naive", "weekday_profile", "prophet", TOY])
def test_every_model_round_trips_through_json_to_the_same_forecast(toy_cfg, name):
    cfg = toy_cfg
    cls = candidates(cfg)[name]
    sd = series_data(make_series(days=150), cfg)
    cutoff = pd.Timestamp("2025-05-20")
    dz = design(sd, cutoff, cfg, weather_until=None, mask_planned=False)
    fitted = cls().fit(sd, dz, cutoff, cfg)
    again = cls.from_dict(json.loads(json.dumps(fitted.to_dict())))
    first, second = fitted.predict(sd, dz, cutoff, cfg), again.predict(sd, dz, cutoff, cfg)
    assert list(first.columns) == FORECAST_COLUMNS and len(first) == len(dz.future)
    pd.testing.assert_frame_equal(first, second, rtol=1e-9)
