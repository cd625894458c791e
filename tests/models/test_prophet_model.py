"""Per-series Prophet: 28 rows with intervals and components, explicit fallbacks, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from prophet import Prophet

from bakery.models.frames import design, series_data
from bakery.models.prophet_model import (
    FALLBACK,
    FORECAST_COLUMNS,
    PROPHET,
    deserialize,
    forecast_series,
    predict_prophet,
    train_series,
)
from tests.models.synth import make_series

AS_OF = pd.Timestamp("2025-05-31")


def _history(**kw) -> pd.DataFrame:
    pdf = make_series(**kw)
    return pdf[pdf["date"] <= AS_OF]


@pytest.fixture(scope="module")
def good(cfg) -> pd.DataFrame:
    return forecast_series(_history(), cfg, AS_OF.date())


def test_every_series_gets_28_rows_in_schema_order(good):
    assert list(good.columns) == FORECAST_COLUMNS
    assert good["horizon"].tolist() == list(range(1, 29))
    assert good["ds"].iloc[0] == AS_OF + pd.Timedelta(days=1)
    assert (good["model"] == PROPHET).all() and good["fallback_reason"].isna().all()


def test_intervals_bracket_a_non_negative_forecast(good):
    assert (good["yhat"] >= 0).all()
    assert (good["yhat_lower"] <= good["yhat"]).all() and (good["yhat"] <= good["yhat_upper"]).all()
    assert (good["yhat_upper"] > good["yhat_lower"]).all()


def test_components_add_up_to_the_forecast(good):
    regs = good["regressors"].map(lambda s: sum(json.loads(s).values()))
    total = good["trend"] + good["weekly"] + good["yearly"] + good["holidays"] + regs
    assert np.allclose(total, good["yhat"], rtol=1e-6, atol=1e-6)
    assert set(json.loads(good["regressors"].iloc[0])) == {"temperature", "promo"}


def test_weekly_shape_is_learned(good):
    by_dow = good.groupby(good["ds"].dt.dayofweek)["yhat"].mean()
    assert by_dow[5] > by_dow[1] * 1.3  # Saturday (1.5) well above Tuesday (0.9)


def _assert_fallback(out: pd.DataFrame, reason_prefix: str) -> None:
    assert len(out) == 28
    assert (out["model"] == FALLBACK).all()
    assert out["fallback_reason"].str.startswith(reason_prefix).all(), out["fallback_reason"].iloc[0]
    assert (out["reason_code"] == reason_prefix.split(":")[0]).all()
    assert np.isfinite(out["yhat"]).all() and (out["yhat"] >= 0).all()


def test_five_day_series_falls_back(cfg):
    pdf = make_series(start="2025-05-27", days=5)
    _assert_fallback(forecast_series(pdf, cfg, AS_OF.date()), "too_short")


def test_all_zero_series_falls_back_to_zero(cfg):
    pdf = _history()
    pdf.loc[pdf["y"].notna(), "y"] = 0.0
    out = forecast_series(pdf, cfg, AS_OF.date())
    _assert_fallback(out, "all_zero")
    assert (out["yhat"] == 0).all()


def test_series_restarting_after_a_long_gap_falls_back(cfg):
    pdf = _history()
    gap = (pdf["date"] > "2025-01-20") & (pdf["date"] < "2025-05-20")
    pdf.loc[gap, "y"] = np.nan
    pdf.loc[gap, "is_open"] = False
    _assert_fallback(forecast_series(pdf, cfg, AS_OF.date()), "too_short")


def test_stale_series_falls_back(cfg):
    pdf = _history()
    pdf = pdf[pdf["date"] <= "2025-04-15"]
    _assert_fallback(forecast_series(pdf, cfg, AS_OF.date()), "stale")


def test_nan_regressor_is_filled_and_noted_not_fatal(cfg):
    pdf = _history()
    pdf.loc[pdf.index[20:30], "temperature"] = np.nan
    pdf.loc[pdf.index[40:45], "promo"] = np.nan
    out = forecast_series(pdf, cfg, AS_OF.date())
    assert (out["model"] == PROPHET).all() and np.isfinite(out["yhat"]).all()
    assert "temperature" in out["notes"].iloc[0] and "promo" in out["notes"].iloc[0]


def test_fit_exception_falls_back_with_reason_and_spares_other_series(cfg, monkeypatch):
    original = Prophet.fit

    def flaky_fit(self, df, **kwargs):
        if df["y"].mean() > 500:  # only the big series fails
            raise RuntimeError("optimizer exploded")
        return original(self, df, **kwargs)

    monkeypatch.setattr(Prophet, "fit", flaky_fit)
    big = forecast_series(_history(store_id="S02", level=1000.0), cfg, AS_OF.date())
    _assert_fallback(big, "fit_error: RuntimeError: optimizer exploded")
    assert big["unique_id"].eq("S02/P01").all()
    small = forecast_series(_history(store_id="S03", level=50.0), cfg, AS_OF.date())
    assert (small["model"] == PROPHET).all() and small["fallback_reason"].isna().all()


def test_model_json_round_trip_predicts_the_same(cfg, good):
    pdf = _history()
    row = train_series(pdf, cfg, AS_OF.date()).iloc[0]
    assert row["model"] == PROPHET and row["model_json"]
    fitted = deserialize(row["model_json"])
    dz = design(series_data(pdf, cfg), AS_OF, cfg, weather_until=None, mask_planned=False)
    again = predict_prophet(fitted, dz.future, cfg)
    # forecast_series predicts the residual days and the future in one call: the same numbers as apart.
    for col in ("yhat", "yhat_lower", "yhat_upper"):
        assert np.allclose(again[col], good[col]), col


def test_baseline_models_share_the_forecast_schema(cfg):
    pdf = _history()
    naive = forecast_series(pdf, cfg, AS_OF.date(), model="seasonal_naive")
    assert list(naive.columns) == FORECAST_COLUMNS and len(naive) == 28
    week_ago = pdf.set_index("date")["y"].reindex(naive["ds"].head(7) - pd.Timedelta(days=7)).to_numpy()
    known = ~np.isnan(week_ago)  # Sundays are closed, and the last Saturday has no row
    assert known.sum() == 5 and np.allclose(naive["yhat"].head(7)[known], week_ago[known])
    with pytest.raises(ValueError, match="unknown per-series model"):
        forecast_series(pdf, cfg, AS_OF.date(), model="arima")
