"""Serving trained models: stored Prophet fits, fallbacks with reasons, the champion choice, gold rows."""

from __future__ import annotations

import dataclasses
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from bakery.models.bundle import TrainedModel
from bakery.models.challenger import LGBM, LightGBMChallenger
from bakery.models.prophet_model import train_series
from bakery.models.serve import explanation, forecast_group, to_gold
from tests.models.synth import make_series

AS_OF = pd.Timestamp("2025-05-20")


def _features(cfg) -> pd.DataFrame:
    """Three series of one store: a healthy one, one with only 5 days of history, and an all-zero one."""
    good = make_series("S01", "P01", days=140, seed=1)
    new = make_series("S01", "P02", start="2025-05-15", days=6 + cfg.max_horizon, seed=2)
    zeros = make_series("S01", "P03", days=140, seed=3).assign(y=lambda d: d["y"].where(d["y"].isna(), 0.0))
    frame = pd.concat([good, new, zeros], ignore_index=True)
    # Rows after AS_OF carry regressors only (weather forecast, planned promotions), no target.
    frame.loc[frame["date"] > AS_OF, "y"] = np.nan
    return frame


@pytest.fixture(scope="module")
def trained(cfg) -> TrainedModel:
    features = _features(cfg)
    history = features[features["date"] <= AS_OF]
    series = pd.concat(
        [train_series(g, cfg, AS_OF) for _, g in history.groupby("unique_id")], ignore_index=True
    )
    global_models = {LGBM: LightGBMChallenger().fit(features, cfg, AS_OF)}
    choice = pd.DataFrame({"unique_id": ["S01/P01"], "model": ["prophet"], "n": [28]})
    return TrainedModel(cfg, series, choice, global_models, meta={"as_of": str(AS_OF.date())})


def test_every_series_gets_28_days_and_short_or_zero_series_say_why(cfg, trained):
    rows = trained.forecast(_features(cfg), AS_OF)
    assert sorted(rows["unique_id"].unique()) == ["S01/P01", "S01/P02", "S01/P03"]
    assert rows.groupby("unique_id")["horizon"].apply(lambda h: sorted(h) == list(range(1, 29))).all()
    assert rows["yhat"].notna().all() and (rows["yhat"] >= 0).all()
    assert (rows["yhat_lower"] <= rows["yhat"]).all() and (rows["yhat"] <= rows["yhat_upper"]).all()
    by_uid = rows.drop_duplicates("unique_id").set_index("unique_id")
    assert by_uid.loc["S01/P01", "model"] == "prophet" and pd.isna(by_uid.loc["S01/P01", "fallback_reason"])
    assert by_uid.loc["S01/P02", "fallback_reason"].startswith("too_short")
    assert (
        pd.isna(by_uid.loc["S01/P01", "reason_code"]) and by_uid.loc["S01/P02", "reason_code"] == "too_short"
    )
    facts = json.loads(by_uid.loc["S01/P02", "reason_facts"])
    assert facts["minimum"] == cfg.fallback["min_history_days"] > facts["days"]
    assert by_uid.loc["S01/P03", "fallback_reason"]  # all zeros: too sparse for Prophet


def test_a_series_new_since_training_is_fitted_at_forecast_time(cfg, trained):
    extra = make_series("S01", "P09", days=140, seed=9)
    extra.loc[extra["date"] > AS_OF, "y"] = np.nan
    rows = forecast_group(extra, trained.models_for("S01"), cfg, AS_OF)
    assert set(rows["model"]) == {"prophet", "seasonal_naive"}
    assert rows["fallback_reason"].isna().all()


def test_a_broken_stored_fit_falls_back_and_records_it(cfg, trained):
    broken = trained.models_for("S01").assign(model_json='{"not": "a prophet model"}')
    rows = forecast_group(_features(cfg), broken, cfg, AS_OF)
    p01 = rows[(rows["unique_id"] == "S01/P01") & (rows["model"] != "seasonal_naive")]
    assert set(p01["model"]) == {"weekday_profile"}
    assert p01["fallback_reason"].str.startswith("predict_error").all()
    assert (p01["reason_code"] == "predict_error").all()


def test_a_nan_regressor_does_not_stop_the_series(cfg, trained):
    features = _features(cfg)
    features.loc[features["date"].between("2025-03-01", "2025-03-20"), "temperature"] = np.nan
    rows = trained.forecast(features, AS_OF)
    assert rows.loc[rows["unique_id"] == "S01/P01", "yhat"].notna().all()


def test_bundle_round_trips_through_files(cfg, trained, tmp_path):
    trained.save(tmp_path / "m")
    loaded = TrainedModel.load(tmp_path / "m")
    a = trained.forecast(_features(cfg), AS_OF)
    b = loaded.forecast(_features(cfg), AS_OF)
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_a_bundle_saved_before_the_global_model_registry_still_serves_its_challenger(cfg, trained, tmp_path):
    served = dataclasses.replace(
        trained, choice=pd.DataFrame({"unique_id": ["S01/P01"], "model": [LGBM], "n": [28]})
    )
    served.save(tmp_path / "m")
    with (tmp_path / "m" / "challenger.pkl").open("wb") as fh:
        pickle.dump(served.global_models[LGBM].fitted, fh)  # what those versions pickled: the bare fit
    old = TrainedModel.load(tmp_path / "m")
    assert isinstance(old.global_models[LGBM], LightGBMChallenger)
    a = served.forecast(_features(cfg), AS_OF)
    assert set(a.loc[a["unique_id"] == "S01/P01", "model"]) == {LGBM, "closed"}  # its shut weekday is 0
    pd.testing.assert_frame_equal(old.forecast(_features(cfg), AS_OF), a)
    with (tmp_path / "m" / "challenger.pkl").open("wb") as fh:
        pickle.dump(None, fh)  # trained when the challenger could not fit: the per-series models serve
    assert TrainedModel.load(tmp_path / "m").global_models == {}


def test_calibrated_intervals_are_saved_served_and_absent_from_older_bundles(cfg, trained, tmp_path):
    scales = pd.DataFrame(
        {
            "model": "prophet",
            "horizon": range(1, 29),
            "scale": 2.0,
            "n": 50,
            "coverage": 0.6,
            "coverage_scaled": 0.8,
        }
    )
    wide = dataclasses.replace(trained, scales=scales)
    wide.save(tmp_path / "wide")
    loaded = TrainedModel.load(tmp_path / "wide")
    pd.testing.assert_frame_equal(loaded.scales, scales)
    a = trained.forecast(_features(cfg), AS_OF).set_index(["unique_id", "ds"])
    b = loaded.forecast(_features(cfg), AS_OF).set_index(["unique_id", "ds"])
    p01 = a.index.get_level_values(0) == "S01/P01"  # served by prophet: its half-widths doubled
    np.testing.assert_allclose((b["yhat_upper"] - b["yhat"])[p01], 2 * (a["yhat_upper"] - a["yhat"])[p01])
    assert (b["yhat_lower"] >= 0).all()
    (tmp_path / "wide" / "interval_scales.parquet").unlink()  # a version registered before calibration
    old = TrainedModel.load(tmp_path / "wide")
    assert old.scales.empty
    pd.testing.assert_frame_equal(old.forecast(_features(cfg), AS_OF).set_index(["unique_id", "ds"]), a)


def test_gold_rows_carry_components_that_sum_to_the_forecast_and_an_explanation(cfg, trained):
    rows = trained.forecast(_features(cfg), AS_OF)
    gold = to_gold(rows, "7", "champion")
    assert list(gold["model_version"].unique()) == ["7"] and list(gold["role"].unique()) == ["champion"]
    p01 = gold[(gold["product_id"] == "P01")]
    comps = p01["components"].map(json.loads)
    sums = comps.map(lambda c: sum(c.values()))
    # Prophet's components add up to its (unclipped) forecast; yhat is clipped at 0.
    assert np.allclose(np.clip(sums, 0, None), p01["yhat"], atol=0.05)
    assert {"trend", "weekly"} <= set(comps.iloc[0])
    assert p01["explanation"].str.len().gt(0).all()
    short = gold[gold["product_id"] == "P02"]
    shut = short["model"] == "closed"  # the synthetic store closes on Sundays
    assert short.loc[~shut, "explanation"].str.startswith("Simpler model used").all()
    assert (
        short.loc[shut, "explanation"]
        .str.startswith("Store expected closed: closed on each of the last")
        .all()
    )
    assert shut.sum() == 4


def test_a_product_the_store_stopped_selling_forecasts_zero_and_says_since_when(cfg, trained):
    dropped = make_series("S01", "P04", days=140, seed=4)
    gone = dropped["date"] > AS_OF - pd.Timedelta(days=40)
    dropped.loc[gone, "y"], dropped.loc[gone, "is_offered"] = np.nan, False
    gold = to_gold(
        trained.forecast(pd.concat([_features(cfg), dropped], ignore_index=True), AS_OF), "7", "champion"
    )
    p04 = gold[gold["product_id"] == "P04"]
    assert len(p04) == cfg.max_horizon and (p04["yhat"] == 0).all() and (p04["yhat_upper"] == 0).all()
    off = p04[p04["model"] == "not_offered"]
    assert (
        len(off) == cfg.max_horizon - 4
        and (p04.loc[p04["model"] != "not_offered", "model"] == "closed").all()
    )
    assert (
        off["explanation"]
        .str.fullmatch(r"Not expected on sale: last on sale 2025-04-10, the store has opened \d+ days since")
        .all()
    )
    p01 = gold[gold["product_id"] == "P01"]
    assert (
        not p01["model"].isin(["not_offered"]).any() and (p01.loc[p01["model"] != "closed", "yhat"] > 0).all()
    )


def test_explanation_names_the_strongest_drivers():
    text = explanation(
        {"trend": 50.0, "weekly": 10.0, "holidays": 9.0, "precipitation": -3.0, "promo": 0.1}, 70.0, None
    )
    assert text == "Main drivers: holidays +9.0, precipitation -3.0"


def test_a_store_without_weather_still_gets_prophet_and_says_so(cfg, trained):
    features = _features(cfg).assign(temperature=np.nan)
    rows = forecast_group(
        features[features["product_id"] == "P01"], trained.models_for("S01").iloc[0:0], cfg, AS_OF
    )
    prophet = rows[rows["model"] == "prophet"]
    assert len(prophet) == 28 and prophet["fallback_reason"].isna().all()
    assert prophet["notes"].str.contains("temperature dropped").all()
