"""Champion selection from backtest rows (seasonal naive always a candidate) and the promotion gate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bakery.models.metrics import evaluate
from bakery.models.selection import (
    add_ensemble,
    apply_selection,
    champion_forecast,
    ensemble_weights,
    promotion_gate,
    rolling_selection,
    select_models,
    with_weights,
)


def _rows() -> pd.DataFrame:
    y = np.array([100.0, 100.0, 100.0, 100.0])
    return pd.DataFrame(
        {
            "unique_id": ["a", "a", "b", "b"],
            "store_id": ["s1", "s1", "s2", "s2"],
            "horizon": [1, 7, 1, 7],
            "y": y,
            "seasonal_naive": [150.0, 150.0, 101.0, 99.0],  # great for b only
            "prophet": [110.0, 90.0, 130.0, 70.0],
            "lgbm": [104.0, 96.0, 120.0, 80.0],
        }
    )


@pytest.fixture
def cfg(cfg):
    """The tests below compare candidates on 2 days a series: no minimum of scored days."""
    return cfg.with_overrides({"selection": {**cfg.selection, "min_pairs": 1}})


def test_each_series_gets_its_best_candidate_and_naive_can_win(cfg):
    rows = add_ensemble(_rows(), ["prophet", "lgbm"])
    choice = select_models(rows, cfg, level="series").set_index("unique_id")
    assert choice.loc["a", "model"] == "lgbm"  # 4% vs ensemble 7%: better by more than the margin
    assert choice.loc["b", "model"] == "seasonal_naive"


def test_the_default_is_kept_on_too_few_scored_days(cfg):
    rows = add_ensemble(_rows(), ["prophet", "lgbm"])
    few = select_models(rows, cfg.with_overrides({"selection": {**cfg.selection, "min_pairs": 3}}))
    assert few["model"].tolist() == ["ensemble", "ensemble"] and few["n"].tolist() == [2, 2]
    assert select_models(rows, cfg.with_overrides({"selection": {**cfg.selection, "min_pairs": 2}}))[
        "model"
    ].tolist() == ["lgbm", "seasonal_naive"]


def test_default_is_kept_unless_clearly_beaten(cfg):
    rows = _rows().assign(lgbm=[106.0, 94.0, 101.0, 99.0], prophet=[106.5, 93.5, 101.0, 99.0])
    rows = add_ensemble(rows, ["prophet", "lgbm"])  # a: ensemble 6.25%, lgbm 6%: within the 5% margin
    choice = select_models(rows, cfg).set_index("unique_id")
    assert choice.loc["a", "model"] == "ensemble"


def test_store_level_selection(cfg):
    rows = add_ensemble(_rows(), ["prophet", "lgbm"])
    choice = select_models(rows, cfg, level="store")
    assert list(choice.columns[:2]) == ["store_id", "model"]


def test_apply_selection_uses_the_choice_and_defaults_for_new_series(cfg):
    rows = add_ensemble(_rows(), ["prophet", "lgbm"])
    choice = select_models(rows, cfg)
    new = rows.assign(unique_id=["a", "a", "c", "c"])
    out = apply_selection(new, choice, cfg)
    assert out["champion"].tolist() == [104.0, 96.0, 125.0, 75.0]  # a -> lgbm, unseen c -> ensemble


def test_bad_level_is_named(cfg):
    with pytest.raises(ValueError, match="level"):
        select_models(_rows(), cfg, level="region")


def test_gate_passes_a_clear_improvement_and_explains_a_failure(cfg):
    rows = _rows().assign(horizon=[1, 1, 7, 7], seasonal_naive=[150.0, 150.0, 130.0, 70.0])
    rows = rows.assign(lgbm=[104.0, 96.0, 97.0, 103.0], prophet=[110.0, 90.0, 120.0, 80.0])
    scores = evaluate(rows, ["seasonal_naive", "prophet", "lgbm"])
    assert promotion_gate(scores, "lgbm", "prophet", cfg).ok
    failed = promotion_gate(scores, "prophet", "lgbm", cfg)
    assert not failed.ok and any("champion" in r for r in failed.reasons)


def _forecast_rows(model: str, uid: str, yhat: list[float], regs: dict[str, float]) -> pd.DataFrame:
    ds = pd.date_range("2025-06-01", periods=len(yhat))
    return pd.DataFrame(
        {
            "unique_id": uid,
            "store_id": uid[:2],
            "product_id": "P1",
            "as_of": pd.Timestamp("2025-05-31"),
            "ds": ds,
            "horizon": range(1, len(yhat) + 1),
            "model": model,
            "yhat": yhat,
            "yhat_lower": [v - 1 for v in yhat],
            "yhat_upper": [v + 1 for v in yhat],
            "trend": yhat,
            "weekly": 0.0,
            "yearly": 0.0,
            "holidays": 0.0,
            "regressors": json.dumps(regs),
            "fallback_reason": None,
            "reason_code": None,
            "launched_on": None,
            "reason_facts": None,
            "notes": None,
        }
    )


def test_champion_forecast_serves_each_series_choice_and_averages_the_ensemble(cfg):
    candidates = {
        name: pd.concat(
            [_forecast_rows(name, "s1/P1", vals, regs), _forecast_rows(name, "s2/P1", vals, regs)]
        )
        for name, vals, regs in [
            ("prophet", [10.0, 20.0], {"temperature": 2.0}),
            ("lgbm", [14.0, 24.0], {"temperature": 4.0}),
            ("seasonal_naive", [9.0, 9.0], {}),
        ]
    }
    choice = pd.DataFrame({"unique_id": ["s1/P1"], "model": ["lgbm"]})
    out = champion_forecast(candidates, choice, cfg).set_index(["unique_id", "horizon"])
    assert out.loc[("s1/P1", 1), "model"] == "lgbm" and out.loc[("s1/P1", 1), "yhat"] == 14.0
    assert out.loc[("s2/P1", 2), "model"] == "ensemble" and out.loc[("s2/P1", 2), "yhat"] == 22.0
    assert json.loads(out.loc[("s2/P1", 1), "regressors"]) == {"temperature": 3.0}
    assert len(out) == 4


def test_without_the_challenger_the_ensemble_default_falls_back_to_prophet_not_seasonal_naive(cfg):
    """The challenger may not train (too little data) or predict: the ensemble cannot be formed, and its
    available member serves, in backtests, in the choice and in the served forecast."""
    rows = _rows().drop(columns="lgbm")
    assert "ensemble" not in rows.columns
    champion = apply_selection(rows, pd.DataFrame({"unique_id": ["b"], "model": ["ensemble"]}), cfg)
    assert champion["champion"].tolist() == rows["prophet"].tolist()  # a: never chosen, b: chose the ensemble
    choice = select_models(rows.assign(prophet=[104.0, 96.0, 130.0, 70.0]), cfg).set_index("unique_id")
    assert choice.loc["a", "model"] == "prophet"  # the default now; naive is not 20% better on a
    candidates = {
        name: _forecast_rows(name, "s1/P1", vals, {})
        for name, vals in [("prophet", [10.0, 20.0]), ("seasonal_naive", [9.0, 9.0])]
    }
    served = champion_forecast(candidates, pd.DataFrame({"unique_id": ["s1/P1"], "model": ["ensemble"]}), cfg)
    assert served["model"].tolist() == ["prophet", "prophet"]


def test_the_ensemble_carries_each_members_fallback_and_regressors_and_skips_days_one_member_lacks(cfg):
    prophet = _forecast_rows("prophet", "s1/P1", [10.0, 20.0, 30.0], {"temperature": 2.0, "promo": 1.0})
    prophet["fallback_reason"], prophet["reason_code"] = "short_history: 30 observed days", "short_history"
    lgbm = _forecast_rows("lgbm", "s1/P1", [14.0, 24.0], {"temperature": 4.0})
    lgbm.loc[1, "notes"] = "new product"
    choice = pd.DataFrame({"unique_id": ["s1/P1"], "model": ["ensemble"]})
    out = champion_forecast({"prophet": prophet, "lgbm": lgbm}, choice, cfg).set_index("horizon")
    assert list(out.index) == [1, 2]  # day 3: only prophet forecast it
    assert out["yhat"].tolist() == [12.0, 22.0]
    assert json.loads(out.loc[1, "regressors"]) == {"temperature": 3.0, "promo": 0.5}
    assert out["fallback_reason"].tolist() == ["short_history: 30 observed days"] * 2
    assert out["reason_code"].tolist() == ["short_history"] * 2 and out["launched_on"].isna().all()
    assert out.loc[1, "notes"] is None and out.loc[2, "notes"] == "new product"


def test_gate_does_not_hold_a_challenger_to_a_bar_the_champion_fails_too(cfg):
    # Both over-forecast (bias > max_abs_bias); the challenger is less biased and more accurate.
    scores = {
        "seasonal_naive": {1: {"wmape": 30.0, "bias": 0.0}},
        "new": {1: {"wmape": 20.0, "bias": 15.0}},
        "old": {1: {"wmape": 22.0, "bias": 18.0}},
    }
    assert promotion_gate(scores, "new", "old", cfg).ok
    # Without a champion (or against a less biased one) the absolute bound holds.
    assert not promotion_gate(scores, "new", None, cfg).ok
    scores["old"][1]["bias"] = 5.0
    failed = promotion_gate(scores, "new", "old", cfg)
    assert not failed.ok and any("bias" in r for r in failed.reasons)


def _weighted_cfg(cfg, level="series", prior=0.0, method="grid"):
    weights = {
        "level": level,
        "method": method,
        "horizon_buckets": [1, 7, 28],
        "prior_pairs": prior,
        "grid_step": 0.05,
        "drop_margin": 0.35,
        "min_pairs": 28,
    }
    return cfg.with_overrides({"selection": {**cfg.selection, "ensemble_weights": weights}})


def _member_rows(n: int = 40) -> pd.DataFrame:
    """Two series of one store; prophet is right at every horizon, lgbm right at D+1 only and 40% low beyond."""
    h = np.tile([1, 7, 28, 14], n // 4)
    y = np.full(len(h), 100.0)
    lgbm = np.where(h == 1, 100.0, 60.0)
    frame = pd.DataFrame({"horizon": h, "y": y, "prophet": y + np.where(h == 1, 8.0, 0.0), "lgbm": lgbm})
    return pd.concat(
        [frame.assign(unique_id="s1/a", store_id="s1"), frame.assign(unique_id="s1/b", store_id="s1")],
        ignore_index=True,
    )


def test_ensemble_weights_follow_the_member_that_is_right_at_each_horizon(cfg):
    """A member that lags at longer horizons loses its weight there only, and the weighted ensemble beats the
    plain mean where it does."""
    wcfg = _weighted_cfg(cfg)
    weights = ensemble_weights(_member_rows(), wcfg).set_index(["unique_id", "bucket"])
    assert weights.loc[("s1/a", 1), "weight_lgbm"] == pytest.approx(1.0)
    assert weights.loc[("s1/a", 7), "weight_prophet"] == pytest.approx(1.0)
    assert weights.loc[("s1/a", 28), "weight_prophet"] == pytest.approx(1.0)  # h 14 and 28: bucket 8..28
    rows = add_ensemble(_member_rows(), ["prophet", "lgbm"], weights=weights.reset_index(), cfg=wcfg)
    plain = add_ensemble(_member_rows(), ["prophet", "lgbm"])
    assert (rows["ensemble"] - rows["y"]).abs().sum() == 0
    assert (plain["ensemble"] - plain["y"]).abs().sum() > 0


def test_thin_evidence_keeps_the_weights_near_equal(cfg):
    """With prior_pairs rows of evidence equal weights count as much as the data: 20 rows per bucket and series
    against a prior of 180 leave lgbm 0.45 of its D+28 weight; the store pools its 2 series (40 rows)."""
    series = ensemble_weights(_member_rows(), _weighted_cfg(cfg, prior=180.0)).set_index(
        ["unique_id", "bucket"]
    )
    assert series.loc[("s1/a", 28), "weight_lgbm"] == pytest.approx(0.5 * 180 / 200)
    store = ensemble_weights(_member_rows(), _weighted_cfg(cfg, "store", 180.0)).set_index(
        ["unique_id", "bucket"]
    )
    assert store.loc[("s1/b", 28), "weight_lgbm"] == pytest.approx(0.5 * 180 / 220)
    assert ensemble_weights(_member_rows(), _weighted_cfg(cfg, "none")).empty


def test_the_served_ensemble_uses_the_weights_the_choice_carries(cfg):
    wcfg = _weighted_cfg(cfg)
    weights = ensemble_weights(_member_rows(), wcfg)
    choice = with_weights(pd.DataFrame({"unique_id": ["s1/a"], "model": ["ensemble"]}), weights)
    assert "weight_lgbm_h28" in choice.columns
    candidates = {
        name: _forecast_rows(name, "s1/a", vals, {"temperature": t})
        for name, vals, t in [("prophet", [10.0, 20.0], 2.0), ("lgbm", [14.0, 24.0], 4.0)]
    }
    out = champion_forecast(candidates, choice, wcfg).set_index("horizon")
    assert out.loc[1, "yhat"] == pytest.approx(14.0)  # D+1: lgbm's weight 1
    assert out.loc[2, "yhat"] == pytest.approx(20.0)  # D+2..7: prophet's
    assert json.loads(out.loc[1, "regressors"]) == {"temperature": 4.0}


def test_bad_ensemble_weight_settings_are_named(cfg):
    with pytest.raises(ValueError, match="ensemble_weights.level"):
        ensemble_weights(_member_rows(), _weighted_cfg(cfg, level="region"))
    bad = cfg.with_overrides(
        {"selection": {**cfg.selection, "ensemble_weights": {"level": "store", "horizon_buckets": [1, 7]}}}
    )
    with pytest.raises(ValueError, match="horizon_buckets"):
        ensemble_weights(_member_rows(), bad)


def test_a_member_that_loses_clearly_across_a_store_is_dropped_only_where_it_does(cfg):
    """method drop: lgbm 40% off beyond D+1 over 40 rows of the store at D+8..28 leaves the ensemble there; at D+1
    (prophet 8% off: within the margin) and at D+2..7 (20 rows, under min_pairs) both members stay, equally."""
    weights = ensemble_weights(_member_rows(), _weighted_cfg(cfg, "store", method="drop"))
    by_bucket = weights.set_index(["unique_id", "bucket"])
    assert (
        by_bucket.loc[("s1/a", 28), "weight_lgbm"] == 0 and by_bucket.loc[("s1/b", 28), "weight_prophet"] == 1
    )
    assert by_bucket.loc[("s1/a", 1), "weight_lgbm"] == 0.5
    assert by_bucket.loc[("s1/a", 7), "weight_lgbm"] == 0.5


def test_rolling_selection_rebuilds_the_ensemble_from_the_days_known_at_each_cutoff(cfg):
    """`bakery backtest`: at the first cutoff nothing is known (plain mean); at the second, the first cutoff's days
    show lgbm 40% off beyond D+1 across the store, and the ensemble there is prophet alone."""
    wcfg = _weighted_cfg(cfg, "store", method="drop")
    first = _member_rows().assign(cutoff=pd.Timestamp("2025-01-01"))
    first["ds"] = first["cutoff"] + pd.to_timedelta(first["horizon"], unit="D")
    second = first.assign(cutoff=pd.Timestamp("2025-03-01"), ds=first["ds"] + pd.Timedelta(days=59))
    rows = pd.concat([first, second], ignore_index=True).assign(seasonal_naive=100.0)
    out = rolling_selection(add_ensemble(rows, ["prophet", "lgbm"]), wcfg)
    later = out[(out["cutoff"] == pd.Timestamp("2025-03-01")) & (out["horizon"] == 28)]
    assert (later["ensemble"] == later["prophet"]).all() and (later["champion"] == later["prophet"]).all()
    early = out[(out["cutoff"] == pd.Timestamp("2025-01-01")) & (out["horizon"] == 28)]
    assert (early["ensemble"] == (early["prophet"] + early["lgbm"]) / 2).all()
