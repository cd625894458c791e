"""Prophet's CmdStan hand-off: the configured L-BFGS stopping rule reaches CmdStan, barely moves the
forecast, and never breaks the short series that Prophet fits with Newton."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from prophet import Prophet

from bakery.models.stan_backend import FastJsonBackend, with_fast_backend
from tests.models.synth import make_series


def _train(days: int) -> pd.DataFrame:
    pdf = make_series(days=days, closed_weekday=None)
    return pdf.rename(columns={"date": "ds"})[["ds", "y"]]


def _fit(train: pd.DataFrame, lbfgs: dict | None) -> Prophet:
    return with_fast_backend(Prophet(uncertainty_samples=0), lbfgs).fit(train)


def _cmdstan_output(model: Prophet) -> str:
    return Path(model.stan_backend.stan_fit.runset.stdout_files[0]).read_text()


def test_configured_tolerance_reaches_cmdstan_and_the_forecast_barely_moves():
    train = _train(400)
    default, loose = _fit(train, None), _fit(train, {"tol_rel_grad": 1e10})
    assert "tol_rel_grad = 10000000000\n" in _cmdstan_output(loose)
    assert "tol_rel_grad = 10000000 (Default)" in _cmdstan_output(default)
    future = default.make_future_dataframe(28, include_history=False)
    a, b = default.predict(future)["yhat"].to_numpy(), loose.predict(future)["yhat"].to_numpy()
    assert np.abs(a - b).sum() / np.abs(a).sum() < 0.02


def test_short_series_fits_with_newton_despite_lbfgs_options():
    model = _fit(_train(60), {"tol_rel_grad": 1e10})  # < 100 observations: Prophet uses Newton
    assert "algorithm = newton" in _cmdstan_output(model)
    assert np.isfinite(model.params["k"]).all()


def test_unknown_optimizer_option_is_named():
    with pytest.raises(
        ValueError, match=r"prophet.optimizer: unknown L-BFGS option\(s\) \['tol_rel_gradient'\]"
    ):
        FastJsonBackend({"tol_rel_gradient": 1e10})
