"""`bakery train [--tune]`: tune (weekly), backtest the candidates on recent cutoffs, choose a model per
series, fit every series at the as-of date, log and register one MLflow model, and gate its promotion."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import functions as F

from bakery.config import Settings
from bakery.forecasting import registry, spark_jobs
from bakery.forecasting.tables import (
    latest_data_date,
    latest_tuned_params,
    require_features,
    write_backtest_rows,
    write_metrics,
    write_tuning,
)
from bakery.lakehouse import Lakehouse
from bakery.models import metrics
from bakery.models.backtest import global_names, with_global_models
from bakery.models.bundle import TrainedModel
from bakery.models.config import ModelConfig, load_model_config
from bakery.models.forecaster import GlobalForecaster, candidates, global_candidates
from bakery.models.frames import model_frame
from bakery.models.selection import (
    BASELINE,
    CHAMPION,
    add_ensemble,
    apply_selection,
    calibration,
    ensemble_weights,
    promotion_gate,
    select_models,
    with_weights,
)
from bakery.tables import DAILY_SALES, FEATURES

log = logging.getLogger(__name__)

CURRENT = "current_champion"


@dataclass
class TrainResult:
    as_of: date
    version: str | None = None
    run_id: str | None = None
    series: int = 0
    fallbacks: int = 0
    tuned_groups: int = 0
    promoted: bool = False
    gate: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        lines = [
            f"train as of {self.as_of}: {self.series} series ({self.fallbacks} on the fallback model), "
            f"registered version {self.version}, {'promoted to champion' if self.promoted else 'not promoted'}"
        ]
        if self.tuned_groups:
            lines.append(f"  tuned {self.tuned_groups} group(s)")
        for h, m in sorted(self.scores.get(CHAMPION, {}).items()):
            base = self.scores.get(BASELINE, {}).get(h, {}).get("wmape", float("nan"))
            lines.append(f"  selection backtest h={h}: wMAPE {m['wmape']:.1f} (seasonal naive {base:.1f})")
        lines += [f"  gate: {r}" for r in self.gate.get("reasons", [])]
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "version": self.version,
            "run_id": self.run_id,
            "series": self.series,
            "fallbacks": self.fallbacks,
            "tuned_groups": self.tuned_groups,
            "promoted": self.promoted,
            "gate": self.gate,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def per_series_candidates(cfg: ModelConfig) -> list[str]:
    """The registered per-series models the selection backtest runs: the candidates and the baseline."""
    wanted = {*cfg.selection["candidates"], BASELINE}
    return [name for name in candidates(cfg) if name in wanted]


def selection_cutoffs(as_of: date, cfg: ModelConfig, settings: Settings) -> list[pd.Timestamp]:
    """Recent cutoffs whose every target day is <= as_of (never past the training data)."""
    n = int(settings.get("forecasting.selection_cutoffs", 2))
    step = int(settings.get("forecasting.selection_step_days", 7))
    last = pd.Timestamp(as_of) - pd.Timedelta(days=cfg.max_horizon)
    return sorted(last - pd.Timedelta(days=step * k) for k in range(n))


def _timed(seconds: dict[str, float], name: str, t0: float) -> None:
    seconds[name] = time.perf_counter() - t0


def _selection(features_sdf, features: pd.DataFrame, cfg: ModelConfig, cutoffs: list) -> pd.DataFrame:
    """Backtest rows of every candidate at the selection cutoffs, all horizons 1..max: the per-series ones, every
    registered global model and the ensemble."""
    horizons = list(range(1, cfg.max_horizon + 1))
    rows = spark_jobs.backtest(features_sdf, cfg, cutoffs, horizons, per_series_candidates(cfg))
    rows, notes = with_global_models(rows, features, cfg, cutoffs, horizons, global_names(cfg))
    for note in notes:  # too little data for a global model: the other candidates remain
        log.warning("%s (selection backtest)", note)
    return rows


def fit_global_models(features: pd.DataFrame, cfg: ModelConfig, as_of: date) -> dict[str, GlobalForecaster]:
    """Every registered global model fitted at as_of (with its intervals); one that cannot fit is left out."""
    fitted = {}
    for name, cls in global_candidates(cfg).items():
        try:
            fitted[name] = cls().fit(features, cfg, pd.Timestamp(as_of), with_intervals=True)
        except ValueError as exc:
            log.warning("global model %s not trained: %s", name, exc)
    return fitted


def _scores(
    rows: pd.DataFrame, models: list[str], horizons: tuple[int, ...]
) -> dict[str, dict[int, dict[str, float]]]:
    present = [m for m in models if m in rows.columns]
    return metrics.evaluate(rows[rows["horizon"].isin(horizons)], present)


def _gate(settings: Settings, rows: pd.DataFrame, cfg: ModelConfig, scored: list[str]):
    """The new choice against the current champion's choice on the same backtest rows."""
    current = registry.by_alias(settings, registry.CHAMPION)
    if current is None:
        return None, rows, scored
    try:
        old = registry.load(settings, current.version)
    except Exception as exc:  # noqa: BLE001 - an unreadable champion cannot block training; say so
        log.warning("champion version %s could not be loaded for the gate: %s", current.version, exc)
        return current, rows, scored
    rows = (
        apply_selection(rows, old.choice, old.cfg, name=CURRENT)
        if len(old.choice)
        else rows.assign(**{CURRENT: rows[BASELINE]})
    )
    return current, rows, [*scored, CURRENT]


def run_train(
    lh: Lakehouse,
    settings: Settings,
    as_of: date | None = None,
    tune: bool = False,
    cfg: ModelConfig | None = None,
) -> TrainResult:
    """Train, register and (if the gate passes, or there is no champion yet) promote one version."""
    cfg = cfg or load_model_config(settings.conf_dir)
    require_features(lh, "`bakery ingest` (or `bakery pipeline`)")
    as_of = as_of or latest_data_date(lh)
    result = TrainResult(as_of=as_of)
    seconds = result.seconds
    until = as_of + timedelta(days=cfg.max_horizon)
    features_sdf = spark_jobs.model_input(lh.read(*FEATURES), cfg, until=until).cache()
    raw = features_sdf.toPandas()
    features = model_frame(raw, cfg)
    if features.empty:
        raise ValueError(f"gold.features has no rows up to {until}")
    cutoffs = selection_cutoffs(as_of, cfg, settings)

    t0 = time.perf_counter()
    if tune:
        eval_start = cutoffs[0] + pd.Timedelta(days=1)
        tuned = spark_jobs.tune(
            features_sdf.where(F.col("date") < F.lit(eval_start.date())), cfg, eval_start.date()
        )
        write_tuning(lh, tuned, as_of)
        result.tuned_groups = int(tuned["params"].nunique()) if len(tuned) else 0
        _timed(seconds, "tune", t0)
    cfg = cfg.with_series_params(latest_tuned_params(lh))

    t0 = time.perf_counter()
    rows = _selection(features_sdf, features, cfg, cutoffs)
    # The ensemble's member weights per horizon bucket, learned on this selection backtest (equal when off).
    weights = ensemble_weights(rows, cfg)
    if not weights.empty:
        rows = add_ensemble(rows, cfg.selection["ensemble_members"], weights=weights, cfg=cfg)
    choice = with_weights(select_models(rows, cfg), weights)
    scales = calibration(rows, cfg)
    rows = apply_selection(rows, choice, cfg)
    scored = [
        m for m in dict.fromkeys([BASELINE, *cfg.selection["candidates"], CHAMPION]) if m in rows.columns
    ]
    current, rows, scored = _gate(settings, rows, cfg, scored)
    result.scores = _scores(rows, scored, cfg.horizons)
    _timed(seconds, "selection_backtest", t0)

    t0 = time.perf_counter()
    series = spark_jobs.train(features_sdf, cfg, as_of)
    global_models = fit_global_models(features, cfg, as_of)
    _timed(seconds, "fit", t0)
    features_sdf.unpersist()
    result.series, result.fallbacks = len(series), int(series["model_json"].isna().sum())

    gate = promotion_gate(result.scores, CHAMPION, CURRENT if current else None, cfg)
    result.gate = {
        "ok": gate.ok,
        "reasons": gate.reasons,
        "against_version": current.version if current else None,
    }
    trained = TrainedModel(
        cfg,
        series,
        choice,
        global_models,
        meta={
            "as_of": as_of.isoformat(),
            "cutoffs": [str(c.date()) for c in cutoffs],
            "choice": choice["model"].value_counts().to_dict() if len(choice) else {},
        },
        scales=scales,
    )
    t0 = time.perf_counter()
    result.run_id, result.version = _register(lh, settings, trained, rows, result, raw, tune)
    _timed(seconds, "mlflow", t0)
    if current is None:
        registry.set_champion(settings, result.version, "first registered version")
        result.promoted = True
    elif gate.ok:
        registry.set_champion(settings, result.version, f"passed the gate against version {current.version}")
        result.promoted = True
    else:
        registry.set_challenger(settings, result.version)
    write_metrics(lh, rows, scored, source="train", run_id=result.run_id, horizons=cfg.horizons)
    # The champion's out-of-sample forecasts at the selection cutoffs (every horizon): what the app's History
    # shows, labelled as backtest, before the pipeline has served forecasts for past days.
    write_backtest_rows(lh, rows, [CHAMPION], result.run_id or "train")
    log.info("%s", result.summary_lines()[0])
    return result


def _register(
    lh: Lakehouse,
    settings: Settings,
    trained: TrainedModel,
    rows: pd.DataFrame,
    result: TrainResult,
    raw: pd.DataFrame,
    tune: bool,
) -> tuple[str, str]:
    """Log and register the trained model. The signature is inferred from gold.features rows as a reader
    gets them (date as datetime), so `predict` takes the table's own types."""
    cfg = trained.cfg
    params = {
        "as_of": result.as_of,
        "tuned_this_run": tune,
        "selection_cutoffs": trained.meta["cutoffs"],
        "selection_level": cfg.selection["level"],
        "candidates": cfg.selection["candidates"],
        "series": result.series,
        "fallback_series": result.fallbacks,
        "tuned_series": len(cfg.series_params),
        **{f"prophet_default_{k}": v for k, v in cfg.prophet["params"].items()},
    }
    flat = {
        f"{m}_{k}_h{h}": v
        for m, by_h in result.scores.items()
        for h, vals in by_h.items()
        for k, v in vals.items()
    }
    per_store = metrics.evaluate_frame(rows[rows["horizon"].isin(cfg.horizons)], [CHAMPION], by=["store_id"])
    flat.update({f"champion_wmape_h{r.horizon}_store_{r.store_id}": r.wmape for r in per_store.itertuples()})
    flat.update({f"seconds_{k}": v for k, v in result.seconds.items()})
    shown = trained.scales[trained.scales["horizon"].isin(cfg.horizons)]
    for r in shown.itertuples():
        flat[f"interval_scale_{r.model}_h{r.horizon}"] = r.scale
        flat[f"interval_coverage_{r.model}_h{r.horizon}"] = r.coverage
        flat[f"interval_coverage_calibrated_{r.model}_h{r.horizon}"] = r.coverage_scaled
    lineage = {
        f"delta.{layer}.{name}": str(lh.version(layer, name))
        for layer, name in [FEATURES, DAILY_SALES]
        if lh.exists(layer, name)
    }
    tags = {
        "as_of": result.as_of.isoformat(),
        "git_commit": registry.git_commit(),
        "run_name": f"train {result.as_of}",
        "gate_ok": str(result.gate.get("ok")),
        "gate": str(result.gate)[:4000],
        **lineage,
    }
    sample = raw.groupby("unique_id").tail(60).head(500).assign(date=lambda d: pd.to_datetime(d["date"]))
    output = (
        trained.forecast(model_frame(sample, cfg), result.as_of)
        .rename(columns={"ds": "date"})
        .drop(columns=["regressors", "notes"])
        .head(50)
    )
    with tempfile.TemporaryDirectory() as tmp:
        files = trained.save(Path(tmp) / "model")
        rows_path = Path(tmp) / "selection_backtest.parquet"
        rows.to_parquet(rows_path, index=False)
        return registry.log_version(
            settings,
            files,
            params=params,
            metrics=flat,
            tags=tags,
            signature_input=sample,
            signature_output=output,
            extra_artifacts=[rows_path],
        )
