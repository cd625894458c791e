"""Forecasting end to end on a real lakehouse: Spark training, the MLflow registry, gold forecasts,
the promotion gate, rollback, crash safety and the backtest report (docs/contract.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from bakery.config import load_settings
from bakery.forecasting import registry
from bakery.forecasting.forecast import run_forecast
from bakery.forecasting.tables import BACKTEST_METRICS, FORECASTS, STORE_FORECASTS
from bakery.forecasting.train import run_train
from bakery.lakehouse import Lakehouse
from bakery.models.config import load_model_config
from bakery.tables import BAKE_PLAN
from tests.conftest import SMALL_END

AS_OF = SMALL_END  # the small demo's last day of data
pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning"
)


def _lh(spark, home: Path) -> tuple[Lakehouse, object]:
    settings = load_settings(home=home)
    return Lakehouse(spark, settings), settings


def _copy(home: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "home"
    shutil.copytree(home, dest)
    return dest


def _cli(home: Path, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "bakery.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )


def test_every_series_gets_d1_to_d28_with_intervals_versions_and_explanations(spark, trained_home):
    lh, settings = _lh(spark, trained_home)
    fc = lh.read(*FORECASTS).toPandas()
    series = lh.read("gold", "features").select("store_id", "product_id").distinct().count()
    champ = fc[fc["role"] == "champion"]
    assert champ.groupby(["store_id", "product_id"]).size().eq(28).all()
    assert len(champ.groupby(["store_id", "product_id"])) == series
    assert set(champ["as_of"]) == {AS_OF}
    assert sorted(champ["horizon"].unique()) == list(range(1, 29))
    assert (champ["date"] == champ["as_of"] + champ["horizon"].map(lambda h: timedelta(days=int(h)))).all()
    assert (champ["yhat_lower"] <= champ["yhat"]).all() and (champ["yhat"] <= champ["yhat_upper"]).all()
    assert champ["model_version"].eq("1").all()
    assert champ["components"].map(lambda c: "trend" in json.loads(c)).all()
    assert champ["explanation"].str.len().gt(0).all()
    # Store totals are the sum of their products' forecasts.
    totals = lh.read(*STORE_FORECASTS).toPandas()
    totals = totals[totals["role"] == "champion"].set_index(["store_id", "date"])["yhat"]
    summed = champ.groupby(["store_id", "date"])["yhat"].sum()
    assert (totals.reindex(summed.index) - summed).abs().max() < 1e-6


def test_training_keeps_the_champions_out_of_sample_forecasts_for_history(spark, trained_home):
    """A new installation's History page has something to show: the selection backtest's champion forecasts,
    each made at a cutoff before its day, with their intervals."""
    lh, _ = _lh(spark, trained_home)
    rows = lh.read("gold", "backtest_results").toPandas()
    assert set(rows["model"]) == {"champion"} and len(rows) > 0
    assert (pd.to_datetime(rows["cutoff"]) < pd.to_datetime(rows["date"])).all()
    assert set(rows["horizon"]) == set(range(1, 29)) and rows["yhat_lower"].notna().mean() > 0.9


def test_mlflow_holds_the_run_lineage_metrics_and_champion_alias(trained_home):
    settings = load_settings(home=trained_home)
    assert (trained_home / "mlflow" / "mlflow.db").exists()
    champ = registry.by_alias(settings, registry.CHAMPION)
    assert champ is not None and champ.version == "1"
    run = MlflowClient(registry.tracking_uri(settings)).get_run(champ.run_id)
    assert run.data.tags["delta.gold.features"].isdigit()
    assert len(run.data.tags["git_commit"]) in (40, 7) or run.data.tags["git_commit"] == "unknown"
    for h in (1, 7, 28):
        assert f"champion_wmape_h{h}" in run.data.metrics
        assert f"seasonal_naive_wmape_h{h}" in run.data.metrics
    assert any(k.startswith("champion_wmape_h7_store_") for k in run.data.metrics)
    assert "as_of" in run.data.params
    # Interval calibration measured on the selection backtest, per candidate and horizon.
    for model in ("prophet", "lgbm", "ensemble"):
        scale = run.data.metrics[f"interval_scale_{model}_h7"]
        before = run.data.metrics[f"interval_coverage_{model}_h7"]
        after = run.data.metrics[f"interval_coverage_calibrated_{model}_h7"]
        assert 0.5 <= scale <= 3.0 and 0 <= before <= 1 and 0 <= after <= 1
        assert (after >= before) if scale >= 1 else (after <= before)


def test_the_registered_pyfunc_forecasts_from_features(spark, trained_home):
    import mlflow.pyfunc

    lh, settings = _lh(spark, trained_home)
    registry.client(settings)
    model = mlflow.pyfunc.load_model(f"models:/{registry.model_name(settings)}@champion")
    features = lh.read("gold", "features").where("product_id = 'P001' or product_id = 'P002'").toPandas()
    out = model.predict(features, params={"as_of": str(AS_OF)})
    assert len(out) == 28 * features["unique_id"].nunique()
    assert out["yhat"].notna().all()


def test_forecast_rerun_changes_nothing(spark, trained_home, tmp_path):
    home = _copy(trained_home, tmp_path)
    lh, settings = _lh(spark, home)
    before = (
        lh.read(*FORECASTS)
        .toPandas()
        .sort_values(["store_id", "product_id", "date", "role"])
        .reset_index(drop=True)
    )
    run_forecast(lh, settings, as_of=AS_OF)
    after = (
        lh.read(*FORECASTS)
        .toPandas()
        .sort_values(["store_id", "product_id", "date", "role"])
        .reset_index(drop=True)
    )
    assert len(after) == len(before)
    assert after[["yhat", "yhat_lower", "yhat_upper"]].equals(before[["yhat", "yhat_lower", "yhat_upper"]])


def test_a_launching_product_starts_cold_at_every_store_from_its_launch_day(spark, trained_home, tmp_path):
    """A product in the catalogue with a launch date in the next days and no sales anywhere: every store gets a
    forecast from its launch on, the median of the store's products of its category, with the reason; days the store
    is expected closed stay 0, and the store totals include it."""
    from pyspark.sql import functions as F

    lh, settings = _lh(spark, _copy(trained_home, tmp_path))
    launch = AS_OF + timedelta(days=3)
    template = lh.read("silver", "products").where("product_id = 'P001'")
    category = template.first()["category"]
    lh.append(
        template.withColumn("product_id", F.lit("PNEW"))
        .withColumn("name", F.lit("Launch loaf"))
        .withColumn("launched_on", F.lit(launch)),
        "silver",
        "products",
    )
    run_forecast(lh, settings, as_of=AS_OF)
    fc = lh.read(*FORECASTS).where(f"as_of = DATE'{AS_OF}' and role = 'champion'").toPandas()
    new = fc[fc["product_id"] == "PNEW"]
    assert set(new["store_id"]) == set(fc["store_id"])
    assert (
        new.groupby("store_id")["date"]
        .agg(["min", "size"])
        .eq(pd.Series({"min": launch, "size": 26}))
        .all()
        .all()
    )
    assert set(new["model"]) <= {"cold_start", "closed"} and "cold_start" in set(new["model"])
    served = new[new["model"] == "cold_start"]
    assert (served["yhat"] > 0).all() and (served["yhat_lower"] <= served["yhat"]).all()
    assert (served["reason_code"] == "cold_start").all() and (served["launched_on"] == launch).all()
    assert (
        served["explanation"]
        .str.startswith(f"Simpler model used: cold_start: not sold here yet (launched {launch})")
        .all()
    )
    assert (new.loc[new["model"] == "closed", "yhat"] == 0).all()
    # The median of the store's other products of the category, day by day.
    cats = (
        lh.read("silver", "products")
        .select("product_id", "category")
        .toPandas()
        .set_index("product_id")["category"]
    )
    peers = fc[
        (fc["product_id"] != "PNEW") & fc["product_id"].map(cats).eq(category) & (fc["model"] != "closed")
    ]
    median = peers.groupby(["store_id", "date"])["yhat"].median()
    got = served.set_index(["store_id", "date"])["yhat"]
    assert (got - median.reindex(got.index)).abs().max() < 1e-6
    totals = lh.read(*STORE_FORECASTS).where(f"as_of = DATE'{AS_OF}' and role = 'champion'").toPandas()
    summed = fc.groupby(["store_id", "date"])["yhat"].sum()
    assert (totals.set_index(["store_id", "date"])["yhat"].reindex(summed.index) - summed).abs().max() < 1e-6


def test_a_crash_mid_forecast_leaves_no_half_written_as_of(spark, trained_home, tmp_path):
    home = _copy(trained_home, tmp_path)
    nxt = AS_OF - timedelta(days=1)
    killed = _cli(
        home,
        "forecast",
        "--as-of",
        str(nxt),
        env_extra={"BAKERY_FAULT_POINT": "forecast_before_write", "BAKERY_FAULT_DELAY": "1.5"},
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    lh, _ = _lh(spark, home)
    fc = lh.read(*FORECASTS).toPandas()
    counts = fc[fc["as_of"] == nxt].groupby("role").size()
    full = fc[fc["as_of"] == AS_OF].groupby("role").size()
    # Either the whole as-of date landed or none of it did.
    assert counts.empty or counts.equals(full)


def test_a_failed_gate_keeps_the_champion_serving_and_adds_a_shadow(
    spark, trained_home, tmp_path, bakery_cli
):
    home = _copy(trained_home, tmp_path)
    lh, settings = _lh(spark, home)
    strict = load_model_config().with_overrides({"gate": {"max_wmape_ratio_vs_champion": 0.5}})
    result = run_train(lh, settings, as_of=AS_OF, cfg=strict)
    assert not result.promoted and result.gate["reasons"]
    assert registry.by_alias(settings, registry.CHAMPION).version == "1"
    assert registry.by_alias(settings, registry.CHALLENGER).version == result.version
    run_forecast(lh, settings, as_of=AS_OF)
    fc = lh.read(*FORECASTS).toPandas()
    assert set(fc.loc[fc["role"] == "shadow", "model_version"]) == {result.version}
    assert set(fc.loc[fc["role"] == "champion", "model_version"]) == {"1"}

    # A hand promotion of a gate-failing version needs --force; rollback restores version 1 at once.
    # (The refusal runs as the console script does, in its own process; the rest in-process.)
    refused = _cli(home, "model", "promote", "--version", result.version)
    assert refused.returncode == 1 and "did not pass the promotion gate" in refused.stderr
    forced = bakery_cli(home, "model", "promote", "--version", result.version, "--force")
    assert forced.returncode == 0, forced.stderr[-2000:]
    assert registry.by_alias(settings, registry.CHAMPION).version == result.version
    back = bakery_cli(home, "model", "rollback")
    assert back.returncode == 0, back.stderr[-2000:]
    assert registry.by_alias(settings, registry.CHAMPION).version == "1"
    listed = json.loads(bakery_cli(home, "model", "list").stdout)
    assert {r["version"] for r in listed} == {"1", result.version}
    assert [r["version"] for r in listed if "champion" in r["aliases"]] == ["1"]


def test_backtest_report_follows_the_contract(spark, trained_home, tmp_path, bakery_cli, small_demo):
    home = _copy(trained_home, tmp_path)
    # Sales imported but not ingested (`bakery import` then straight to `bakery backtest`): ingested first.
    lh, settings = _lh(spark, home)
    store, product = lh.read("gold", "features").select("store_id", "product_id").first()
    day = AS_OF + timedelta(days=1)
    # ... and a product launched the day after the second cutoff, sold at one store since (on its open days): the
    # cutoffs before its first sale would have cold-started it there, and the report scores that apart.
    launch = AS_OF - timedelta(days=34)
    open_days = sorted(
        {
            r.date
            for r in lh.read("gold", "daily_sales")
            .where(f"store_id = '{store}' AND date >= '{launch}' AND is_open")
            .select("date")
            .collect()
        }
    )
    category = lh.read("silver", "products").where(f"product_id = '{product}'").first().category
    catalogue = tmp_path / "new_product.csv"
    catalogue.write_text(f"product_id,name,category,launched_on\nPNEW,Nuevo,{category},{launch}\n")
    assert bakery_cli(home, "import", "products", str(catalogue)).returncode == 0
    pos = tmp_path / "new_product_pos.csv"  # the store has POS on those days, which outranks daily uploads
    pos.write_text(
        "transaction_id,timestamp,store_id,product_id,quantity_sold,price_unit,total_amount\n"
        + "".join(
            f"T-NEW-{i},{d}T10:00:00,{store},PNEW,{20 + i % 7},1.5,{1.5 * (20 + i % 7)}\n"
            for i, d in enumerate(open_days)
        )
    )
    assert bakery_cli(home, "import", "pos", str(pos)).returncode == 0
    sales = tmp_path / "late_sales.csv"
    sales.write_text(f"date,store_id,product_id,quantity_sold\n{day},{store},{product},37\n")
    assert bakery_cli(home, "import", "sales", str(sales)).returncode == 0
    out = tmp_path / "report.json"
    start, end = AS_OF - timedelta(days=42), AS_OF - timedelta(days=28)
    truth = small_demo.out / "_truth" / "demand.parquet"
    done = bakery_cli(
        home,
        "backtest",
        "--start",
        str(start),
        "--end",
        str(end),
        "--step",
        "7",
        "--out",
        str(out),
        "--decisions",
        "0.5,0.9",
        "--truth",
        str(truth),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "held files not ingested yet; ingested them first" in done.stdout
    assert "cold_start: 1 series of launching products scored on" in done.stdout
    daily = lh.read("gold", "daily_sales").where(
        f"store_id = '{store}' AND product_id = '{product}' AND date = '{day}'"
    )
    assert [r.quantity_sold for r in daily.collect()] == [37.0]
    rep = json.loads(out.read_text())
    assert rep["cutoffs"] == 3 and rep["horizons"] == [1, 7, 28]
    assert rep["baseline"] == "seasonal_naive" and rep["weather_lookahead_days"] == 2
    assert rep["champion"] in rep["models"] and "seasonal_naive" in rep["models"]
    # The launch is scored on its own days at every horizon; the other models never saw it.
    assert {h: m["n"] for h, m in rep["models"]["cold_start"].items()} == {"1": 1, "7": 1, "28": 2}
    for model in rep["models"].values():
        assert set(model) == {"1", "7", "28"}
        for m in model.values():
            assert {"wmape", "mae", "rmse", "mape", "bias", "n"} <= set(m) and m["n"] > 0
    # Interval coverage of every model with intervals, the champion's as served (calibrated).
    cover = rep["interval_coverage"]
    assert cover["nominal"] == 0.8 and {"prophet", "lgbm", "ensemble", "champion"} <= set(cover)
    assert all(
        set(cover[m]) == {"1", "7", "28"} and all(0 <= v <= 1 for v in cover[m].values())
        for m in ("prophet", "lgbm", "ensemble", "champion")
    )
    # Demand quantiles of the champion as served: scored per level and horizon, never crossing.
    quantiles = rep["quantiles"]
    cols = [f"q{round(level * 100):02d}" for level in quantiles["levels"]]
    assert quantiles["levels"][0] <= 0.1 and quantiles["levels"][-1] >= 0.95
    covers = [quantiles[c]["1"]["coverage"] for c in cols]
    assert quantiles[cols[0]]["1"]["n"] > 0 and covers == sorted(covers)
    assert all(quantiles[c]["1"]["pinball_pct"] > 0 for c in cols)
    # The bake plan against the other policies at D+1, on the same pairs, against the generator's true demand.
    decisions = rep["decisions"]
    assert set(decisions) == {"0.5", "0.9"} and rep["decisions_scored_against"] == "true demand"
    for by_policy in decisions.values():
        assert set(by_policy) == {"plan", "point_forecast", "last_week", "saa", "perfect"}
        assert len({p["n"] for p in by_policy.values()}) == 1 and by_policy["plan"]["n"] > 0
        assert by_policy["perfect"]["cost_per_day"] == 0
        assert all(p["cost_per_day"] >= 0 and p["cost_eur_per_day"] >= 0 for p in by_policy.values())
    money = rep["decisions_cost_model"]
    assert 0 < money["mean_critical_ratio"] < 1 and money["perfect"]["cost_eur_per_day"] == 0
    assert money["plan"]["cost_eur_per_day"] == pytest.approx(
        money["plan"]["waste_eur_per_day"] + money["plan"]["lost_margin_eur_per_day"], abs=1e-3
    )
    assert "plan/point_forecast" in done.stdout
    lh, _ = _lh(spark, home)
    metrics = lh.read(*BACKTEST_METRICS).where("source = 'backtest'").toPandas()
    assert set(metrics["horizon"]) == {1, 7, 28} and metrics["store_id"].isna().any()
    results = lh.read("gold", "backtest_results").toPandas()
    champ = results[results["model"] == "champion"]
    assert len(champ) > 0 and champ["yhat_lower"].notna().mean() > 0.9
    bounded = champ.dropna(subset=["yhat_lower", "yhat_upper"])
    assert (bounded["yhat_lower"] <= bounded["yhat"]).all() and (
        bounded["yhat"] <= bounded["yhat_upper"]
    ).all()
    assert results.loc[results["model"] == "seasonal_naive", "yhat_upper"].isna().all()


def test_backtest_rows_gain_bounds_on_a_table_written_before_them(spark, trained_home, tmp_path):
    import pandas as pd

    from bakery.forecasting.tables import write_backtest_rows

    lh, _ = _lh(spark, _copy(trained_home, tmp_path))
    old = lh.spark.createDataFrame(
        [("r0", "S1/P1", "S1", "P1", AS_OF, AS_OF, 1, 5.0, "champion", 4.0)],
        "run_id string, unique_id string, store_id string, product_id string, cutoff date, date date, horizon int, "
        "y double, model string, yhat double",
    )
    lh.append(old, "gold", "backtest_results")
    rows = pd.DataFrame(
        {
            "unique_id": ["S1/P1"],
            "store_id": ["S1"],
            "product_id": ["P1"],
            "cutoff": [AS_OF],
            "ds": [AS_OF + timedelta(days=7)],
            "horizon": [7],
            "y": [6.0],
            "champion": [5.0],
            "champion_lower": [3.0],
            "champion_upper": [8.0],
            "seasonal_naive": [4.0],
        }
    )
    assert write_backtest_rows(lh, rows, ["champion", "seasonal_naive"], "r1") == 2
    got = lh.read("gold", "backtest_results").toPandas()
    before = got[got["run_id"] == "r0"].iloc[0]
    assert before["yhat"] == 4.0 and before[["yhat_lower", "yhat_upper"]].isna().all()  # kept, bounds null
    new = got[got["run_id"] == "r1"].set_index("model")
    assert new.loc["champion", ["yhat_lower", "yhat_upper"]].tolist() == [3.0, 8.0]
    assert new.loc["seasonal_naive", ["yhat_lower", "yhat_upper"]].isna().all()


def test_backtest_rejects_bad_parameters_by_name(trained_home, tmp_path, bakery_cli):
    bad = bakery_cli(
        trained_home,
        "backtest",
        "--start",
        "2026-03-01",
        "--end",
        "2026-02-01",
        "--out",
        str(tmp_path / "r.json"),
    )
    assert bad.returncode == 2 and "--end" in bad.stderr
    bad = bakery_cli(
        trained_home,
        "backtest",
        "--start",
        "2026-03-01",
        "--end",
        "2026-03-08",
        "--horizons",
        "1,90",
        "--out",
        str(tmp_path / "r.json"),
    )
    assert bad.returncode == 2 and "--horizons" in bad.stderr
    for extra, named in (
        (["--decisions", "0.5,1.5"], "--decisions"),
        (["--decisions", "0.9", "--horizons", "7"], "--horizons must include 1"),
        (["--truth", str(tmp_path / "none.parquet")], "--truth"),
    ):
        bad = bakery_cli(
            trained_home,
            "backtest",
            "--start",
            "2026-03-01",
            "--end",
            "2026-03-08",
            "--out",
            str(tmp_path / "r.json"),
            *extra,
        )
        assert bad.returncode == 2 and named in bad.stderr, bad.stderr


def test_forecast_without_a_model_says_what_to_do(spark, tmp_path, bakery_cli):
    done = bakery_cli(tmp_path / "empty", "forecast")
    assert done.returncode == 1 and "bakery train" in done.stderr


def test_status_lists_the_registered_model_and_forecasts(spark, trained_home, bakery_cli):
    done = bakery_cli(trained_home, "status", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    status = json.loads(done.stdout)
    assert status["forecasts"]["latest_as_of"] == str(AS_OF)
    assert status["forecasts"]["horizon_days"] == 28
    assert any("champion" in m["aliases"] for m in status["models"])


def test_reading_the_registry_for_status_prints_no_migration_chatter(trained_home):
    """MLflow's SQLite stores run alembic, whose logging set-up prints INFO lines on stderr; `bakery status` keeps
    them out (a fresh process, as a user's: in this session the stores were opened already)."""
    code = (
        "import json, sys; from bakery.config import load_settings; from bakery.ops.status import _models; "
        "print(json.dumps(_models(load_settings(home=sys.argv[1]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(trained_home)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert any("champion" in m["aliases"] for m in json.loads(done.stdout))
    assert "alembic" not in done.stderr and "Context impl" not in done.stderr, done.stderr[-2000:]


def test_pipeline_trains_only_when_due(spark, trained_home, tmp_path):
    from bakery.forecasting.daily import train_due

    lh, settings = _lh(spark, trained_home)
    assert train_due(lh, settings, AS_OF) is None
    assert train_due(lh, settings, AS_OF + timedelta(days=7)).startswith("champion version 1")
    from bakery.ops.retrain import clear_retrain_flag, request_retrain

    home = _copy(trained_home, tmp_path)
    s2 = load_settings(home=home)
    request_retrain(s2, "test", "upload of sales")
    assert "retrain requested" in train_due(lh, s2, AS_OF)
    clear_retrain_flag(s2)


def test_the_pipeline_works_from_the_latest_sales_when_they_are_weeks_old(spark, trained_home):
    """A history imported from years ago, or a feed stopped for weeks: training on the run date's eve would find no
    data (the global model's cutoff fell outside it); the models work from the latest sales day and say so."""
    from bakery.forecasting.daily import models_as_of

    lh, settings = _lh(spark, trained_home)
    assert models_as_of(lh, settings, AS_OF + timedelta(days=1)) == (AS_OF, None)
    # Late files, even for weeks: "tomorrow" stays tomorrow for the app.
    assert models_as_of(lh, settings, AS_OF + timedelta(days=29)) == (AS_OF + timedelta(days=28), None)
    assert models_as_of(lh, settings, AS_OF + timedelta(days=30))[0] == AS_OF
    day, note = models_as_of(lh, settings, AS_OF + timedelta(days=2000))
    assert day == AS_OF and note.startswith(f"latest sales are from {AS_OF}, 1999 days before")


def test_a_pipeline_run_years_after_the_history_forecasts_from_it_and_keeps_it(spark, trained_home, tmp_path):
    """`bakery pipeline` without --as-of over a history that ended years ago: forecasts as of its last day, and
    retention measured from that day too, so the first run does not delete the history it was given."""
    from bakery.pipeline import run_pipeline

    lh, settings = _lh(spark, _copy(trained_home, tmp_path))
    sales = lh.read("gold", "daily_sales").count()
    report = run_pipeline(lh, settings, as_of=AS_OF + timedelta(days=2000))
    assert report.ok, report.render()
    assert any(
        f"models trained and forecasting from {AS_OF}" in line for line in report.render().splitlines()
    )
    assert lh.read("gold", "daily_sales").count() == sales
    assert lh.read(*FORECASTS).where(f"as_of = DATE'{AS_OF}'").count() > 0
    # The night is monitored as of the day the models worked from: inputs compared for drift, a run recorded.
    monitor = lh.read("ops", "runs").where("job = 'monitor'").collect()
    assert [r["status"] for r in monitor] == ["success"], monitor
    assert json.loads(monitor[0]["details"])["evaluated_on"] == AS_OF.isoformat()
    assert any("monitoring:" in note for note in report.notes)
    # Tomorrow's bake plan follows the forecasts, one row per served series.
    plan = lh.read("ops", "runs").where("job = 'bake_plan'").collect()
    assert [r["status"] for r in plan] == ["success"], plan
    served = lh.read(*FORECASTS).where(f"as_of = DATE'{AS_OF}' AND horizon = 1 AND role = 'champion'").count()
    assert lh.read(*BAKE_PLAN).where(f"date = DATE'{AS_OF + timedelta(days=1)}'").count() == served


def test_nightly_models_job_forecasts_without_retraining_a_recent_champion(spark, trained_home, tmp_path):
    import runpy

    from tests import REPO_ROOT

    home = _copy(trained_home, tmp_path)
    job = runpy.run_path(str(REPO_ROOT / "jobs" / "models.py"), run_name="jobs_models")
    assert job["main"](["--home", str(home), "--as-of", str(AS_OF)]) == 0
    lh, settings = _lh(spark, home)
    fc = lh.read(*FORECASTS).toPandas()
    # Run date AS_OF forecasts as of the day before; the champion (trained to AS_OF) is not retrained.
    assert set(fc.loc[fc["as_of"] == AS_OF - timedelta(days=1), "model_version"]) == {"1"}
    plan = lh.read(*BAKE_PLAN).where(f"date = DATE'{AS_OF}'").toPandas()  # the run date's bake plan
    assert len(plan) > 0 and set(plan["as_of"]) == {AS_OF - timedelta(days=1)}
    assert [r.version for r in registry.versions(settings)] == ["1"]
    runs = lh.read("ops", "runs").where("job = 'forecast'").count()
    assert runs >= 1


def test_the_nightly_bake_plan_bakes_the_quantile_at_each_products_critical_ratio(
    spark, trained_home, tmp_path
):
    """gold.bake_plan for tomorrow: per store and product the quantity, the forecast and quantile behind it, the
    stock carried over from inventory, the costs' source and the forecast version; a rerun changes nothing but
    takes in and scores a manager's override landed by the app."""
    from bakery.app.auth import Principal
    from bakery.app.db import Database
    from bakery.app.overrides import OverrideRequest, save_override
    from bakery.decisions.costs import load_cost_model, product_costs
    from bakery.decisions.io import read_ingredient_prices, read_product_prices
    from bakery.decisions.nightly import run_bake_plan
    from bakery.decisions.overrides import load_override_rules
    from bakery.tables import DAILY_SALES, OVERRIDE_SCORES

    lh, settings = _lh(spark, _copy(trained_home, tmp_path))
    result = run_bake_plan(lh, settings, AS_OF)
    tomorrow = AS_OF + timedelta(days=1)
    plan = lh.read(*BAKE_PLAN).toPandas()
    served = lh.read(*FORECASTS).where(
        f"as_of = DATE'{AS_OF}' AND date = DATE'{tomorrow}' AND role = 'champion'"
    )
    served = served.toPandas().set_index(["store_id", "product_id"])
    assert result.rows == len(plan) == len(served) and set(plan["date"]) == {tomorrow}
    plan = plan.set_index(["store_id", "product_id"])
    assert (plan["forecast"] == served.loc[plan.index, "yhat"]).all()
    assert (plan["model_version"] == served.loc[plan.index, "model_version"]).all()
    assert set(plan["as_of"]) == {AS_OF} and (plan["quantity"] >= 0).all()
    # The generated products have prices, and their costs come from recipes priced with the ingredients source
    # where conf/bake_plan.yml has one: every critical ratio is the product's own, and above 0.5 for bakery goods
    # (a lost sale costs more than a leftover).
    costs = product_costs(
        read_product_prices(lh), load_cost_model(settings.conf_dir), read_ingredient_prices(lh)
    ).set_index("product_id")
    levels = plan.reset_index()["product_id"].map(costs["critical_ratio"])
    assert (plan["quantile_level"].to_numpy() == levels.to_numpy()).all() and (levels > 0.5).all()
    assert "recipe" in set(plan["cost_source"]) and set(plan["cost_source"]) <= {"product", "recipe"}
    # Quantiles never cross, and the quantity is the quantile net of what carries over (rounded up).
    for text in plan["quantiles"]:
        values = list(json.loads(text).values())
        assert values == sorted(values)
    net = (plan["quantile"].clip(lower=plan["display_min"]) - plan["carried_over"]).clip(lower=0)
    assert ((plan["quantity"] - net).between(0, plan["batch_size"] - 1e-9 + 1e-6)).all()
    stock = lh.read("silver", "inventory_daily").where(f"date = DATE'{AS_OF}'").toPandas()
    keeps = plan.reset_index()["product_id"].map(
        read_product_prices(lh).set_index("product_id")["shelf_life_days"]
    )
    carried = plan[(keeps > 1).to_numpy()]
    closing = stock.set_index(["store_id", "product_id"])["closing_stock"]
    assert (carried["carried_over"] == closing.reindex(carried.index).fillna(0)).all()
    assert (plan.loc[(keeps == 1).to_numpy(), "carried_over"] == 0).all()
    assert plan["reason"].str.contains("previsión").all()
    assert not plan["degraded"].any()
    # Each row carries the costs behind it, so a manager's override can be scored against it later.
    assert (plan["cu"].to_numpy() == plan.reset_index()["product_id"].map(costs["cu"]).to_numpy()).all()
    assert (plan["co"].to_numpy() == plan.reset_index()["product_id"].map(costs["co"]).to_numpy()).all()
    version = lh.version(*BAKE_PLAN)
    # A manager changed today's quantity of one series in the app; tonight's rerun takes it in and scores it.
    today = lh.read(*DAILY_SALES).where(
        f"date = DATE'{AS_OF}' AND quantity_sold IS NOT NULL AND NOT stockout"
    )
    sold_today = today.toPandas().set_index(["store_id", "product_id"])["quantity_sold"]
    store, product = next(k for k in plan.index if k in sold_today.index)
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    manager = Principal("marta", "manager", frozenset({store}))
    req = OverrideRequest(store, product, AS_OF, 10, "30", "event", "feria", confirmed=True)
    save_override(settings, db, manager, req, load_override_rules(settings.conf_dir))
    rerun = run_bake_plan(lh, settings, AS_OF)
    assert lh.read(*BAKE_PLAN).count() == len(plan)
    assert (rerun.overrides_landed, rerun.overrides_scored) == (1, 1)
    score = lh.read(*OVERRIDE_SCORES).toPandas().iloc[0]
    assert score["demand"] == sold_today[(store, product)] and score["quantity"] == 30
    assert score["fva_eur"] == pytest.approx(score["plan_cost"] - score["override_cost"])
    # The day after, without that night's forecast: yesterday's D+2 serves, and every row says so.
    later = run_bake_plan(lh, settings, AS_OF + timedelta(days=1))
    assert version is not None and later.degraded == later.rows > 0
    degraded = lh.read(*BAKE_PLAN).where(f"date = DATE'{AS_OF + timedelta(days=2)}'").toPandas()
    assert degraded["degraded_reason"].str.startswith(f"previsión del {AS_OF}").all()


def test_the_ledger_reconciles_to_the_unit_with_sales_and_inventory(spark, trained_home, tmp_path):
    """gold.ledger over the whole small demo: baked + carried over + correction - sold - carried forward = wasted on
    every row, sold is the day's sales, baked the deliveries, and the next day carries over what this one carried
    forward."""
    from bakery.decisions.costs import load_cost_model
    from bakery.decisions.nightly import write_ledger
    from bakery.tables import LEDGER

    lh, settings = _lh(spark, _copy(trained_home, tmp_path))
    assert write_ledger(lh, AS_OF, 200, load_cost_model(settings.conf_dir)) > 0
    ledger = lh.read(*LEDGER).toPandas()
    inventory = lh.read("silver", "inventory_daily").toPandas()
    assert len(ledger) == len(inventory)
    identity = (
        ledger["baked"]
        + ledger["carried_over"]
        + ledger["correction"]
        - ledger["sold"]
        - ledger["carried_forward"]
    )
    assert (identity - ledger["wasted"]).abs().max() < 1e-6
    keys = ["store_id", "product_id", "date"]
    sales = lh.read("gold", "daily_sales").where("quantity_sold IS NOT NULL").toPandas()
    both = ledger.merge(sales[[*keys, "quantity_sold"]], on=keys, how="inner")
    assert len(both) > 0.9 * len(ledger)
    assert (both["sold"] - both["quantity_sold"]).abs().max() < 1e-6
    by_series = ledger.sort_values(keys).groupby(["store_id", "product_id"])
    carried = by_series["carried_over"].shift(-1).dropna()
    assert (carried - ledger.sort_values(keys).loc[carried.index, "carried_forward"]).abs().max() < 1e-6
    assert ledger["wasted"].sum() > 0 and (ledger["wasted"] >= -1e-6).mean() > 0.99
    # In euros at the products' own prices; lost sales only on stock-out days (null there without a D+1 forecast).
    assert set(ledger["cost_source"]) <= {"product", "recipe"}
    assert ((ledger["sold_eur"] > 0) == (ledger["sold"] > 0)).all()
    assert (ledger.loc[~ledger["stockout"], "lost_sales"] == 0).all()
