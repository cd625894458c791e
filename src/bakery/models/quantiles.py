"""Demand quantiles of the served forecast, from the same out-of-sample errors that calibrate its interval.

Each row's error is measured in units of its own (calibrated) interval: z = (y - yhat) / half-width, with
half-width = (upper - lower) / 2. The interval carries the series' own scale; the pooled z of the recent backtest
rows, per horizon bucket, carries the shape (skew, tails) that a symmetric interval cannot. The quantile at level
tau is then yhat + k_tau * half-width, with k_tau the tau-quantile of z: quantiles of one sample, so they never
cross, and clipping at 0 keeps them in order. Where too few rows are known, k_tau is the normal shape that puts
P10 and P90 on the interval's bounds (the interval is already conformal-calibrated to its nominal width).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from bakery.models.config import ModelConfig

DEFAULT_LEVELS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
OFFSET_COLUMNS = ["horizon", "level", "k", "n"]


def levels(cfg: ModelConfig) -> list[float]:
    """The quantile levels served and reported (interval_calibration.quantile_levels), sorted, in (0, 1)."""
    raw = cfg.interval_calibration.get("quantile_levels", DEFAULT_LEVELS)
    out = sorted({float(v) for v in raw})
    if not out or out[0] <= 0 or out[-1] >= 1:
        raise ValueError(f"models.yml interval_calibration.quantile_levels must lie in (0, 1), got {raw}")
    return out


def column(level: float) -> str:
    """The column of one quantile level: 0.9 -> 'q90', 0.95 -> 'q95', 0.05 -> 'q05'."""
    return f"q{round(level * 100):02d}"


def half_width(lower, upper) -> np.ndarray:
    """The interval's half-width, the unit quantile offsets are measured in (0 where there is no interval)."""
    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    return np.where(np.isfinite(lo) & np.isfinite(hi), np.maximum(hi - lo, 0.0) / 2, 0.0)


def normal_offsets(levels_: Sequence[float], width: float) -> np.ndarray:
    """k per level for a normal shape whose central `width` interval is the given one."""
    return norm.ppf(np.asarray(levels_, dtype=float)) / norm.ppf((1 + width) / 2)


def quantile_offsets(rows: pd.DataFrame, model: str, cfg: ModelConfig) -> pd.DataFrame:
    """Per horizon 1..max_horizon and level: k, the level-quantile of z over the rows of the horizon's bucket
    (interval_calibration.horizon_buckets); a bucket with fewer than min_rows rows takes the pooled k, and with
    fewer pooled rows the normal shape (n = 0). Censored rows (stock-outs) and rows without an interval are left
    out: their y is not the demand, or there is no unit to measure it in."""
    lv = levels(cfg)
    settings = cfg.interval_calibration
    edges = sorted(int(e) for e in settings.get("horizon_buckets", [cfg.max_horizon]))
    min_rows = int(settings.get("min_rows", 30))
    needed = ["y", model, f"{model}_lower", f"{model}_upper"]
    ok = rows.dropna(subset=needed) if set(needed) <= set(rows.columns) else rows.iloc[0:0]
    if "censored" in ok.columns:
        ok = ok[~ok["censored"].fillna(False).astype(bool)]
    hw = half_width(ok[f"{model}_lower"], ok[f"{model}_upper"]) if len(ok) else np.array([])
    keep = hw > 0
    z = (
        ((ok["y"].to_numpy(dtype=float) - ok[model].to_numpy(dtype=float))[keep] / hw[keep])
        if len(ok)
        else hw
    )
    bucket = np.searchsorted(edges, ok["horizon"].to_numpy()[keep]) if len(ok) else np.array([], dtype=int)
    fallback = normal_offsets(lv, cfg.interval_width)
    pooled = (np.quantile(z, lv), len(z)) if len(z) >= min_rows else (fallback, 0)
    out = []
    for h in range(1, cfg.max_horizon + 1):
        sel = z[bucket == np.searchsorted(edges, h)]
        k, n = (np.quantile(sel, lv), len(sel)) if len(sel) >= min_rows else pooled
        out.extend(
            {"horizon": h, "level": level, "k": float(v), "n": int(n)} for level, v in zip(lv, k, strict=True)
        )
    return pd.DataFrame(out, columns=OFFSET_COLUMNS)


def apply_offsets(
    frame: pd.DataFrame, offsets: pd.DataFrame | None, cfg: ModelConfig, yhat: str, lower: str, upper: str
) -> pd.DataFrame:
    """frame plus one column per level (column(level)): yhat + k * half-width, clipped at 0, non-decreasing in the
    level. Without offsets (none estimated yet) the normal shape serves."""
    lv = levels(cfg)
    h = frame["horizon"].to_numpy(dtype=int) if len(frame) else np.array([], dtype=int)
    if offsets is None or offsets.empty:
        k = np.tile(normal_offsets(lv, cfg.interval_width), (len(frame), 1))
    else:
        table = offsets.pivot(index="horizon", columns="level", values="k").reindex(columns=lv)
        k = table.reindex(np.clip(h, table.index.min(), table.index.max())).to_numpy(dtype=float)
    base = frame[yhat].to_numpy(dtype=float)[:, None]
    hw = half_width(frame[lower], frame[upper])[:, None]
    values = np.maximum.accumulate(np.clip(base + k * hw, 0.0, None), axis=1) if len(frame) else k
    return frame.assign(**{column(level): values[:, i] for i, level in enumerate(lv)})


def rolling_quantiles(rows: pd.DataFrame, cfg: ModelConfig, model: str, history: pd.DataFrame | None = None):
    """Backtest rows plus the served quantile columns of `model`, estimated at each cutoff from the rows of history
    (default: rows) whose target day is known by then, over the last interval_calibration.window_days: what the
    nightly job would have served that night."""
    history = rows if history is None else history
    window = pd.Timedelta(days=int(cfg.interval_calibration.get("window_days", 56)))
    parts = []
    for cutoff, grp in rows.groupby("cutoff", sort=True):
        known = history[(history["ds"] <= cutoff) & (history["ds"] > cutoff - window)]
        offsets = quantile_offsets(known, model, cfg)
        parts.append(apply_offsets(grp, offsets, cfg, model, f"{model}_lower", f"{model}_upper"))
    if not parts:
        return rows.assign(**{column(level): pd.Series(dtype=float) for level in levels(cfg)})
    return pd.concat(parts).loc[rows.index]


def quantile_at(frame: pd.DataFrame, level: float, cfg: ModelConfig) -> np.ndarray:
    """The demand quantile at any level in [min, max] of the served levels, interpolated linearly between the two
    nearest (so still monotone in the level); outside that range the nearest served level."""
    lv = levels(cfg)
    values = frame[[column(x) for x in lv]].to_numpy(dtype=float)
    if level <= lv[0]:
        return values[:, 0]
    if level >= lv[-1]:
        return values[:, -1]
    i = int(np.searchsorted(lv, level))
    if np.isclose(lv[i], level):
        return values[:, i]
    w = (level - lv[i - 1]) / (lv[i] - lv[i - 1])
    return (1 - w) * values[:, i - 1] + w * values[:, i]


def pinball(y, q, level: float) -> np.ndarray:
    """Pinball (quantile) loss per row: level * (y - q) above q, (1 - level) * (q - y) below."""
    diff = np.asarray(y, dtype=float) - np.asarray(q, dtype=float)
    return np.maximum(level * diff, (level - 1) * diff)


def quantile_report(rows: pd.DataFrame, cfg: ModelConfig, horizons: Sequence[int]) -> dict[str, object]:
    """Per level and horizon: coverage (share of days with y <= the quantile, against its level) and the mean
    pinball loss in % of the mean demand (scale-free, like wMAPE), over observed, uncensored days."""
    lv = levels(cfg)
    cols = [column(x) for x in lv]
    ok = rows.dropna(subset=["y", *cols])
    if "censored" in ok.columns:
        ok = ok[~ok["censored"].fillna(False).astype(bool)]
    out: dict[str, object] = {"levels": lv}
    for level, col in zip(lv, cols, strict=True):
        by_h = {}
        for h in horizons:
            grp = ok[ok["horizon"] == int(h)]
            mean_y = float(grp["y"].mean()) if len(grp) else np.nan
            loss = float(pinball(grp["y"], grp[col], level).mean()) if len(grp) else np.nan
            by_h[str(int(h))] = {
                "coverage": round(float((grp["y"] <= grp[col]).mean()), 4) if len(grp) else None,
                "pinball_pct": round(100 * loss / mean_y, 3) if len(grp) and mean_y > 0 else None,
                "n": int(len(grp)),
            }
        out[col] = by_h
    return out
