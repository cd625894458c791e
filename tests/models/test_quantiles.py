"""Demand quantiles of the served forecast: calibrated on out-of-sample errors, monotone, scored by pinball loss
and coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bakery.models.quantiles import (
    apply_offsets,
    column,
    levels,
    pinball,
    quantile_at,
    quantile_offsets,
    quantile_report,
    rolling_quantiles,
)


def _rows(n: int, seed: int, cutoffs: int = 1) -> pd.DataFrame:
    """Backtest-shaped rows of skewed demand: y = yhat * lognormal, an interval that is symmetric and too narrow."""
    rng = np.random.default_rng(seed)
    yhat = rng.uniform(20, 200, n)
    y = yhat * rng.lognormal(0.0, 0.3, n)
    start = pd.Timestamp("2024-01-01")
    cutoff = start + pd.to_timedelta(rng.integers(0, cutoffs, n) * 7, unit="D")
    return pd.DataFrame(
        {
            "unique_id": [f"s{i % 20}" for i in range(n)],
            "cutoff": cutoff,
            "ds": cutoff + pd.Timedelta(days=1),
            "horizon": 1,
            "y": y,
            "m": yhat,
            "m_lower": yhat * 0.85,
            "m_upper": yhat * 1.15,
        }
    )


def test_levels_run_from_p05_to_p95_at_least_p10_to_p95(cfg):
    lv = levels(cfg)
    assert lv[0] <= 0.1 and lv[-1] >= 0.95 and lv == sorted(lv)
    assert column(0.05) == "q05" and column(0.9) == "q90"


def test_calibrated_quantiles_cover_their_level_out_of_sample(cfg):
    offsets = quantile_offsets(_rows(20000, 1), "m", cfg)
    test = apply_offsets(_rows(20000, 2), offsets, cfg, "m", "m_lower", "m_upper")
    for level in levels(cfg):
        cover = (test["y"] <= test[column(level)]).mean()
        assert abs(cover - level) < 0.03, (level, cover)
    # the uncalibrated 0.85..1.15 band would have held far fewer than 80%
    assert ((test["y"] >= test["m_lower"]) & (test["y"] <= test["m_upper"])).mean() < 0.5


def test_quantiles_never_cross_even_when_clipped_at_zero(cfg):
    frame = pd.DataFrame(
        {"horizon": [1, 1, 7], "m": [0.5, 0.0, 3.0], "m_lower": [0.0, 0.0, 0.0], "m_upper": [4.0, 0.0, 9.0]}
    )
    out = apply_offsets(frame, None, cfg, "m", "m_lower", "m_upper")
    values = out[[column(x) for x in levels(cfg)]].to_numpy()
    assert (np.diff(values, axis=1) >= 0).all() and (values >= 0).all()
    assert (values[1] == 0).all()  # a closed day (no interval) stays 0 at every level


def test_without_known_rows_the_interval_bounds_are_p10_and_p90(cfg):
    frame = pd.DataFrame({"horizon": [1], "m": [100.0], "m_lower": [80.0], "m_upper": [120.0]})
    offsets = quantile_offsets(frame.iloc[0:0].assign(y=[]), "m", cfg)
    assert (offsets["n"] == 0).all()
    out = apply_offsets(frame, offsets, cfg, "m", "m_lower", "m_upper")
    assert out["q10"].iloc[0] == pytest.approx(80.0) and out["q90"].iloc[0] == pytest.approx(120.0)
    assert out["q50"].iloc[0] == pytest.approx(100.0)


def test_censored_days_do_not_calibrate(cfg):
    rows = _rows(2000, 3)
    shifted = rows.assign(y=rows["y"] * 10, censored=True)
    both = pd.concat([rows.assign(censored=False), shifted], ignore_index=True)
    pd.testing.assert_frame_equal(quantile_offsets(both, "m", cfg), quantile_offsets(rows, "m", cfg))


def test_rolling_quantiles_use_only_rows_known_at_the_cutoff(cfg):
    rows = _rows(3000, 4, cutoffs=10)
    out = rolling_quantiles(rows, cfg, "m")
    first = out[out["cutoff"] == out["cutoff"].min()]
    # nothing was known at the first cutoff: the normal shape on the raw interval
    np.testing.assert_allclose(first["q90"], first["m_upper"])
    later = out[out["cutoff"] == out["cutoff"].max()]
    assert (later["y"] <= later["q90"]).mean() > 0.8


def test_quantile_at_interpolates_between_levels_monotonically(cfg):
    frame = apply_offsets(
        pd.DataFrame({"horizon": [1], "m": [100.0], "m_lower": [80.0], "m_upper": [120.0]}),
        None,
        cfg,
        "m",
        "m_lower",
        "m_upper",
    )
    values = [quantile_at(frame, r, cfg)[0] for r in (0.5, 0.7, 0.75, 0.8, 0.9, 0.93, 0.95)]
    assert values == sorted(values)
    assert values[2] == pytest.approx((values[1] + values[3]) / 2)


def test_pinball_and_report(cfg):
    assert pinball([10.0], [8.0], 0.9)[0] == pytest.approx(1.8)
    assert pinball([10.0], [12.0], 0.9)[0] == pytest.approx(0.2)
    rows = apply_offsets(_rows(500, 5), None, cfg, "m", "m_lower", "m_upper")
    rep = quantile_report(rows, cfg, [1, 7])
    assert rep["q90"]["1"]["n"] == 500 and 0 <= rep["q90"]["1"]["coverage"] <= 1
    assert rep["q90"]["1"]["pinball_pct"] > 0
    assert rep["q90"]["7"] == {"coverage": None, "pinball_pct": None, "n": 0}
