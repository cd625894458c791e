"""A home trained once for the forecasting tests of every module here."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakery.forecasting.forecast import run_forecast
from bakery.forecasting.train import run_train
from bakery.lakehouse import Lakehouse
from tests.conftest import SMALL_END, copy_home

AS_OF = SMALL_END  # the small demo's last day of data


@pytest.fixture(scope="session")
def trained_home(spark, built_small, tmp_path_factory) -> Path:
    """A copy of the small demo built to gold, with one model trained and registered and forecasts written.
    Tests copy it before changing anything."""
    assert built_small.report.ok
    settings = copy_home(built_small.settings, tmp_path_factory.mktemp("fc") / "home")
    lh = Lakehouse(spark, settings)
    run_train(lh, settings, as_of=AS_OF)
    run_forecast(lh, settings, as_of=AS_OF)
    return settings.home
