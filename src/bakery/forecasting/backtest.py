"""`bakery backtest --start D --end D [--step 7] [--horizons 1,7,28] --out REPORT.json` (docs/contract.md).

Every candidate is refit at each cutoff on data <= cutoff (weather up to weather_lookahead_days later,
then climatology). The champion is the per-series selection the pipeline serves, made at each cutoff
from the earlier cutoffs' scored days only. Prophet uses its configured defaults here: tuned parameters
were chosen on data that may lie after the cutoffs."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from bakery.config import Settings
from bakery.decisions.backtest import decision_pairs, decision_report, money_report, ratio_lines
from bakery.decisions.costs import load_cost_model, product_costs
from bakery.decisions.io import read_product_prices, read_truth
from bakery.forecasting import registry, spark_jobs
from bakery.forecasting.tables import (
    read_products,
    require_features,
    write_backtest_rows,
    write_metrics,
)
from bakery.lakehouse import Lakehouse
from bakery.logs import run_tag
from bakery.models.backtest import cutoff_range, global_names, report, report_models, with_global_models
from bakery.models.cold_start import COLD_START, backtest_cold_starts
from bakery.models.config import ModelConfig, load_model_config
from bakery.models.frames import model_frame, to_long
from bakery.models.opening import close_backtest
from bakery.models.quantiles import quantile_report, rolling_quantiles
from bakery.models.selection import CHAMPION, rolling_selection
from bakery.tables import FEATURES

log = logging.getLogger(__name__)


@dataclass
class BacktestResult:
    report: dict[str, Any]
    out: Path
    rows: int = 0
    run_id: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    first_cutoff: date | None = None
    data_end: date | None = None  # the last day with an observation

    def summary_lines(self) -> list[str]:
        rep = self.report
        lines = [f"backtest: {rep['cutoffs']} cutoff(s), horizons {rep['horizons']}, report {self.out}"]
        for model, by_h in rep["models"].items():
            cells = ", ".join(
                f"h{h} " + ("-" if m["wmape"] is None else f"{m['wmape']:.1f}") for h, m in by_h.items()
            )
            lines.append(f"  {model:<16} wMAPE {cells}")
        unscored = [h for h, m in rep["models"].get("seasonal_naive", {}).items() if not m["n"]]
        past = [
            h
            for h in unscored
            if self.data_end
            and self.first_cutoff
            and self.first_cutoff + timedelta(days=int(h)) > self.data_end
        ]
        if past:
            lines.append(
                f"  no observed target day at h={', h='.join(past)}: every cutoff + h is after the data's last "
                f"day ({self.data_end}); those horizons are reported with n = 0"
            )
        if shut := [h for h in unscored if h not in past]:
            lines.append(
                f"  no observed target day at h={', h='.join(shut)}: every cutoff + h fell on a day "
                "without sales (the store shut that weekday?); those horizons are reported with n = 0"
            )
        return lines + [f"  {n}" for n in self.notes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "rows": self.rows,
            "run_id": self.run_id,
            "seconds": round(self.seconds, 1),
        }


def backtest_rows(
    lh: Lakehouse, cfg: ModelConfig, cutoffs: list[pd.Timestamp], horizons: list[int], models: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The wide backtest frame (models.backtest.wide): the per-series models' long rows (Spark) and those of the
    global models among the selection candidates, pivoted once, and the ensemble; the model features (pandas);
    notes."""
    until = (max(cutoffs) + pd.Timedelta(days=max(max(horizons), cfg.max_horizon))).date()
    features_sdf = spark_jobs.model_input(lh.read(*FEATURES), cfg, until=until).cache()
    notes: list[str] = []
    try:
        rows = spark_jobs.backtest(features_sdf, cfg, cutoffs, horizons, models)
        features = model_frame(features_sdf.toPandas(), cfg)
        names = global_names(cfg, cfg.selection["candidates"])
        rows, notes = with_global_models(rows, features, cfg, cutoffs, horizons, names)
    finally:
        features_sdf.unpersist()
    return rows, features, notes


def run_backtest(
    lh: Lakehouse,
    settings: Settings,
    start: date,
    end: date,
    out: Path,
    step: int = 7,
    horizons: list[int] | None = None,
    cfg: ModelConfig | None = None,
    decisions: list[float] | None = None,
    truth: Path | None = None,
) -> BacktestResult:
    cfg = cfg or load_model_config(settings.conf_dir)
    horizons = sorted(set(horizons or cfg.horizons))
    if min(horizons) < 1 or max(horizons) > cfg.max_horizon:
        raise ValueError(f"--horizons must lie in 1..{cfg.max_horizon}, got {horizons}")
    cfg = cfg.with_overrides({"horizons": horizons})
    require_features(lh, "`bakery ingest` (or `bakery import` + `bakery ingest`)")
    t0 = time.perf_counter()
    cutoffs = cutoff_range(start, end, step)
    models = list(dict.fromkeys(cfg.backtest["models"]))
    rows, features, notes = backtest_rows(lh, cfg, cutoffs, horizons, models)
    seen = features.loc[features["y"].notna(), "date"]
    first, last = (seen.min().date(), seen.max().date()) if len(seen) else (None, None)
    if rows.empty:
        span = f"from {first} to {last}" if first else "none"
        raise ValueError(
            f"no observed (series, cutoff + h) pair between {start} and "
            f"{end + timedelta(days=max(horizons))}; the data has observations {span}"
        )
    rows = close_backtest(rolling_selection(rows, cfg), features, cfg, CHAMPION)
    rows = rolling_quantiles(rows, cfg, CHAMPION)
    launches = backtest_cold_starts(rows, to_long(features, cfg), read_products(lh), cfg, CHAMPION)
    if not launches.empty:
        rows = pd.concat([rows, launches], ignore_index=True)
        notes.append(
            f"{COLD_START}: {launches['unique_id'].nunique()} series of launching products scored on "
            f"{len(launches)} days before they had a history (reported apart: the other models have none)"
        )
    scored = [m for m in [*report_models(cfg), COLD_START] if m in rows.columns]
    rep = report(rows, cfg, cutoffs, champion=CHAMPION, models=scored)
    rep["champion_selection"] = {
        "level": cfg.selection["level"],
        "candidates": cfg.selection["candidates"],
        "default": cfg.selection["default"],
    }
    rep["quantiles"] = quantile_report(rows, cfg, horizons)
    if decisions:
        rep.update(decisions_of(lh, settings, rows, features, cfg, decisions, truth))
        notes.extend(ratio_lines(rep["decisions"], rep.get("decisions_cost_model")))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rep, indent=2, allow_nan=False), encoding="utf-8")
    result = BacktestResult(rep, out, notes=notes, first_cutoff=cutoffs[0].date(), data_end=last)
    result.run_id = _log_run(settings, lh, rep, start, end, step)
    result.rows = write_backtest_rows(lh, rows, scored, result.run_id or "local")
    write_metrics(lh, rows, scored, source="backtest", run_id=result.run_id, horizons=horizons)
    result.seconds = time.perf_counter() - t0
    log.info("%s", result.summary_lines()[0])
    return result


def decisions_of(
    lh: Lakehouse,
    settings: Settings,
    rows: pd.DataFrame,
    features: pd.DataFrame,
    cfg: ModelConfig,
    ratios: list[float],
    truth: Path | None,
) -> dict[str, Any]:
    """The report's `decisions` (the plan against the other policies at D+1, bakery.decisions.backtest), what they
    were scored against, and where silver.products has prices `decisions_cost_model`: each product at its own
    critical ratio, in euros. With a truth file the actual is the true demand, not the (censored) sales."""
    sales = features.rename(columns={"date": "ds"})[["unique_id", "ds", "y"]]
    demand = read_truth(truth) if truth else None
    pairs = decision_pairs(rows, sales, CHAMPION, demand=demand)
    if pairs.empty:
        raise ValueError("--decisions: no D+1 pair with a forecast, an actual and a same-weekday history")
    products = read_product_prices(lh)
    priced = products[products["unit_price"].notna()]
    costs = product_costs(priced, load_cost_model(settings.conf_dir)) if len(priced) else None
    out = {
        "decisions": decision_report(pairs, ratios, cfg, CHAMPION, costs=costs),
        "decisions_scored_against": "true demand" if truth else "sales",
    }
    if costs is not None:
        out["decisions_cost_model"] = money_report(pairs, cfg, CHAMPION, costs)
    return out


def _log_run(
    settings: Settings, lh: Lakehouse, rep: dict[str, Any], start: date, end: date, step: int
) -> str | None:
    """An MLflow run with the report's metrics per model and horizon, and lineage tags."""
    import mlflow

    registry.client(settings)
    metrics = {
        f"{m}_{k}_h{h}": v
        for m, by_h in rep["models"].items()
        for h, vals in by_h.items()
        for k, v in vals.items()
        if isinstance(v, int | float)
    }
    with mlflow.start_run(
        experiment_id=registry.experiment_id(settings), run_name=f"backtest {start}..{end}"
    ) as run:
        mlflow.set_tags(run_tag())
        mlflow.log_params(
            {
                "start": start,
                "end": end,
                "step": step,
                "horizons": rep["horizons"],
                "cutoffs": rep["cutoffs"],
                "weather_lookahead_days": rep["weather_lookahead_days"],
            }
        )
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v == v})
        mlflow.set_tags(
            {
                "kind": "backtest",
                "git_commit": registry.git_commit(),
                f"delta.{FEATURES}": str(lh.version(*FEATURES)),
            }
        )
        mlflow.log_dict(rep, "backtest_report.json")
        return run.info.run_id
