"""Cold start: a launching product a store has not sold yet gets a forecast from analogues, from its launch day."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bakery.models.cold_start import COLD_START, backtest_cold_starts, cold_start_rows, launching, relaunched
from bakery.models.opening import close_days
from bakery.models.output import FORECAST_COLUMNS

AS_OF = pd.Timestamp("2026-03-02")
DAYS = pd.date_range(AS_OF + pd.Timedelta(days=1), periods=28, freq="D")


def _series(store: str, product: str, level: float) -> pd.DataFrame:
    """28 forecast days of one series: level on weekdays, 1.5 x level on Saturdays, interval +-20%."""
    yhat = np.where(DAYS.dayofweek == 5, 1.5 * level, level)
    return pd.DataFrame(
        {
            "unique_id": f"{store}/{product}",
            "store_id": store,
            "product_id": product,
            "as_of": AS_OF,
            "ds": DAYS,
            "horizon": np.arange(1, 29, dtype="int32"),
            "model": "prophet",
            "yhat": yhat,
            "yhat_lower": 0.8 * yhat,
            "yhat_upper": 1.2 * yhat,
            "trend": yhat,
            "weekly": 0.0,
            "yearly": 0.0,
            "holidays": 0.0,
            "regressors": "{}",
            "fallback_reason": None,
            "reason_code": None,
            "launched_on": None,
            "reason_facts": None,
            "notes": None,
        }
    )[FORECAST_COLUMNS]


def _products(**launches: str | None) -> pd.DataFrame:
    cats = {
        "B1": "bread",
        "B2": "bread",
        "C1": "pastry",
        "C2": "pastry",
        "C3": "pastry",
        "NEWC": "pastry",
        "NEWB": "bread",
        "NEWX": "cakes",
    }
    return pd.DataFrame(
        {
            "product_id": list(cats),
            "category": list(cats.values()),
            "launched_on": [launches.get(p) for p in cats],
        }
    )


@pytest.fixture
def rows() -> pd.DataFrame:
    """Store S2 is twice the size of S1 in bread; NEWB already sells at S1."""
    parts = [
        _series("S1", "B1", 100),
        _series("S1", "B2", 50),
        _series("S1", "C1", 30),
        _series("S1", "C2", 20),
        _series("S1", "C3", 10),
        _series("S1", "NEWB", 40),
        _series("S2", "B1", 200),
        _series("S2", "B2", 100),
        _series("S2", "C1", 12),
        _series("S2", "C2", 9),
    ]
    return pd.concat(parts, ignore_index=True)


def test_a_product_new_to_the_chain_gets_the_median_of_the_stores_category_from_its_launch(cfg, rows):
    launch = AS_OF + pd.Timedelta(days=3)
    out = cold_start_rows(rows, _products(NEWC=f"{launch:%Y-%m-%d}"), cfg, AS_OF)
    assert set(out["unique_id"]) == {"S1/NEWC", "S2/NEWC"}
    assert list(out.columns) == FORECAST_COLUMNS and (out["model"] == COLD_START).all()
    for store, median, low, high in (("S1", 20.0, 8.0, 36.0), ("S2", 10.5, 0.8 * 9, 1.2 * 12)):
        mine = out[out["store_id"] == store].set_index("ds")
        assert mine.index.min() == launch and len(mine) == 26  # nothing before the launch day
        weekday = mine[mine.index.dayofweek == 2].iloc[0]
        assert weekday["yhat"] == pytest.approx(median)
        assert (weekday["yhat_lower"], weekday["yhat_upper"]) == pytest.approx((low, high))
        assert np.allclose(mine.loc[mine.index.dayofweek == 5, "yhat"], 1.5 * median)
    assert (out["horizon"] == (out["ds"] - AS_OF).dt.days).all()
    reason = out["fallback_reason"].iloc[0]
    assert reason.startswith(f"{COLD_START}: not sold here yet (launched {launch:%Y-%m-%d})")
    assert "median of this store's 3 other pastry products" in reason
    assert (out["reason_code"] == COLD_START).all() and (out["launched_on"] == launch.date()).all()


def test_a_product_selling_at_another_store_is_scaled_to_this_stores_size(cfg, rows):
    out = cold_start_rows(rows, _products(NEWB=f"{AS_OF - pd.Timedelta(days=5):%Y-%m-%d}"), cfg, AS_OF)
    assert set(out["unique_id"]) == {"S2/NEWB"}  # S1 sells it already: its own series serves
    s2 = out.set_index("ds")
    # S2 sells twice S1's bread: 2 x S1's 40 a day.
    assert s2.loc[s2.index.dayofweek == 0, "yhat"].iloc[0] == pytest.approx(80.0)
    assert len(s2) == 28 and "its forecast at 1 other store, scaled" in s2["fallback_reason"].iloc[0]


def test_a_category_without_other_products_falls_back_to_all_the_stores_products(cfg, rows):
    out = cold_start_rows(rows, _products(NEWX=f"{AS_OF:%Y-%m-%d}"), cfg, AS_OF)
    s1 = out[out["store_id"] == "S1"].set_index("ds")
    assert s1.loc[s1.index.dayofweek == 0, "yhat"].iloc[0] == pytest.approx(
        35.0
    )  # median of 100,50,30,20,10,40
    assert "6 other products" in s1["fallback_reason"].iloc[0]


@pytest.mark.parametrize(
    "launched, expected",
    [
        (
            AS_OF - pd.Timedelta(days=20),
            False,
        ),  # launched weeks ago and never sold here: the store does not sell it
        (AS_OF + pd.Timedelta(days=40), False),  # beyond the forecast window
        (AS_OF - pd.Timedelta(days=13), True),
        (AS_OF + pd.Timedelta(days=28), True),
        (None, False),  # no launch date: a catalogue entry, not a launch
    ],
)
def test_only_products_launching_in_the_window_start_cold(cfg, rows, launched, expected):
    day = None if launched is None else f"{launched:%Y-%m-%d}"
    assert (not cold_start_rows(rows, _products(NEWC=day), cfg, AS_OF).empty) is expected
    assert (len(launching(_products(NEWC=day), cfg, AS_OF)) == 1) is expected


def test_it_can_be_switched_off(cfg, rows):
    off = cfg.with_overrides({"cold_start": {"enabled": False}})
    assert cold_start_rows(rows, _products(NEWC=f"{AS_OF:%Y-%m-%d}"), off, AS_OF).empty


def test_days_a_product_is_off_sale_are_no_analogue_and_closed_days_still_forecast_zero(cfg, rows):
    launch = f"{AS_OF:%Y-%m-%d}"
    zero = pd.concat(
        [
            pd.DataFrame(
                {"store_id": "S1", "product_id": "C3", "ds": DAYS, "model": "not_offered", "reason": "gone"}
            ),
            pd.DataFrame(
                {
                    "store_id": "S1",
                    "product_id": None,
                    "ds": DAYS[DAYS.dayofweek == 6],
                    "model": "closed",
                    "reason": "shut on Sundays",
                }
            ),
        ],
        ignore_index=True,
    )
    out = cold_start_rows(rows, _products(NEWC=launch), cfg, AS_OF, zero)
    s1 = out[out["store_id"] == "S1"].set_index("ds")
    assert s1.loc[s1.index.dayofweek == 0, "yhat"].iloc[0] == pytest.approx(
        25.0
    )  # median of C1, C2 (C3 is off sale)
    served = close_days(pd.concat([rows, out], ignore_index=True), zero)
    sundays = served[(served["unique_id"] == "S1/NEWC") & (served["ds"].dt.dayofweek == 6)]
    assert len(sundays) == 4 and (sundays["yhat"] == 0).all() and (sundays["model"] == "closed").all()


def test_no_other_series_means_no_cold_start(cfg):
    empty = pd.DataFrame(columns=FORECAST_COLUMNS)
    assert cold_start_rows(empty, _products(NEWC=f"{AS_OF:%Y-%m-%d}"), cfg, AS_OF).empty


def test_forecast_days_as_dates_work_the_same(cfg, rows):
    """Rows read back from Spark may carry python dates instead of timestamps."""
    launch = f"{AS_OF + pd.Timedelta(days=3):%Y-%m-%d}"
    as_dates = rows.assign(ds=rows["ds"].dt.date)
    out = cold_start_rows(as_dates, _products(NEWC=launch), cfg, AS_OF.date())
    expected = cold_start_rows(rows, _products(NEWC=launch), cfg, AS_OF)
    assert len(out) == len(expected) == 52
    assert np.allclose(out["yhat"], expected["yhat"]) and (out["horizon"] == expected["horizon"]).all()


def test_a_product_launched_again_is_no_longer_expected_off_sale_from_its_new_launch(cfg):
    """S1 stopped selling C3 weeks ago (off sale every day ahead); its new launch date brings it back from that day."""
    zero = pd.concat(
        [
            pd.DataFrame(
                {"store_id": "S1", "product_id": "C3", "ds": DAYS, "model": "not_offered", "reason": "gone"}
            ),
            pd.DataFrame(
                {"store_id": "S1", "product_id": "C2", "ds": DAYS, "model": "not_offered", "reason": "gone"}
            ),
            pd.DataFrame(
                {
                    "store_id": "S1",
                    "product_id": None,
                    "ds": DAYS[DAYS.dayofweek == 6],
                    "model": "closed",
                    "reason": "shut on Sundays",
                }
            ),
        ],
        ignore_index=True,
    )
    launch = AS_OF + pd.Timedelta(days=10)
    products = _products().assign(
        launched_on=lambda p: np.where(p["product_id"] == "C3", f"{launch:%Y-%m-%d}", None)
    )
    kept = relaunched(zero, products, cfg, AS_OF)
    c3 = kept[kept["product_id"] == "C3"]
    assert len(c3) == 9 and (pd.to_datetime(c3["ds"]) < launch).all()  # off sale until the relaunch only
    assert (kept["product_id"] == "C2").sum() == 28  # not launching: unchanged
    assert (kept["model"] == "closed").sum() == 4  # closures stay
    assert relaunched(zero, _products(), cfg, AS_OF).equals(zero)


def _backtest_rows(forecasts: pd.DataFrame, cutoff: pd.Timestamp, horizons=(1, 7, 28)) -> pd.DataFrame:
    """Champion backtest rows at one cutoff from forecast rows (as_of = cutoff), at the given horizons."""
    f = forecasts[forecasts["horizon"].isin(horizons)]
    return pd.DataFrame(
        {
            "unique_id": f["unique_id"],
            "store_id": f["store_id"],
            "product_id": f["product_id"],
            "cutoff": cutoff,
            "ds": f["ds"],
            "horizon": f["horizon"],
            "y": f["yhat"],
            "censored": False,
            "champion": f["yhat"],
            "champion_lower": f["yhat_lower"],
            "champion_upper": f["yhat_upper"],
            "seasonal_naive": f["yhat"],
        }
    ).reset_index(drop=True)


def test_a_backtest_scores_the_cold_start_a_cutoff_would_have_served_on_the_days_the_launch_then_sold(
    cfg, rows
):
    """At a cutoff before S2's first sale of NEWB (launched the day after), the pipeline would have cold-started it
    from S1's forecast scaled by the stores' bread sizes (S2 twice S1): the backtest scores that on S2's sales."""
    rows2 = _backtest_rows(rows, AS_OF)
    first = AS_OF + pd.Timedelta(days=7)  # S2 sells NEWB from D+7; a day it did not open is not scored
    observed = pd.DataFrame(
        {
            "unique_id": "S2/NEWB",
            "ds": [first, AS_OF + pd.Timedelta(days=28)],
            "y": [70.0, 90.0],
            "censored": [False, True],
        }
    )
    products = _products(NEWB=f"{AS_OF + pd.Timedelta(days=1):%Y-%m-%d}")
    out = backtest_cold_starts(rows2, observed, products, cfg, "champion")
    assert out["unique_id"].tolist() == ["S2/NEWB", "S2/NEWB"] and out["horizon"].tolist() == [7, 28]
    assert out["cutoff"].eq(AS_OF).all() and out["y"].tolist() == [70.0, 90.0]
    assert out["censored"].tolist() == [False, True]
    s1 = rows.set_index(["unique_id", "ds"])["yhat"]
    assert out[COLD_START].tolist() == pytest.approx([2 * s1[("S1/NEWB", d)] for d in out["ds"]])
    assert (out[f"{COLD_START}_lower"] <= out[COLD_START]).all() and (
        out[COLD_START] <= out[f"{COLD_START}_upper"]
    ).all()
    # A later cutoff, after the store's first sale, forecasts the series with its own model: no cold start.
    later = _backtest_rows(rows.assign(as_of=first), first)
    assert backtest_cold_starts(later, observed, products, cfg, "champion").empty
    # Nor without a launch date in the catalogue, or with the feature off.
    assert backtest_cold_starts(rows2, observed, _products(), cfg, "champion").empty
    off = cfg.with_overrides({"cold_start": {"enabled": False}})
    assert backtest_cold_starts(rows2, observed, products, off, "champion").empty
