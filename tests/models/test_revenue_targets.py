"""Targets in revenue instead of units: large, fractional values must forecast like the same sales in units."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bakery.models.bundle import TrainedModel
from bakery.models.challenger import LGBM, LightGBMChallenger
from bakery.models.prophet_model import train_series
from tests.models.synth import make_series

AS_OF = pd.Timestamp("2025-05-20")
PRICE = 3.85  # revenue = units x price: same shape, other scale, never whole numbers


def _features(scale: float) -> pd.DataFrame:
    frame = pd.concat(
        [
            make_series("S01", "P01", days=170, seed=1),
            make_series("S01", "P02", days=170, level=12.0, seed=2),
        ],
        ignore_index=True,
    )
    frame["y"] = frame["y"] * scale
    frame.loc[frame["date"] > AS_OF, "y"] = np.nan
    return frame


def _forecast(features: pd.DataFrame, cfg) -> pd.DataFrame:
    history = features[features["date"] <= AS_OF]
    series = pd.concat(
        [train_series(g, cfg, AS_OF) for _, g in history.groupby("unique_id")], ignore_index=True
    )
    global_models = {LGBM: LightGBMChallenger().fit(features, cfg, AS_OF)}
    # The ensemble (Prophet + LightGBM) for one series, LightGBM alone for the other: every model family.
    choice = pd.DataFrame({"unique_id": ["S01/P01", "S01/P02"], "model": ["ensemble", "lgbm"], "n": [28, 28]})
    trained = TrainedModel(cfg, series, choice, global_models, meta={"as_of": str(AS_OF.date())})
    return trained.forecast(features, AS_OF).sort_values(["unique_id", "horizon"]).reset_index(drop=True)


def test_revenue_targets_forecast_the_same_shape_as_units(cfg):
    units = _forecast(_features(1.0), cfg)
    revenue = _forecast(_features(PRICE), cfg)
    assert revenue.groupby("unique_id")["model"].first().to_dict() == {
        "S01/P01": "ensemble",
        "S01/P02": "lgbm",
    }
    assert revenue["fallback_reason"].isna().all()
    assert len(revenue) == 2 * cfg.max_horizon
    # Every day, bound and series scales by the price (to optimiser and tree-binning noise), so a chain that
    # reports revenue gets the same forecast as one that reports units, in its own currency.
    for col in ("yhat", "yhat_lower", "yhat_upper"):
        np.testing.assert_allclose(
            revenue[col], PRICE * units[col], rtol=0.03, atol=0.05 * PRICE, err_msg=col
        )
    # The synthetic stores close on Sundays: those days forecast 0 (bakery.models.opening), the others more.
    shut = revenue["model"] == "closed"
    assert (revenue.loc[~shut, "yhat"] > 0).all() and (revenue.loc[shut, "yhat"] == 0).all()
    assert set(pd.to_datetime(revenue.loc[shut, "ds"]).dt.weekday) == {6}
