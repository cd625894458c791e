"""The forecaster registry: a model added by one class and one config line reaches the backtest rows, the
selection and the report, and every model round-trips (per-series ones through JSON, global ones through the
bundle's pickle) to the same forecast."""

from __future__ import annotations

import json
import pickle

import pandas as pd
import pytest

from bakery.models.backtest import (
    backtest_series,
    global_names,
    report,
    report_models,
    wide,
    with_global_models,
)
from bakery.models.forecaster import candidates, global_candidates
from bakery.models.frames import design, series_data
from bakery.models.output import FORECAST_COLUMNS
from bakery.models.selection import CHAMPION, rolling_selection, select_models
from tests.models.synth import make_series

CUTOFFS = [pd.Timestamp("2025-05-06"), pd.Timestamp("2025-05-13"), pd.Timestamp("2025-05-20")]
TOY = "mean_last_7"
GLOBAL_TOY = "last_week_mean"


@pytest.fixture(scope="module")
def toy_cfg(cfg):
    return cfg.with_overrides(
        {
            "forecasters": {TOY: "tests.models.toy_forecaster:MeanLast7"},
            "selection": {"candidates": [TOY], "default": TOY, "min_pairs": 1},
        }
    )


@pytest.fixture(scope="module")
def global_cfg(cfg):
    """The one config line (global_forecasters), and the toy made a selection candidate."""
    return cfg.with_overrides(
        {
            "global_forecasters": {GLOBAL_TOY: "tests.models.toy_global:LastWeekMean"},
            "backtest": {"models": ["seasonal_naive"]},
            "selection": {"candidates": ["seasonal_naive", GLOBAL_TOY], "default": "seasonal_naive"},
        }
    )


def test_the_configured_models_are_the_registered_candidates(cfg):
    assert list(candidates(cfg)) == ["seasonal_naive", "weekday_profile", "prophet_default", "prophet"]
    assert list(global_candidates(cfg)) == ["lgbm"]
    assert report_models(cfg) == [
        "seasonal_naive",
        "weekday_profile",
        "prophet",
        "lgbm",
        "ensemble",
        CHAMPION,
    ]


def test_a_model_added_by_config_is_backtested_and_selected(toy_cfg):
    pdf = make_series(days=150, closed_weekday=None)
    long = backtest_series(pdf, toy_cfg, CUTOFFS, horizons=range(1, 8), models=["seasonal_naive", TOY])
    assert set(long["model"]) == {"seasonal_naive", TOY}
    rows = wide(long)
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
    rows = wide(
        backtest_series(noisy, toy_cfg, CUTOFFS, horizons=range(1, 8), models=["seasonal_naive", TOY])
    )
    assert select_models(rows, toy_cfg)["model"].tolist() == [TOY]


def test_a_model_added_by_config_is_served_once_chosen(toy_cfg):
    """Serving needs no edit either: a chosen per-series model is fitted on the history up to the as-of date and
    its rows become the series' champion forecast."""
    from bakery.models.serve import combine, forecast_one, served_per_series

    pdf = make_series(days=150, closed_weekday=None)
    as_of = CUTOFFS[-1]
    assert served_per_series(toy_cfg) == [TOY]
    rows = forecast_one(pdf[pdf["date"] <= as_of], toy_cfg, as_of.date())
    assert set(rows["model"]) >= {TOY, "seasonal_naive"}
    last7 = pdf.set_index("date")["y"]
    expected = last7[last7.index <= as_of].tail(7).mean()
    toy_rows = rows[rows["model"] == TOY]
    assert len(toy_rows) == toy_cfg.max_horizon and toy_rows["yhat"].eq(expected).all()
    uid = rows["unique_id"].iloc[0]
    served = combine(rows, {}, pd.DataFrame({"unique_id": [uid], "model": [TOY]}), toy_cfg)
    assert set(served["model"]) == {TOY} and served["yhat"].eq(expected).all()
    naive = combine(rows, {}, pd.DataFrame({"unique_id": [uid], "model": ["seasonal_naive"]}), toy_cfg)
    assert set(naive["model"]) == {"seasonal_naive"}


def test_a_global_model_added_by_config_reaches_the_rows_the_selection_and_the_report(global_cfg):
    cfg = global_cfg
    assert list(global_candidates(cfg)) == ["lgbm", GLOBAL_TOY]
    # Flat series: the toy's flat mean beats last week's noise on one, seasonal naive wins the weekly one.
    weekly = make_series("S01", "P01", days=150, closed_weekday=None, seed=1)
    flat = make_series("S01", "P02", days=150, closed_weekday=None, seed=2)
    flat = flat.assign(y=100.0 + (flat.index % 3))
    features = pd.concat([weekly, flat], ignore_index=True)
    horizons = list(range(1, 8))
    long = pd.concat(
        [
            backtest_series(pdf, cfg, CUTOFFS, horizons, ["seasonal_naive"])
            for _, pdf in features.groupby("unique_id")
        ]
    )
    names = global_names(cfg, cfg.selection["candidates"])
    assert names == [GLOBAL_TOY]
    rows, notes = with_global_models(long, features, cfg, CUTOFFS, horizons, names)
    assert notes == [] and rows[GLOBAL_TOY].notna().all() and len(rows) == len(long)
    p02 = rows[(rows["unique_id"] == "S01/P02") & (rows["cutoff"] == CUTOFFS[-1])]
    known = flat.loc[flat["date"] <= CUTOFFS[-1], "y"]
    assert p02[GLOBAL_TOY].eq(known.tail(7).mean()).all()

    choice = select_models(rows, cfg.with_overrides({"selection": {"min_pairs": 1}}))
    assert f"wmape_{GLOBAL_TOY}" in choice.columns
    assert choice.set_index("unique_id")["model"].to_dict() == {
        "S01/P01": "seasonal_naive",
        "S01/P02": GLOBAL_TOY,
    }

    rows = rolling_selection(rows, cfg)
    scored = [m for m in report_models(cfg) if m in rows.columns]
    rep = report(rows, cfg, CUTOFFS, champion=CHAMPION, models=scored)
    assert list(rep["models"]) == ["seasonal_naive", GLOBAL_TOY, CHAMPION]
    assert rep["models"][GLOBAL_TOY]["7"]["n"] == len(CUTOFFS) * 2

    fitted = global_candidates(cfg)[GLOBAL_TOY]().fit(features, cfg, CUTOFFS[-1])
    served = fitted.predict(features, cfg, CUTOFFS[-1].date())
    assert list(served.columns) == FORECAST_COLUMNS and len(served) == 2 * cfg.max_horizon
    again = pickle.loads(pickle.dumps(fitted)).predict(features, cfg, CUTOFFS[-1].date())
    pd.testing.assert_frame_equal(served, again)


def test_an_unknown_or_misnamed_model_is_a_clear_error(cfg, toy_cfg):
    with pytest.raises(ValueError, match="unknown per-series model"):
        backtest_series(make_series(), cfg, CUTOFFS, models=[TOY])
    bad = cfg.with_overrides({"forecasters": {"mean7": "tests.models.toy_forecaster:MeanLast7"}})
    with pytest.raises(ValueError, match="forecasters.mean7.*named 'mean_last_7'"):
        candidates(bad)
    wrong = cfg.with_overrides({"global_forecasters": {"mean7": "tests.models.toy_forecaster:MeanLast7"}})
    with pytest.raises(ValueError, match="global_forecasters.mean7.*not a GlobalForecaster subclass"):
        global_candidates(wrong)


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
