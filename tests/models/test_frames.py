"""Canonical long frame: closed / not-offered days dropped, stock-outs censored, regressors as known at a cutoff."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bakery.models.frames import climatology, design, series_data, to_long
from tests.models.synth import make_series


def _three_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "store_id": ["S1", "S1", "S1", "S1"],
            "product_id": ["P1"] * 4,
            "date": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]),
            "y": [5.0, None, 0.0, 7.5],
            "is_open": [True, False, True, True],
            "is_offered": [True, True, True, False],
            "stockout": [False, False, True, False],
            "temperature": [1.0, 2.0, None, 4.0],
        }
    )


def test_closed_and_not_offered_days_are_dropped_zero_sales_kept(cfg):
    long = to_long(_three_rows(), cfg)
    assert long["ds"].dt.day.tolist() == [1, 3]
    assert long["y"].tolist() == [5.0, 0.0]
    assert long["unique_id"].unique().tolist() == ["S1/P1"]


def test_stockout_days_are_marked_censored(cfg):
    long = to_long(_three_rows(), cfg)
    assert long.set_index(long["ds"].dt.day)["censored"].to_dict() == {1: False, 3: True}


def test_duplicate_key_is_a_clear_error(cfg):
    rows = pd.concat([_three_rows(), _three_rows().head(1)])
    with pytest.raises(ValueError, match="unique_id=S1/P1 date=2025-01-01"):
        to_long(rows, cfg)


def test_negative_quantity_names_the_row(cfg):
    rows = _three_rows()
    rows.loc[3, "y"] = -1.0
    with pytest.raises(ValueError, match="row 3 .*date=2025-01-04"):
        to_long(rows, cfg)


def test_missing_column_is_named(cfg):
    with pytest.raises(ValueError, match=r"\['y'\]"):
        to_long(_three_rows().drop(columns="y"), cfg)


def test_climatology_is_a_day_of_year_mean():
    ds = pd.to_datetime(["2023-03-01", "2024-03-01", "2024-06-01"])
    clim = climatology(pd.DataFrame({"ds": ds, "t": [2.0, 4.0, 20.0]}), ["t"], window=1)
    assert clim.loc[pd.Timestamp("2023-03-01").dayofyear, "t"] == pytest.approx(2.0)
    assert clim.loc[ds[2].dayofyear, "t"] == pytest.approx(20.0)


def test_weather_past_the_lookahead_is_climatology_from_data_up_to_the_cutoff(cfg):
    pdf = make_series(start="2023-01-01", days=800)
    sd = series_data(pdf, cfg)
    cutoff = pd.Timestamp("2024-06-30")
    dz = design(sd, cutoff, cfg, weather_until=cutoff + pd.Timedelta(days=2), mask_planned=True)
    actual = sd.regs.set_index("ds")["temperature"]
    fut = dz.future.set_index("ds")["temperature"]
    # within the lookahead: the observed weather
    for k in (1, 2):
        day = cutoff + pd.Timedelta(days=k)
        assert fut[day] == pytest.approx(actual[day])
    # past it: the climatology of data <= cutoff, whatever the later data says
    past = sd.regs[sd.regs["ds"] <= cutoff]
    clim = climatology(past, ["temperature"], cfg.climatology_window_days)["temperature"]
    for k in (3, 10, 28):
        day = cutoff + pd.Timedelta(days=k)
        assert fut[day] == pytest.approx(clim[day.dayofyear])
    assert dz.future["promo"].eq(0).all()  # planned values past the cutoff are unknown in backtests


def test_nan_weather_in_history_is_filled_and_noted(cfg):
    pdf = make_series(days=120)
    pdf.loc[10:14, "temperature"] = np.nan
    sd = series_data(pdf, cfg)
    dz = design(sd, pd.Timestamp("2025-04-20"), cfg, weather_until=None, mask_planned=False)
    assert dz.history["temperature"].notna().all()
    assert any("temperature" in n and "filled" in n for n in dz.notes)


def test_text_columns_are_not_regressors_and_nullable_flags_become_floats(cfg):
    rows = _three_rows().assign(
        event_name=["fair", None, None, None],
        promo=pd.array([True, None, False, True], dtype="boolean"),
        y=pd.array([5.0, None, 0.0, 7.5], dtype="Float64"),
    )
    long = to_long(rows, cfg)
    assert "event_name" not in long.columns
    assert long["promo"].tolist() == [1.0, 0.0] and long["y"].dtype == "float64"
