"""Champion choice per series or store from backtest rows, the champion forecast, and the promotion gate."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bakery.models.config import ModelConfig
from bakery.models.intervals import SCALE_COLUMNS, calibrate_frame, calibrate_rows, interval_scales
from bakery.models.output import FORECAST_COLUMNS, VALUE_COLUMNS

BASELINE = "seasonal_naive"
CHAMPION = "champion"
ENSEMBLE = "ensemble"
BOUNDS = ("_lower", "_upper")


def add_ensemble(rows: pd.DataFrame, members: list[str], name: str = ENSEMBLE) -> pd.DataFrame:
    """rows plus the equal-weight mean of the member forecasts (null where any member is null), and of their
    bounds when every member has them."""
    missing = [m for m in members if m not in rows.columns]
    if missing:
        raise ValueError(f"ensemble members {missing} are not columns of the backtest rows")
    out = rows.assign(**{name: rows[members].mean(axis=1, skipna=False)})
    for bound in BOUNDS:
        cols = [f"{m}{bound}" for m in members]
        if all(c in rows.columns for c in cols):
            out[f"{name}{bound}"] = rows[cols].mean(axis=1, skipna=False)
    return out


def calibrates(cfg: ModelConfig) -> bool:
    """Whether intervals are calibrated on backtest errors (then backtests need the challenger's bounds)."""
    return bool(cfg.interval_calibration.get("enabled", False))


def calibration(rows: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """Interval scale factors (intervals.interval_scales) of every candidate with bounds in these backtest
    rows; none when interval_calibration is off."""
    if not calibrates(cfg):
        return pd.DataFrame(columns=SCALE_COLUMNS)
    candidates = list(dict.fromkeys([*cfg.selection["candidates"], BASELINE]))
    return interval_scales(rows, candidates, cfg.interval_width, cfg.interval_calibration)


def fallback_order(cfg: ModelConfig, present=None) -> list[str]:
    """Who serves when the chosen model has no forecast: the default, then (when the default is the ensemble
    and it cannot be formed, e.g. the challenger could not train) its members in order, then seasonal naive;
    only the models in present, when given."""
    sel = cfg.selection
    order = [sel["default"], *(sel["ensemble_members"] if sel["default"] == ENSEMBLE else []), BASELINE]
    return [m for m in dict.fromkeys(order) if present is None or m in present]


def _key(level: str) -> str:
    if level not in ("series", "store"):
        raise ValueError(f"selection level must be 'series' or 'store', got {level!r}")
    return "unique_id" if level == "series" else "store_id"


def select_models(rows: pd.DataFrame, cfg: ModelConfig, level: str | None = None) -> pd.DataFrame:
    """One row per series (or store): the chosen model and each candidate's pooled wMAPE.

    seasonal_naive is always a candidate. Candidates are compared on the rows where all of them have
    a forecast; the default is kept unless another is better by the configured relative margin, on at least
    `min_pairs` scored days of the series (or store)."""
    sel = cfg.selection
    key = _key(level or sel["level"])
    candidates = list(dict.fromkeys([*sel["candidates"], BASELINE]))
    candidates = [c for c in candidates if c in rows.columns]
    default = next(iter(fallback_order(cfg, candidates)), candidates[0])
    margin, min_pairs = float(sel["min_improvement"]), int(sel.get("min_pairs", 1))
    complete = rows.dropna(subset=[*candidates, "y"])
    records = []
    for k, grp in complete.groupby(key, sort=True):
        denom = grp["y"].abs().sum()
        scores = {
            c: 100 * (grp[c] - grp["y"]).abs().sum() / denom if denom > 0 else np.nan for c in candidates
        }
        best = min(scores, key=lambda c: (np.inf if np.isnan(scores[c]) else scores[c]))
        clear = scores[best] < scores[default] * (1 - margin) and len(grp) >= min_pairs
        chosen = best if clear else default
        records.append(
            {key: k, "model": chosen, "n": len(grp), **{f"wmape_{c}": scores[c] for c in candidates}}
        )
    return pd.DataFrame(records, columns=[key, "model", "n", *[f"wmape_{c}" for c in candidates]])


def apply_selection(
    rows: pd.DataFrame, choice: pd.DataFrame, cfg: ModelConfig, name: str = CHAMPION
) -> pd.DataFrame:
    """rows plus the champion column: the chosen model's forecast; keys never selected use the
    default, and a missing forecast (or a model with no column) falls back along fallback_order. The
    champion's bounds (<name>_lower / _upper) come from the same model, where it has them."""
    key = choice.columns[0]
    fills = fallback_order(cfg, rows.columns)
    chosen = rows[key].map(choice.set_index(key)["model"]).fillna(cfg.selection["default"])
    values = pd.Series(np.nan, index=rows.index)
    for model in chosen.unique():
        if model in rows.columns:
            mask = chosen == model
            values[mask] = rows.loc[mask, model]
    source = chosen.copy()
    for fill in fills:
        source = source.where(values.notna() | rows[fill].isna(), fill)
        values = values.fillna(rows[fill])
    out = rows.assign(**{name: values.to_numpy()})
    for bound in BOUNDS:
        if not any(f"{m}{bound}" in rows.columns for m in source.unique()):
            continue
        taken = pd.Series(np.nan, index=rows.index)
        for model in source.unique():
            if f"{model}{bound}" in rows.columns:
                mask = source == model
                taken[mask] = rows.loc[mask, f"{model}{bound}"]
        out[f"{name}{bound}"] = taken.to_numpy()
    return out


@dataclass
class GateResult:
    """Whether a challenger may replace the champion, and why not."""

    ok: bool
    reasons: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        return ["promotion gate: pass"] if self.ok else [f"promotion gate: fail: {r}" for r in self.reasons]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reasons": list(self.reasons)}


def promotion_gate(
    scores: dict[str, dict[int, dict[str, float]]], challenger: str, champion: str | None, cfg: ModelConfig
) -> GateResult:
    """Per horizon: challenger wMAPE within the configured share of seasonal naive and of the current
    champion (when there is one), and |bias| within bounds. scores come from metrics.evaluate.

    A bar the current champion fails too (baseline ratio or bias) blocks the challenger only where it
    is worse than the champion there: otherwise an ageing champion could never be replaced."""
    gate = cfg.gate
    reasons = []
    if challenger not in scores or BASELINE not in scores:
        return GateResult(False, [f"scores lack {challenger!r} or {BASELINE!r}"])
    current = scores.get(champion, {}) if champion else {}
    for h, m in sorted(scores[challenger].items()):
        base = scores[BASELINE].get(h, {}).get("wmape", np.nan)
        cur = current.get(h)
        ratio = gate["max_wmape_ratio_vs_baseline"]
        if not m["wmape"] <= ratio * base and not (
            cur and not cur["wmape"] <= ratio * base and m["wmape"] <= cur["wmape"]
        ):
            reasons.append(f"h={h}: wMAPE {m['wmape']:.2f} not <= {ratio} x seasonal_naive {base:.2f}")
        if cur and not m["wmape"] <= gate["max_wmape_ratio_vs_champion"] * cur["wmape"]:
            reasons.append(
                f"h={h}: wMAPE {m['wmape']:.2f} not <= {gate['max_wmape_ratio_vs_champion']} x champion {cur['wmape']:.2f}"
            )
        limit = gate["max_abs_bias"]
        if not abs(m["bias"]) <= limit and not (
            cur and abs(cur["bias"]) > limit and abs(m["bias"]) <= abs(cur["bias"])
        ):
            reasons.append(f"h={h}: |bias| {abs(m['bias']):.2f} > {limit}")
    return GateResult(not reasons, reasons)


def _average(frames: list[pd.DataFrame], name: str) -> pd.DataFrame:
    """Equal-weight mean of several models' FORECAST_SCHEMA rows (components and regressors too); only
    (series, day) pairs every model forecast."""
    n = len(frames)
    both = pd.concat(frames, ignore_index=True)
    keys = [both["unique_id"], both["ds"]]
    grouped = both.groupby(keys, sort=True)
    out = grouped[VALUE_COLUMNS].mean()
    out[["store_id", "product_id", "as_of", "horizon"]] = grouped[
        ["store_id", "product_id", "as_of", "horizon"]
    ].first()
    out["regressors"] = _mean_regressors(both["regressors"], keys, n).reindex(out.index)
    for col in ("fallback_reason", "notes"):
        texts = both[col].dropna()
        joined = (
            texts.groupby([k[texts.index] for k in keys], sort=False).unique().map("; ".join)
            if len(texts)
            else pd.Series(dtype=object)
        )
        out[col] = joined.reindex(out.index).astype(object).where(lambda s: s.notna(), None)
    out = out[grouped.size() == n].reset_index().assign(model=name)
    return out[FORECAST_COLUMNS]


def _mean_regressors(texts: pd.Series, keys: list[pd.Series], n: int) -> pd.Series:
    """Per (series, day): the JSON of each regressor's contribution summed over the models / n (a model
    without the regressor adds 0); only regressors some model has."""
    regs = pd.DataFrame(
        [json.loads(t) if isinstance(t, str) else {} for t in texts], index=texts.index, dtype=float
    )
    if regs.shape[1] == 0:
        return pd.Series("{}", index=pd.MultiIndex.from_arrays(keys)).groupby(level=[0, 1]).first()
    present = regs.notna().groupby(keys).any()
    sums = (regs.fillna(0.0) / n).groupby(keys).sum().round(4)
    names = list(sums.columns)
    return pd.Series(
        [
            json.dumps({k: float(v) for k, v, p in zip(names, row, has, strict=True) if p})
            for row, has in zip(sums.to_numpy(), present.to_numpy(), strict=True)
        ],
        index=sums.index,
    )


def champion_forecast(
    candidates: dict[str, pd.DataFrame],
    choice: pd.DataFrame,
    cfg: ModelConfig,
    scales: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """FORECAST_SCHEMA rows of each series' chosen model (choice from select_models).

    candidates maps a candidate name to its rows (prophet rows may be weekday-profile fallbacks:
    they still stand for 'prophet'); the ensemble is built from its members when not given. A series
    whose choice has no rows gets the first of fallback_order that has them, then whatever model has it. scales
    (from calibration) widen each candidate's intervals, the ensemble's after averaging its members'."""
    frames = dict(candidates)
    members = cfg.selection["ensemble_members"]
    if ENSEMBLE not in frames and all(m in frames for m in members):
        frames[ENSEMBLE] = _average([frames[m] for m in members], ENSEMBLE)
    frames = {m: calibrate_frame(f, scales, m) for m, f in frames.items()}
    key = choice.columns[0]
    wanted = choice.set_index(key)["model"]
    order = fallback_order(cfg)
    by_model = {m: dict(tuple(f.groupby("unique_id", sort=False))) for m, f in frames.items()}
    uids = sorted({uid for per_uid in by_model.values() for uid in per_uid})
    out = []
    for uid in uids:
        available = [m for m in by_model if uid in by_model[m]]
        series_key = by_model[available[0]][uid][key].iloc[0]
        preferences = [wanted.get(series_key, order[0]), *order, *available]
        out.append(next(by_model[m][uid] for m in preferences if m in available))
    if not out:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    return pd.concat(out, ignore_index=True)[FORECAST_COLUMNS]


def served_selection(
    rows: pd.DataFrame,
    choice: pd.DataFrame,
    scales: pd.DataFrame | None,
    cfg: ModelConfig,
    name: str = CHAMPION,
) -> pd.DataFrame:
    """apply_selection with the champion's bounds calibrated by scales, as the pipeline serves them; the
    candidates' own columns stay as they were fitted."""
    served = apply_selection(calibrate_rows(rows, scales), choice, cfg, name)
    return rows.assign(**{c: served[c] for c in (name, f"{name}_lower", f"{name}_upper") if c in served})


def rolling_selection(
    rows: pd.DataFrame,
    cfg: ModelConfig,
    name: str = CHAMPION,
    history: pd.DataFrame | None = None,
    choice: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """rows plus the champion column (and its bounds), chosen at each cutoff from the rows of history (default:
    rows) whose target day is <= that cutoff (what was known then), or fixed by choice; before any is known, the
    default candidate serves. The champion's bounds are calibrated on the known rows of the last
    interval_calibration.window_days, as training calibrates on its recent selection backtest."""
    history = rows if history is None else history
    window = pd.Timedelta(days=int(cfg.interval_calibration.get("window_days", 56)))
    parts = []
    for cutoff, grp in rows.groupby("cutoff", sort=True):
        known = history[history["ds"] <= cutoff]
        chosen = select_models(known, cfg) if choice is None else choice
        scales = calibration(known[known["ds"] > cutoff - window], cfg)
        parts.append(served_selection(grp, chosen, scales, cfg, name))
    if not parts:
        return rows.assign(**{name: pd.Series(dtype=float)})
    return pd.concat(parts).loc[rows.index]
