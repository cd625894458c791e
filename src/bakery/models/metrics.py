"""Forecast error metrics (docs/contract.md formulas) and the one `evaluate` over backtest rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

ROW_KEYS = ["unique_id", "store_id", "product_id", "cutoff", "ds", "horizon", "y"]


def _arrays(y, yhat) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    yhat = np.asarray(yhat, dtype=float)
    keep = ~(np.isnan(y) | np.isnan(yhat))
    return y[keep], yhat[keep]


def wmape(y, yhat) -> float:
    """100 * sum|y - yhat| / sum|y|."""
    y, yhat = _arrays(y, yhat)
    denom = np.abs(y).sum()
    return float(100 * np.abs(y - yhat).sum() / denom) if denom > 0 else float("nan")


def mae(y, yhat) -> float:
    y, yhat = _arrays(y, yhat)
    return float(np.abs(y - yhat).mean()) if len(y) else float("nan")


def rmse(y, yhat) -> float:
    y, yhat = _arrays(y, yhat)
    return float(np.sqrt(((y - yhat) ** 2).mean())) if len(y) else float("nan")


def mape(y, yhat) -> float:
    """100 * mean(|y - yhat| / |y|) over the rows with y != 0 (zero actuals are skipped)."""
    y, yhat = _arrays(y, yhat)
    nz = y != 0
    return float(100 * (np.abs(y[nz] - yhat[nz]) / np.abs(y[nz])).mean()) if nz.any() else float("nan")


def bias(y, yhat) -> float:
    """100 * sum(yhat - y) / sum|y|: positive means over-forecasting."""
    y, yhat = _arrays(y, yhat)
    denom = np.abs(y).sum()
    return float(100 * (yhat - y).sum() / denom) if denom > 0 else float("nan")


def n(y, yhat) -> int:
    return int(len(_arrays(y, yhat)[0]))


METRICS = {"wmape": wmape, "mae": mae, "rmse": rmse, "mape": mape, "bias": bias, "n": n}


def model_columns(rows: pd.DataFrame) -> list[str]:
    """Forecast columns of backtest rows: everything that is not a key, the actual or a flag."""
    skip = set(ROW_KEYS) | {"censored"}
    return [
        c
        for c in rows.columns
        if c not in skip and not c.endswith(BOUND_SUFFIXES) and pd.api.types.is_numeric_dtype(rows[c])
    ]


BOUND_SUFFIXES = ("_lower", "_upper")


def coverage(rows: pd.DataFrame, models: list[str]) -> dict[str, dict[int, float]]:
    """{model: {horizon: share of observed days with lower <= y <= upper}} for models with bounds."""
    out: dict[str, dict[int, float]] = {}
    for model in models:
        lo, hi = f"{model}_lower", f"{model}_upper"
        ok = rows.dropna(subset=["y", lo, hi])
        inside = (ok["y"] >= ok[lo]) & (ok["y"] <= ok[hi])
        out[model] = {int(h): round(float(v), 4) for h, v in inside.groupby(ok["horizon"]).mean().items()}
    return out


def evaluate_frame(
    rows: pd.DataFrame, models: list[str] | None = None, by: list[str] | None = None
) -> pd.DataFrame:
    """Long table: by-columns, model, horizon and one column per metric (rows with no forecast skipped)."""
    models = models or model_columns(rows)
    groups = [*(by or []), "horizon"]
    out = []
    for keys, grp in rows.groupby(groups, sort=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        for model in models:
            if model not in grp.columns:
                continue
            rec = dict(zip(groups, keys, strict=True), model=model)
            rec.update({name: fn(grp["y"], grp[model]) for name, fn in METRICS.items()})
            out.append(rec)
    cols = [*(by or []), "model", "horizon", *METRICS]
    return pd.DataFrame(out, columns=cols)


def evaluate(rows: pd.DataFrame, models: list[str] | None = None) -> dict[str, dict[int, dict[str, float]]]:
    """{model: {horizon: {wmape, mae, rmse, mape, bias, n}}} over all backtest rows."""
    table = evaluate_frame(rows, models)
    result: dict[str, dict[int, dict[str, float]]] = {}
    for rec in table.to_dict("records"):
        result.setdefault(rec["model"], {})[int(rec["horizon"])] = {k: rec[k] for k in METRICS}
    return result
