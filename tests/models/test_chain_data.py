"""The real ddop bakery chain through the model core: its traps are handled and a real series forecasts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from bakery.models.prophet_model import PROPHET, forecast_series

BENCH = Path(__file__).resolve().parents[2] / "bench" / "accuracy.py"


def _load_chain():
    spec = importlib.util.spec_from_file_location("bench_accuracy", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not (module.DATA / "bakery_data.csv").exists():
        pytest.skip(f"real chain data not found at {module.DATA}")
    return module.load_chain()


@pytest.fixture(scope="module")
def chain() -> pd.DataFrame:
    return _load_chain()


def test_closed_days_follow_the_date_not_the_shifted_weekday_column(chain):
    assert "weekday" not in chain.columns
    closed = chain.loc[~chain["is_open"], ["store_id", "date"]].drop_duplicates()
    by_weekday = closed["date"].dt.dayofweek.value_counts(normalize=True)
    assert by_weekday.idxmax() == 6 and by_weekday[6] > 0.4  # Sundays by date (the column says Saturday)
    assert chain.loc[~chain["is_open"], "y"].isna().all()
    s = chain[chain["unique_id"] == "2/101"].set_index("date")
    assert not s.loc["2016-12-25", "is_open"]  # Christmas Day, a Sunday in 2016


def test_mostly_closed_stores_are_closed_not_zero_demand(chain):
    s5 = chain[(chain["store_id"] == "5") & (chain["date"] < "2018-01-01")]
    assert s5["y"].isna().all() and not s5["is_open"].any()


def test_fractional_demand_is_kept(chain):
    assert (chain["y"].dropna() % 1 != 0).sum() > 0


def test_a_real_series_forecasts_28_days_with_prophet(chain, cfg):
    pdf = chain[(chain["unique_id"] == "24/101") & (chain["date"] <= "2018-12-31")]
    out = forecast_series(pdf, cfg, pd.Timestamp("2018-12-31").date())
    assert len(out) == 28 and (out["model"] == PROPHET).all()
    assert out["yhat"].between(0, 5 * pdf["y"].max()).all()


@pytest.mark.slow  # the challenger fitted on the whole real chain: minutes
def test_the_challengers_intervals_stay_in_proportion_on_the_real_chain(chain, cfg):
    """Regression: with raw levels as quantile weights, 49 of 4,942 evaluation pairs had an upper bound above
    10x the forecast (up to 10^8 rolls for store 34 on 2019-04-23)."""
    from bakery.models.challenger import build_panel, fit_challenger, predict_forecast

    panel = build_panel(chain, cfg)
    cutoff = pd.Timestamp("2019-04-22")
    rows = predict_forecast(panel, fit_challenger(panel, cutoff, cfg, with_intervals=True), cfg, cutoff)
    assert len(rows) == 105 * 28
    assert (rows["yhat_upper"] <= 10 * rows["yhat"].clip(lower=1)).all(), rows.nlargest(3, "yhat_upper")
    assert (rows["yhat_lower"] <= rows["yhat"]).all() and (rows["yhat"] <= rows["yhat_upper"]).all()
