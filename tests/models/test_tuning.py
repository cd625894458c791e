"""Tuning: seeded hyperopt over the configured space, on folds that end before the evaluation window."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bakery.models import tuning
from bakery.models.tuning import params_from_rows, search_space, tune_group, tune_series, tuning_cutoffs
from tests.models.synth import make_series

EVAL_START = pd.Timestamp("2025-06-01")


@pytest.fixture(scope="module")
def fast_cfg(cfg):
    return cfg.with_overrides(
        {"tuning": {"max_evals": 3, "folds": 2, "fold_step_days": 14, "min_improvement": 0.0}}
    )


def test_folds_end_before_the_evaluation_window(fast_cfg):
    cutoffs = tuning_cutoffs(EVAL_START, fast_cfg)
    horizon = pd.Timedelta(days=fast_cfg.tuning["fold_horizon_days"])
    assert len(cutoffs) == 2 and cutoffs == sorted(cutoffs)
    assert max(cutoffs) + horizon < EVAL_START
    assert max(cutoffs) + horizon == EVAL_START - pd.Timedelta(days=1)


def test_space_comes_from_config(cfg):
    assert set(search_space(cfg)) == set(cfg.tuning["space"])


def test_tuning_never_sees_the_evaluation_window(fast_cfg, monkeypatch):
    seen: list[pd.Timestamp] = []
    original = tuning.fit_predict_prophet

    def spy(sd, dz, cfg, params, **kw):
        seen.extend([dz.history["ds"].max(), dz.future["ds"].max()])
        return original(sd, dz, cfg, params, **kw)

    monkeypatch.setattr(tuning, "fit_predict_prophet", spy)
    pdf = make_series(days=200)  # runs into the evaluation window: those rows must stay unseen
    row = tune_series(pdf, fast_cfg, EVAL_START).iloc[0]
    assert seen and max(seen) < EVAL_START
    assert row["n_evals"] == 3 and row["loss"] <= row["default_loss"]
    params = json.loads(row["params"])
    assert set(params) >= set(fast_cfg.tuning["space"])
    assert params_from_rows(pd.DataFrame([row])) == {"S01/P01": params}


def test_seeded_tuning_is_reproducible(fast_cfg):
    pdf = make_series(days=160)
    cfg1 = fast_cfg.with_overrides({"tuning": {"max_evals": 2, "folds": 1}})
    a = tune_series(pdf, cfg1, EVAL_START)
    b = tune_series(pdf, cfg1, EVAL_START)
    assert a["params"].iloc[0] == b["params"].iloc[0]


def test_group_tuning_pools_series_and_shares_one_parameter_set(fast_cfg):
    cfg1 = fast_cfg.with_overrides({"tuning": {"max_evals": 2, "folds": 1, "max_series_per_group": 2}})
    pdf = pd.concat([make_series(store_id=s, seed=k, days=160) for k, s in enumerate(["S1", "S2", "S3"])])
    rows = tune_group(pdf, cfg1, EVAL_START)
    assert rows["unique_id"].tolist() == [
        "S1/P01",
        "S2/P01",
        "S3/P01",
    ]  # every series gets the group's params
    assert rows["params"].nunique() == 1 and (rows["n_series"] == 2).all()  # tuned on a 2-series sample


def test_defaults_are_kept_unless_beaten_by_the_margin(fast_cfg):
    cfg1 = fast_cfg.with_overrides({"tuning": {"max_evals": 2, "folds": 1, "min_improvement": 0.99}})
    row = tune_series(make_series(days=160), cfg1, EVAL_START).iloc[0]
    assert (
        row["reason"].startswith("defaults_kept") and json.loads(row["params"]) == fast_cfg.prophet["params"]
    )


def test_series_too_short_for_any_fold_keeps_defaults(fast_cfg):
    row = tune_series(make_series(start="2025-05-20", days=20), fast_cfg, EVAL_START).iloc[0]
    assert row["reason"].startswith("no_folds") and json.loads(row["params"]) == fast_cfg.prophet["params"]
    assert params_from_rows(pd.DataFrame([row])) == {}
