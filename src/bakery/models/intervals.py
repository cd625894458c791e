"""Prediction intervals from empirical residual quantiles (fast: no posterior sampling), and their calibration
on out-of-sample backtest errors (a split-conformal factor on the half-widths per model and horizon)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def residual_bounds(
    yhat: np.ndarray, residuals: np.ndarray, width: float, relative: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Lower/upper bounds yhat + q(resid) at the (1-width)/2 and (1+width)/2 quantiles, clipped at 0.

    With relative=True residuals are y / yhat - 1 and scale with the forecast (multiplicative models).
    """
    yhat = np.asarray(yhat, dtype=float)
    res = np.asarray(residuals, dtype=float)
    res = res[np.isfinite(res)]
    if len(res) < 2:
        return np.clip(yhat, 0, None), np.clip(yhat, 0, None)
    lo_q, hi_q = np.quantile(res, [(1 - width) / 2, (1 + width) / 2])
    if relative:
        lower, upper = yhat * (1 + lo_q), yhat * (1 + hi_q)
    else:
        lower, upper = yhat + lo_q, yhat + hi_q
    return np.clip(np.minimum(lower, yhat), 0, None), np.clip(np.maximum(upper, yhat), 0, None)


def needed_scale(y, yhat, lower, upper) -> np.ndarray:
    """Per row: the smallest factor on the interval's half-widths that puts y inside it (0 when y == yhat,
    inf when y lies on a side of zero width)."""
    y, yhat, lower, upper = (np.asarray(a, dtype=float) for a in (y, yhat, lower, upper))
    below, above = np.maximum(yhat - y, 0.0), np.maximum(y - yhat, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(below > 0, below / np.maximum(yhat - lower, 0.0), 0.0)
        hi = np.where(above > 0, above / np.maximum(upper - yhat, 0.0), 0.0)
    return np.maximum(lo, hi)


def scale_bounds(yhat, lower, upper, scale) -> tuple[np.ndarray, np.ndarray]:
    """The interval with both half-widths multiplied by scale (lower clipped at 0)."""
    yhat, lower, upper, scale = (np.asarray(a, dtype=float) for a in (yhat, lower, upper, scale))
    return np.clip(yhat - scale * (yhat - lower), 0, None), yhat + scale * (upper - yhat)


def _bucket(horizons: np.ndarray, edges: list[int]) -> np.ndarray:
    """Bucket index of each horizon: edges are the buckets' last horizons (e.g. [1, 7, 14, 28])."""
    return np.searchsorted(np.asarray(sorted(edges)), horizons, side="left")


def _conformal(needed: np.ndarray, width: float) -> float:
    """Split-conformal quantile: the ceil((n + 1) * width)-th smallest needed scale."""
    k = min(int(np.ceil((len(needed) + 1) * width)), len(needed))
    return float(np.sort(needed)[k - 1])


SCALE_COLUMNS = ["model", "horizon", "scale", "n", "coverage", "coverage_scaled"]


def interval_scales(rows: pd.DataFrame, models: list[str], width: float, settings: dict) -> pd.DataFrame:
    """Per model and horizon: the factor on the interval's half-widths that makes the out-of-sample rows
    (backtest rows: y, <model>, <model>_lower, <model>_upper, horizon) covered at the nominal width.

    Horizons are pooled into buckets (settings['horizon_buckets']); a bucket with fewer than
    settings['min_rows'] rows takes the model's pooled factor, and a model with fewer keeps 1 (no evidence).
    Factors are clipped to settings['scale_range']. Censored rows (stock-outs) are left out."""
    edges = [int(e) for e in settings.get("horizon_buckets", [28])]
    min_rows = int(settings.get("min_rows", 30))
    lo_s, hi_s = (float(v) for v in settings.get("scale_range", [0.5, 3.0]))
    horizons = np.arange(1, max(edges) + 1)
    out = []
    for model in models:
        cols = [model, f"{model}_lower", f"{model}_upper"]
        if not all(c in rows.columns for c in cols):
            continue
        ok = rows.dropna(subset=["y", *cols])
        if "censored" in ok.columns:
            ok = ok[~ok["censored"].fillna(False).astype(bool)]
        needed = needed_scale(ok["y"], ok[model], ok[cols[1]], ok[cols[2]])
        bucket = _bucket(ok["horizon"].to_numpy(), edges)
        pooled = _conformal(needed, width) if len(needed) >= min_rows else 1.0
        per_bucket = {}
        for b in range(len(edges)):
            sel = needed[bucket == b]
            per_bucket[b] = (_conformal(sel, width) if len(sel) >= min_rows else pooled, len(sel), sel)
        for h, b in zip(horizons, _bucket(horizons, edges), strict=True):
            scale, n, sel = per_bucket[b]
            scale = float(np.clip(scale, lo_s, hi_s))
            out.append(
                {
                    "model": model,
                    "horizon": int(h),
                    "scale": scale,
                    "n": int(n),
                    "coverage": float((sel <= 1).mean()) if n else np.nan,
                    "coverage_scaled": float((sel <= scale).mean()) if n else np.nan,
                }
            )
    return pd.DataFrame(out, columns=SCALE_COLUMNS)


def calibrate_rows(rows: pd.DataFrame, scales: pd.DataFrame | None) -> pd.DataFrame:
    """Backtest rows with each scaled model's <model>_lower / <model>_upper widened (or narrowed) by its
    factor at the row's horizon."""
    if scales is None or scales.empty:
        return rows
    out = rows.copy()
    for model, table in scales.groupby("model"):
        lo, hi = f"{model}_lower", f"{model}_upper"
        if not {model, lo, hi} <= set(out.columns):
            continue
        factor = out["horizon"].map(table.set_index("horizon")["scale"]).fillna(1.0)
        out[lo], out[hi] = scale_bounds(out[model], out[lo], out[hi], factor)
    return out


def calibrate_frame(frame: pd.DataFrame, scales: pd.DataFrame | None, model: str) -> pd.DataFrame:
    """FORECAST_SCHEMA rows of one candidate model with its factor applied to yhat_lower / yhat_upper."""
    if scales is None or scales.empty or frame.empty or model not in set(scales["model"]):
        return frame
    table = scales[scales["model"] == model].set_index("horizon")["scale"]
    factor = frame["horizon"].map(table).fillna(1.0)
    out = frame.copy()
    out["yhat_lower"], out["yhat_upper"] = scale_bounds(
        out["yhat"], out["yhat_lower"], out["yhat_upper"], factor
    )
    return out
