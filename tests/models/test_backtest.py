"""Backtests: only data <= cutoff is used, only observed target days count, weather past the
lookahead is climatology, and the report has the shape of docs/contract.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bakery.models.backtest import BACKTEST_COLUMNS, backtest_series, cutoff_range, report, wide
from tests.models.synth import make_series

CUTOFF = pd.Timestamp("2025-05-20")
MODELS = ["seasonal_naive", "weekday_profile", "prophet"]


@pytest.fixture(scope="module")
def pdf() -> pd.DataFrame:
    return make_series(days=180)


@pytest.fixture(scope="module")
def long(pdf, cfg) -> pd.DataFrame:
    return backtest_series(pdf, cfg, [CUTOFF], horizons=range(1, 29), models=MODELS)


@pytest.fixture(scope="module")
def rows(long) -> pd.DataFrame:
    return wide(long)


def test_cutoffs_are_start_plus_step_up_to_end():
    assert cutoff_range("2025-01-01", "2025-01-20", 7) == list(
        pd.to_datetime(["2025-01-01", "2025-01-08", "2025-01-15"])
    )
    with pytest.raises(ValueError, match="step"):
        cutoff_range("2025-01-01", "2025-01-20", 0)


def test_rows_are_one_per_target_day_and_model_with_the_interval_where_the_model_keeps_one(long):
    assert list(long.columns) == BACKTEST_COLUMNS
    assert long.groupby("model").size().to_dict() == dict.fromkeys(MODELS, 24)
    assert long["yhat"].notna().all()
    has_bounds = long.groupby("model")["yhat_lower"].apply(lambda b: b.notna().all()).to_dict()
    assert has_bounds == {"prophet": True, "seasonal_naive": False, "weekday_profile": False}
    assert long.loc[long["model"] == "seasonal_naive", "yhat_lower"].isna().all()
    prophet = long[long["model"] == "prophet"]
    assert prophet["served_model"].eq("prophet").all() and prophet["fallback_reason"].isna().all()


def test_the_wide_frame_has_a_column_per_model_and_bounds_only_where_kept(rows, long):
    assert list(rows.columns) == [
        *["unique_id", "store_id", "product_id", "cutoff", "ds", "horizon", "y", "censored"],
        *MODELS,
        "prophet_lower",
        "prophet_upper",
    ]
    back = long[long["model"] == "prophet"].sort_values("ds")["yhat"].to_numpy()
    np.testing.assert_array_equal(rows.sort_values("ds")["prophet"].to_numpy(), back)
    with pytest.raises(ValueError, match="twice"):
        wide(pd.concat([long, long.head(1)]))


def test_rows_only_for_observed_target_days(rows, pdf):
    closed = set(pdf.loc[~pdf["is_open"], "date"])
    assert not set(rows["ds"]) & closed
    assert (rows["ds"] - rows["cutoff"]).dt.days.eq(rows["horizon"]).all()
    assert len(rows) == 24  # 28 days minus 4 closed Sundays
    assert rows[MODELS].notna().all().all()


def test_backtest_never_uses_data_after_the_cutoff(pdf, rows, cfg):
    later = pdf["date"] > CUTOFF
    beyond_lookahead = pdf["date"] > CUTOFF + pd.Timedelta(days=cfg.weather_lookahead_days)
    mutated = pdf.copy()
    mutated.loc[later & mutated["y"].notna(), "y"] *= 3
    mutated.loc[later, "promo"] = 1.0
    mutated.loc[beyond_lookahead, "temperature"] += 25
    again = wide(backtest_series(mutated, cfg, [CUTOFF], horizons=range(1, 29), models=MODELS))
    for model in MODELS:
        assert np.allclose(again[model], rows[model]), model
    assert np.allclose(again["y"], rows["y"] * 3)  # the actuals themselves did change


def test_weather_within_the_lookahead_is_used(pdf, rows, cfg):
    mutated = pdf.copy()
    day1 = CUTOFF + pd.Timedelta(days=1)
    mutated.loc[mutated["date"] == day1, "temperature"] += 40
    again = wide(backtest_series(mutated, cfg, [CUTOFF], horizons=[1], models=["prophet"]))
    assert not np.isclose(again["prophet"].iloc[0], rows.loc[rows["horizon"] == 1, "prophet"].iloc[0])


def test_cutoffs_with_only_closed_targets_are_skipped(pdf, cfg):
    sunday = pd.Timestamp("2025-05-18")
    saturday = sunday - pd.Timedelta(days=1)
    out = backtest_series(pdf, cfg, [saturday], horizons=[1], models=["seasonal_naive"])
    assert out.empty and list(out.columns) == BACKTEST_COLUMNS


def test_cutoffs_before_the_series_first_observation_are_skipped(pdf, cfg):
    """A product launched after the cutoff did not exist for the pipeline then: no model forecast it, so its
    (cutoff, day) pairs are not scored (every model used to be scored with a forecast of 0, or none)."""
    first = pdf.loc[pdf["y"].notna(), "date"].min()
    before, after = first - pd.Timedelta(days=3), first + pd.Timedelta(days=20)
    out = backtest_series(
        pdf, cfg, [before, after], horizons=[4, 5, 9], models=["seasonal_naive", "weekday_profile"]
    )
    assert set(out["cutoff"]) == {after}


def test_report_has_the_contract_shape(rows, cfg):
    rep = report(rows.assign(champion=rows["prophet"]), cfg, [CUTOFF], champion="champion")
    assert rep["baseline"] == "seasonal_naive" and rep["weather_lookahead_days"] == cfg.weather_lookahead_days
    assert set(rep["models"]) >= {"seasonal_naive", "champion", "prophet"}
    assert set(rep["models"]["prophet"]["7"]) == {"wmape", "mae", "rmse", "mape", "bias", "n"}
    assert not any(m.endswith(("_lower", "_upper")) for m in rep["models"])


def test_report_states_interval_coverage_against_its_nominal_width(rows, cfg):
    rep = report(rows.assign(champion=rows["prophet"]), cfg, [CUTOFF], champion="champion")
    cov = rep["interval_coverage"]
    assert cov["nominal"] == cfg.interval_width
    observed = rows.dropna(subset=["y", "prophet_lower", "prophet_upper"])
    inside = (observed["y"] >= observed["prophet_lower"]) & (observed["y"] <= observed["prophet_upper"])
    expected = inside[observed["horizon"] == 7].mean()
    assert cov["prophet"]["7"] == pytest.approx(expected, abs=1e-4)


def test_report_keeps_every_horizon_and_stays_strict_json(rows, cfg):
    """A horizon with no observed pair (every target on a day the shop is shut) is reported with n = 0, and a
    metric with no defined value (no sales at all) is null, not NaN: strict JSON parsers read the report."""
    import json

    shut = rows[rows["horizon"] != 28].assign(champion=lambda d: d["prophet"])
    zero = shut.assign(y=lambda d: d["y"].where(d["horizon"] != 7, 0.0))
    rep = report(zero, cfg, [CUTOFF], champion="champion")
    assert set(rep["models"]["champion"]) == {"1", "7", "28"}
    assert rep["models"]["champion"]["28"] == {
        "wmape": None,
        "mae": None,
        "rmse": None,
        "mape": None,
        "bias": None,
        "n": 0,
    }
    assert rep["models"]["champion"]["7"]["wmape"] is None and rep["models"]["champion"]["7"]["n"] > 0
    assert rep["interval_coverage"]["prophet"]["28"] is None
    json.loads(json.dumps(rep, allow_nan=False))
