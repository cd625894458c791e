"""LeanProphet builds exactly Prophet's component matrix, so fits, forecasts and JSON are unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from prophet import Prophet
from prophet.serialize import model_from_json, model_to_json

from bakery.models.lean_prophet import LeanProphet
from tests.models.synth import make_series


def _data(days: int = 800) -> pd.DataFrame:
    pdf = make_series(days=days, closed_weekday=None).rename(columns={"date": "ds"})
    pdf["before_holiday"] = (pdf["ds"].dt.day == 1).astype(float)
    return pdf[["ds", "y", "temperature", "promo", "before_holiday"]]


HOLIDAYS = pd.DataFrame(
    {
        "holiday": ["Christmas Eve", "New Year's Eve", "Christmas Eve"],
        "ds": pd.to_datetime(["2025-12-24", "2025-12-31", "2026-12-24"]),
        "lower_window": [0, -1, 0],
        "upper_window": [1, 0, 1],
    }
)

SHAPES = {
    # The forecaster's Prophet: multiplicative, a holiday table, pooled days-around and weather regressors.
    "multiplicative_with_holidays_and_regressors": dict(
        kwargs=dict(seasonality_mode="multiplicative", holidays=HOLIDAYS, uncertainty_samples=0),
        regressors={
            "temperature": {},
            "promo": {"mode": "additive"},
            "before_holiday": {"standardize": False},
        },
        country=None,
    ),
    # The default-Prophet baseline: defaults plus national holidays.
    "default_with_country_holidays": dict(kwargs=dict(uncertainty_samples=0), regressors={}, country="DE"),
    "additive_regressors_only": dict(
        kwargs=dict(yearly_seasonality=False, uncertainty_samples=0),
        regressors={"temperature": {}},
        country=None,
    ),
    # No seasonality, holiday or regressor at all: Prophet's 'zeros' placeholder column.
    "nothing_but_trend": dict(
        kwargs=dict(
            yearly_seasonality=False, weekly_seasonality=False, daily_seasonality=False, uncertainty_samples=0
        ),
        regressors={},
        country=None,
    ),
}


def _fit(cls: type[Prophet], shape: dict, data: pd.DataFrame) -> Prophet:
    model = cls(**shape["kwargs"])
    if shape["country"]:
        model.add_country_holidays(country_name=shape["country"])
    for name, opts in shape["regressors"].items():
        model.add_regressor(name, **opts)
    return model.fit(data[["ds", "y", *shape["regressors"]]])


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_same_component_matrix_fit_and_forecast_as_prophet(name):
    shape, data = SHAPES[name], _data()
    train, future = data.iloc[:-28], data.iloc[-28:].drop(columns="y")
    plain, lean = _fit(Prophet, shape, train), _fit(LeanProphet, shape, train)
    pd.testing.assert_frame_equal(lean.train_component_cols, plain.train_component_cols)
    assert lean.component_modes == plain.component_modes
    for key in plain.params:
        np.testing.assert_array_equal(lean.params[key], plain.params[key])
    columns = [*shape["regressors"]]
    pd.testing.assert_frame_equal(
        lean.predict(future[["ds", *columns]]), plain.predict(future[["ds", *columns]])
    )
    # The JSON is plain Prophet's: Prophet loads it and predicts the same.
    again = model_from_json(model_to_json(lean))
    assert type(again) is Prophet
    pd.testing.assert_frame_equal(
        again.predict(future[["ds", *columns]]), plain.predict(future[["ds", *columns]])
    )
