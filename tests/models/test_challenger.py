"""Global LightGBM challenger: trained and fed only with data <= cutoff; full forecasts with intervals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bakery.models.backtest import backtest_series, wide
from bakery.models.challenger import LGBM, LightGBMChallenger, backtest_challenger, forecast_challenger
from bakery.models.prophet_model import FORECAST_COLUMNS
from bakery.models.selection import add_ensemble
from tests.models.synth import make_series, summer_shop

CUTOFF = pd.Timestamp("2025-03-31")


@pytest.fixture(scope="module")
def small_cfg(cfg):
    return cfg.with_overrides(
        {"challenger": {"lgbm": {"n_estimators": 30, "num_leaves": 7, "min_child_samples": 10}}}
    )


@pytest.fixture(scope="module")
def panel_rows() -> pd.DataFrame:
    return pd.concat(
        [
            make_series(store_id=s, level=lvl, seed=k, start="2024-09-01", days=260)
            for k, (s, lvl) in enumerate([("S1", 50.0), ("S2", 120.0), ("S3", 300.0)])
        ],
        ignore_index=True,
    )


def test_backtest_ignores_everything_after_the_cutoff(panel_rows, small_cfg):
    base = backtest_challenger(panel_rows, small_cfg, [CUTOFF], horizons=[1, 7, 28])
    later = panel_rows["date"] > CUTOFF
    mutated = panel_rows.copy()
    mutated.loc[later & mutated["y"].notna(), "y"] *= 5
    mutated.loc[later, "promo"] = 1.0
    mutated.loc[
        panel_rows["date"] > CUTOFF + pd.Timedelta(days=small_cfg.weather_lookahead_days), "temperature"
    ] -= 30
    again = backtest_challenger(mutated, small_cfg, [CUTOFF], horizons=[1, 7, 28])
    assert len(base) == 9 and np.allclose(base["lgbm"], again["lgbm"])


def test_a_cutoff_outside_the_data_is_a_clear_error_not_an_index_error(panel_rows, small_cfg):
    with pytest.raises(ValueError, match=r"cutoff 2024-08-01 is outside the data \(2024-09-01\.\."):
        backtest_challenger(panel_rows, small_cfg, [pd.Timestamp("2024-08-01")], horizons=[1])


def test_cutoffs_after_the_data_are_left_out_with_the_reason_and_an_as_of_after_it_still_forecasts(
    panel_rows, small_cfg
):
    """Cutoffs at or after the last observed day have nothing to score (they used to stop the backtest with an
    IndexError past the panel's grid); a forecast from an as-of date after the data (ingest late) covers 28 days."""
    last = panel_rows.loc[panel_rows["y"].notna(), "date"].max()
    after = last + pd.Timedelta(days=10)
    rows = backtest_challenger(panel_rows, small_cfg, [CUTOFF, last, after], horizons=[1, 7, 28])
    assert set(rows["cutoff"]) == {CUTOFF}
    with pytest.raises(
        ValueError,
        match=f"nothing to score after the cutoff {after.date()}, at or after the data's "
        f"last day \\({last.date()}\\)",
    ):
        backtest_challenger(panel_rows, small_cfg, [after], horizons=[1])
    out = forecast_challenger(panel_rows, small_cfg, after.date())
    assert out.groupby("unique_id")["ds"].max().eq(after + pd.Timedelta(days=28)).all()
    assert (out["yhat"] > 0).all()


def test_a_store_reopening_after_a_month_shut_is_forecast_at_its_level_not_zero(panel_rows, small_cfg):
    """S2 (level 120) shut for the 35 days up to the cutoff: no observation in the level window. The challenger
    took its level as 0 and forecast 0 for the reopening, which halved the ensemble; it now starts from the level of
    the series' last observations."""
    shut = (panel_rows["store_id"] == "S2") & panel_rows["date"].between(
        CUTOFF - pd.Timedelta(days=34), CUTOFF
    )
    rows = panel_rows.assign(y=panel_rows["y"].mask(shut), is_open=panel_rows["is_open"] & ~shut)
    out = backtest_challenger(rows, small_cfg, [CUTOFF], horizons=list(range(1, 8)))
    s2 = out[out["unique_id"] == "S2/P01"]
    assert len(s2) == 7 and s2["lgbm"].between(0.5 * 120, 2 * 120).all()


def test_cutoffs_too_early_to_train_are_left_out_not_the_whole_backtest(panel_rows, small_cfg):
    too_early = pd.Timestamp("2024-09-02")  # one day of data: no training row yet
    rows = backtest_challenger(panel_rows, small_cfg, [too_early, CUTOFF], horizons=[1, 7])
    assert set(rows["cutoff"]) == {CUTOFF} and len(rows) == 6
    with pytest.raises(ValueError, match="no training rows up to the cutoff 2024-09-02"):
        backtest_challenger(panel_rows, small_cfg, [too_early], horizons=[1])


def test_forecast_has_28_rows_per_series_with_intervals_and_components(panel_rows, small_cfg):
    out = forecast_challenger(panel_rows[panel_rows["date"] <= CUTOFF], small_cfg, CUTOFF.date())
    assert list(out.columns) == FORECAST_COLUMNS
    assert out.groupby("unique_id")["horizon"].apply(list).map(lambda h: h == list(range(1, 29))).all()
    assert (out["yhat_lower"] <= out["yhat"]).all() and (out["yhat"] <= out["yhat_upper"]).all()
    regs = out["regressors"].map(lambda s: sum(json.loads(s).values()))
    total = out["trend"] + out["weekly"] + out["yearly"] + out["holidays"] + regs
    positive = out["yhat"] > 0
    assert np.allclose(total[positive], out.loc[positive, "yhat"], rtol=1e-6)
    level = out.groupby("unique_id")["yhat"].mean()
    assert level["S1/P01"] < level["S2/P01"] < level["S3/P01"]


def test_a_forecast_without_its_explanation_is_the_same_forecast(panel_rows, small_cfg):
    """A former champion's rows are forecast without SHAP contributions: the same numbers, empty components."""
    history = panel_rows[panel_rows["date"] <= CUTOFF]
    model = LightGBMChallenger().fit(history, small_cfg, CUTOFF, with_intervals=True)
    full = model.predict(history, small_cfg, CUTOFF.date())
    bare = model.predict(history, small_cfg, CUTOFF.date(), explain=False)
    assert list(bare.columns) == FORECAST_COLUMNS
    values = ["unique_id", "ds", "horizon", "yhat", "yhat_lower", "yhat_upper"]
    pd.testing.assert_frame_equal(bare[values], full[values])
    assert (
        bare[["trend", "weekly", "yearly", "holidays"]].isna().all().all() and bare["regressors"].isna().all()
    )
    assert full[["trend", "weekly"]].notna().all().all()


def _peak_wmape(rows: pd.DataFrame, model: str) -> float:
    return 100 * float((rows[model] - rows["y"]).abs().sum() / rows["y"].sum())


def test_a_season_seen_once_does_not_drag_the_ensemble_below_prophet_at_the_peak(cfg):
    """18 months of history with one summer in which sales doubled, forecast from 2024-05-31 into the next one
    (D+15..28 lands on the doubled level). Lags and rolling means lag the level; last year's step carries it."""
    shop = summer_shop()
    as_of, horizons = pd.Timestamp("2024-05-31"), list(range(1, 29))
    keys = ["unique_id", "cutoff", "ds", "horizon"]
    prophet = pd.concat(
        [
            wide(backtest_series(pdf, cfg, [as_of], horizons, models=["prophet"]))
            for _, pdf in shop.groupby("unique_id")
        ]
    )
    served = add_ensemble(
        prophet.merge(backtest_challenger(shop, cfg, [as_of], horizons), on=keys), ["prophet", LGBM]
    )
    peak = served[served["horizon"] >= 15]
    spring = shop.loc[shop["date"].between("2024-01-01", "2024-04-30"), "y"].mean()
    assert peak["y"].mean() > 1.8 * spring  # the peak is a doubling
    assert _peak_wmape(peak, "ensemble") <= _peak_wmape(peak, "prophet")
    assert peak[LGBM].sum() >= 0.9 * peak["y"].sum()  # the challenger itself reaches the peak

    # Without last year's step (lags and levels only) the challenger stays near the pre-season level and drags
    # the ensemble below Prophet alone: the case the step is for.
    flat = cfg.with_overrides({"challenger": {**cfg.challenger, "season_scale": 0.0}})
    lagging = add_ensemble(
        prophet.merge(backtest_challenger(shop, flat, [as_of], horizons), on=keys), ["prophet", LGBM]
    )
    lag_peak = lagging[lagging["horizon"] >= 15]
    assert lag_peak[LGBM].sum() < 0.9 * lag_peak["y"].sum()
    assert _peak_wmape(lag_peak, "ensemble") > _peak_wmape(peak, "ensemble")
