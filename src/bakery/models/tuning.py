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
from bakery.models.frames import series_data
from bakery.models.prophet_model import fallback_reason, fit_prophet, predict_prophet

log = logging.getLogger(__name__)

TUNING_SCHEMA = (
    "unique_id string, params string, loss double, default_loss double, n_evals int, "
    "fold_cutoffs string, reason string"
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
        (kind, arg), = spec.items()
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


def _folds(sd, cfg: ModelConfig, cutoffs: list[pd.Timestamp]) -> list[tuple]:
    horizon = range(1, int(cfg.tuning["fold_horizon_days"]) + 1)
    out = []
    for c in cutoffs:
        dz = cutoff_design(sd, c, cfg)
        if fallback_reason(dz.history, c, cfg) is None:
            targets = observed_targets(sd, c, list(horizon))
            if not targets.empty:
                out.append((c, dz, targets))
    return out


def _loss(sd, cfg: ModelConfig, folds: list[tuple], params: dict[str, Any]) -> float:
    """Pooled wMAPE over the folds' observed days (inf if a fit fails)."""
    err = denom = 0.0
    for c, dz, targets in folds:
        try:
            fitted = fit_prophet(sd, dz, cfg, params)
        except Exception as exc:  # noqa: BLE001 - a failing candidate is just a bad candidate
            log.debug("tuning fit failed for %s at %s: %s", sd.unique_id, c.date(), exc)
            return float("inf")
        yhat = predict_prophet(fitted, dz.future, cfg).set_index("ds")["yhat"].reindex(targets["ds"]).to_numpy()
        err += float(np.abs(targets["y"].to_numpy() - yhat).sum())
        denom += float(np.abs(targets["y"]).sum())
    return 100 * err / denom if denom > 0 else float("inf")


def tune_series(pdf: pd.DataFrame, cfg: ModelConfig, eval_start: date | pd.Timestamp) -> pd.DataFrame:
    """One TUNING_SCHEMA row. Only folds ending before eval_start are used; the defaults are always
    evaluated first, so the chosen parameters are never worse than them on the folds."""
    sd = series_data(pdf, cfg)
    cutoffs = tuning_cutoffs(eval_start, cfg)
    folds = _folds(sd, cfg, cutoffs)
    defaults = dict(cfg.prophet["params"])
    row = {"unique_id": sd.unique_id, "fold_cutoffs": json.dumps([str(c.date()) for c in cutoffs])}
    if not folds:
        reason = "no_folds: no fold before the evaluation window can carry Prophet"
        return pd.DataFrame([{**row, "params": json.dumps(defaults), "loss": np.nan, "default_loss": np.nan,
                              "n_evals": 0, "reason": reason}])[TUNING_COLUMNS]
    space = search_space(cfg)
    trials = Trials()

    def objective(point: dict[str, Any]) -> dict[str, Any]:
        return {"loss": _loss(sd, cfg, folds, {**defaults, **point}), "status": STATUS_OK}

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
    params = {**defaults, **space_eval(space, best)}
    params = {k: (float(v) if isinstance(v, float | np.floating) else v) for k, v in params.items()}
    return pd.DataFrame(
        [
            {
                **row,
                "params": json.dumps(params),
                "loss": float(min(trials.losses())),
                "default_loss": float(trials.losses()[0]),
                "n_evals": len(trials.trials),
                "reason": None,
            }
        ]
    )[TUNING_COLUMNS]


def params_from_rows(rows: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """{unique_id: params} from tune_series rows, for ModelConfig.with_series_params."""
    return {r.unique_id: json.loads(r.params) for r in rows.itertuples() if r.reason is None}
