"""Per-series Prophet hyper-parameter search (hyperopt, seeded) on rolling folds that end before evaluation."""

from __future__ import annotations

import json
import logging
import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from hyperopt import STATUS_OK, Trials, fmin, hp, space_eval, tpe

from bakery.models.backtest import cutoff_design, observed_targets
from bakery.models.config import ModelConfig
from bakery.models.frames import SeriesData, series_data
from bakery.models.prophet_model import fallback_reason, fit_predict_prophet

log = logging.getLogger(__name__)

TUNING_SCHEMA = (
    "unique_id string, params string, loss double, default_loss double, n_evals int, "
    "n_series int, fold_cutoffs string, reason string"
)
TUNING_COLUMNS = [f.split()[0] for f in TUNING_SCHEMA.split(", ")]


def tuning_cutoffs(eval_start: date | pd.Timestamp, cfg: ModelConfig) -> list[pd.Timestamp]:
    """Fold cutoffs, oldest first; the last fold's scored days end the day before eval_start."""
    t = cfg.tuning
    horizon, step, folds = int(t["fold_horizon_days"]), int(t["fold_step_days"]), int(t["folds"])
    last = pd.Timestamp(eval_start) - pd.Timedelta(days=1 + horizon)
    return [last - pd.Timedelta(days=step * k) for k in reversed(range(folds))]


def search_space(cfg: ModelConfig) -> dict[str, Any]:
    """hyperopt space from conf: {name: {loguniform: [lo, hi]} | {uniform: [lo, hi]} | {choice: [...]}}."""
    space = {}
    for name, spec in cfg.tuning["space"].items():
        ((kind, arg),) = spec.items()
        if kind == "loguniform":
            space[name] = hp.loguniform(name, math.log(arg[0]), math.log(arg[1]))
        elif kind == "uniform":
            space[name] = hp.uniform(name, arg[0], arg[1])
        elif kind == "choice":
            space[name] = hp.choice(name, list(arg))
        else:
            raise ValueError(f"models.yml tuning.space.{name}: unknown distribution {kind!r}")
    return space


def _default_point(cfg: ModelConfig) -> dict[str, Any]:
    """The configured defaults as a hyperopt point (choices by index), evaluated first."""
    point = {}
    for name, spec in cfg.tuning["space"].items():
        value = cfg.prophet["params"][name]
        point[name] = list(spec["choice"]).index(value) if "choice" in spec else value
    return point


def _folds(sd: SeriesData, cfg: ModelConfig, cutoffs: list[pd.Timestamp]) -> list[tuple]:
    horizon = range(1, int(cfg.tuning["fold_horizon_days"]) + 1)
    out = []
    for c in cutoffs:
        dz = cutoff_design(sd, c, cfg)
        if fallback_reason(dz.history, c, cfg) is None:
            targets = observed_targets(sd, c, list(horizon))
            if not targets.empty:
                out.append((c, dz, targets))
    return out


def _loss(work: list[tuple[SeriesData, list[tuple]]], cfg: ModelConfig, params: dict[str, Any]) -> float:
    """wMAPE pooled over every series' fold days (inf if a fit fails)."""
    err = denom = 0.0
    for sd, folds in work:
        for c, dz, targets in folds:
            try:
                _, frame = fit_predict_prophet(sd, dz, cfg, params)
            except Exception as exc:  # noqa: BLE001 - a failing candidate is just a bad candidate
                log.debug("tuning fit failed for %s at %s: %s", sd.unique_id, c.date(), exc)
                return float("inf")
            yhat = frame.set_index("ds")["yhat"].reindex(targets["ds"]).to_numpy()
            err += float(np.abs(targets["y"].to_numpy() - yhat).sum())
            denom += float(np.abs(targets["y"]).sum())
    return 100 * err / denom if denom > 0 else float("inf")


def _sample(uids: list[str], limit: int | None) -> list[str]:
    """Deterministic, evenly spread subset of at most `limit` series (all when limit is falsy)."""
    if not limit or len(uids) <= limit:
        return uids
    return [uids[int(k)] for k in np.linspace(0, len(uids) - 1, int(limit)).round()]


def tune_group(pdf: pd.DataFrame, cfg: ModelConfig, eval_start: date | pd.Timestamp) -> pd.DataFrame:
    """TUNING_SCHEMA rows, one per series in pdf, all sharing the parameters that minimise the wMAPE
    pooled over the group's folds (a group of one series = per-series tuning). Pooling many series
    keeps a 10-trial search from fitting the noise of two 28-day folds. Only rows before eval_start
    are read; the defaults are evaluated first, so the choice is never worse than them on the folds."""
    pdf = pdf[pd.to_datetime(pdf["date"]) < pd.Timestamp(eval_start)]
    uids = sorted(pdf["unique_id"].astype(str).unique()) if "unique_id" in pdf else None
    frames = [g for _, g in pdf.groupby("unique_id", sort=True)] if uids else [pdf]
    cutoffs = tuning_cutoffs(eval_start, cfg)
    chosen = set(_sample(uids, cfg.tuning.get("max_series_per_group"))) if uids else None
    work = []
    for g in frames:
        sd = series_data(g, cfg)
        if chosen is None or sd.unique_id in chosen:
            folds = _folds(sd, cfg, cutoffs)
            if folds:
                work.append((sd, folds))
    defaults = dict(cfg.prophet["params"])
    all_ids = uids or [series_data(pdf, cfg).unique_id]
    base = {"fold_cutoffs": json.dumps([str(c.date()) for c in cutoffs]), "n_series": len(work)}
    if not work:
        reason = "no_folds: no fold before the evaluation window can carry Prophet"
        result = {
            "params": json.dumps(defaults),
            "loss": np.nan,
            "default_loss": np.nan,
            "n_evals": 0,
            "reason": reason,
        }
        return pd.DataFrame([{"unique_id": u, **base, **result} for u in all_ids])[TUNING_COLUMNS]
    space = search_space(cfg)
    trials = Trials()

    def objective(point: dict[str, Any]) -> dict[str, Any]:
        return {"loss": _loss(work, cfg, {**defaults, **point}), "status": STATUS_OK}

    best = fmin(
        objective,
        space,
        algo=tpe.suggest,
        max_evals=int(cfg.tuning["max_evals"]),
        trials=trials,
        rstate=np.random.default_rng(int(cfg.tuning["seed"])),
        points_to_evaluate=[_default_point(cfg)],
        show_progressbar=False,
    )
    loss, default_loss = float(min(trials.losses())), float(trials.losses()[0])
    margin = float(cfg.tuning.get("min_improvement", 0.0))
    reason = None
    if loss > default_loss * (1 - margin):
        best, reason = (
            _default_point(cfg),
            f"defaults_kept: best fold wMAPE {loss:.2f} not {margin:.0%} below {default_loss:.2f}",
        )
    params = {**defaults, **space_eval(space, best)}
    params = {k: (float(v) if isinstance(v, float | np.floating) else v) for k, v in params.items()}
    result = {
        "params": json.dumps(params),
        "loss": loss,
        "default_loss": default_loss,
        "n_evals": len(trials.trials),
        "reason": reason,
    }
    return pd.DataFrame([{"unique_id": u, **base, **result} for u in all_ids])[TUNING_COLUMNS]


def tune_series(pdf: pd.DataFrame, cfg: ModelConfig, eval_start: date | pd.Timestamp) -> pd.DataFrame:
    """Per-series tuning: tune_group over the rows of a single series."""
    return tune_group(pdf, cfg.with_overrides({"tuning": {"max_series_per_group": None}}), eval_start)


def params_from_rows(rows: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """{unique_id: params} from tune_group / tune_series rows, for ModelConfig.with_series_params."""
    return {r.unique_id: json.loads(r.params) for r in rows.itertuples() if r.reason is None}
