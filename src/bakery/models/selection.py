"""Champion choice per series or store from backtest rows, the champion forecast, and the promotion gate."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bakery.models.config import ModelConfig
from bakery.models.intervals import SCALE_COLUMNS, calibrate_frame, calibrate_rows, interval_scales
from bakery.models.output import FORECAST_COLUMNS, REASON_FIELDS, VALUE_COLUMNS

BASELINE = "seasonal_naive"
CHAMPION = "champion"
ENSEMBLE = "ensemble"
BOUNDS = ("_lower", "_upper")


def weight_settings(cfg: ModelConfig) -> dict[str, Any]:
    """selection.ensemble_weights with its defaults (level none = equal weights)."""
    raw = dict(cfg.selection.get("ensemble_weights") or {})
    level = raw.get("level", "none")
    if level not in ("none", "series", "store", "product", "all"):
        raise ValueError(
            f"selection.ensemble_weights.level must be none, series, store, product or all, got {level!r}"
        )
    buckets = sorted(int(b) for b in raw.get("horizon_buckets", [cfg.max_horizon]))
    if not buckets or buckets[0] < 1 or buckets[-1] < cfg.max_horizon:
        raise ValueError(
            f"selection.ensemble_weights.horizon_buckets must be >= 1 and end at >= max_horizon "
            f"({cfg.max_horizon}), got {buckets}"
        )
    prior = float(raw.get("prior_pairs", 0))
    step = float(raw.get("grid_step", 0.05))
    if prior < 0 or not 0 < step <= 1:
        raise ValueError(
            f"selection.ensemble_weights: prior_pairs must be >= 0 and grid_step in (0, 1], got {prior}, {step}"
        )
    method = raw.get("method", "grid")
    if method not in ("grid", "drop"):
        raise ValueError(f"selection.ensemble_weights.method must be grid or drop, got {method!r}")
    return {
        "level": level,
        "buckets": buckets,
        "prior_pairs": prior,
        "grid_step": step,
        "method": method,
        "drop_margin": float(raw.get("drop_margin", 0.35)),
        "min_pairs": int(raw.get("min_pairs", 28)),
    }


def _drop_weights(errors: np.ndarray, n: int, settings: dict[str, Any]) -> np.ndarray:
    """Equal weights over the members that do not lose clearly: a member whose absolute error exceeds the best
    member's by more than drop_margin, on at least min_pairs rows, gets weight 0."""
    keep = (errors <= errors.min() * (1 + settings["drop_margin"])) | (n < settings["min_pairs"])
    return keep / keep.sum()


def horizon_bucket(horizons: pd.Series | np.ndarray, buckets: list[int]) -> np.ndarray:
    """The bucket (its last horizon) each horizon falls in: buckets [1, 7, 28] -> 1 | 2..7 | 8..28."""
    idx = np.searchsorted(np.asarray(buckets), np.asarray(horizons, dtype=int), side="left")
    return np.asarray(buckets)[np.minimum(idx, len(buckets) - 1)]


def _simplex(k: int, step: float) -> np.ndarray:
    """Every weight vector of k members on a grid of this step (rows sum to 1)."""
    n = round(1 / step)
    pts = [c for c in itertools.product(range(n + 1), repeat=k - 1) if sum(c) <= n]
    return np.array([[*c, n - sum(c)] for c in pts], dtype=float) / n


def ensemble_weights(rows: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """Per series and horizon bucket, the ensemble members' weights (columns weight_<member>) from backtest rows.

    Per group (selection.ensemble_weights.level: each series, each store's or product's series pooled, or all) and
    bucket, on the rows where every member and y are known (n of them): method grid takes the convex combination
    on a grid that minimises the absolute error (what wMAPE sums), shrunk toward equal weights:
    w = (n * w_best + prior_pairs * equal) / (n + prior_pairs); method drop keeps equal weights but drops a member
    that loses clearly (_drop_weights). Thin evidence stays at or near equal weights. Empty when the level is none
    or a member has no column: the ensemble is then the equal-weight mean."""
    settings = weight_settings(cfg)
    members = list(cfg.selection["ensemble_members"])
    cols = [f"weight_{m}" for m in members]
    empty = pd.DataFrame(columns=["unique_id", "bucket", *cols])
    if settings["level"] == "none" or any(m not in rows.columns for m in members) or rows.empty:
        return empty
    group = {"series": "unique_id", "store": "store_id", "product": "product_id", "all": None}[
        settings["level"]
    ]
    known = rows.dropna(subset=[*members, "y"])
    known = known.assign(bucket=horizon_bucket(known["horizon"], settings["buckets"]))
    grid = _simplex(len(members), settings["grid_step"])
    equal = np.full(len(members), 1 / len(members))
    # A hair of preference for equal weights: ties (identical members) keep the plain mean.
    tie = 1e-9 * np.abs(grid - equal).sum(axis=1)
    prior = settings["prior_pairs"]
    keys = [group, "bucket"] if group else ["bucket"]
    records = []
    for key, grp in known.groupby(keys, sort=True):
        n = len(grp)
        if settings["method"] == "drop":
            w = _drop_weights(
                np.abs(grp[members].to_numpy() - grp["y"].to_numpy()[:, None]).sum(axis=0), n, settings
            )
        else:
            errors = np.abs(grp[members].to_numpy() @ grid.T - grp["y"].to_numpy()[:, None]).sum(axis=0)
            scale = max(float(grp["y"].abs().sum()), 1e-9)
            best = grid[np.argmin(errors / scale + tie)]
            w = (n * best + prior * equal) / (n + prior) if n + prior > 0 else equal
        key = key if isinstance(key, tuple) else (key,)
        records.append({**dict(zip(keys, key, strict=True)), **dict(zip(cols, w, strict=True))})
    per_group = pd.DataFrame(records)
    if per_group.empty:
        return empty
    series = rows[["unique_id", *([group] if group and group != "unique_id" else [])]].drop_duplicates(
        "unique_id"
    )
    out = (
        series.merge(per_group, on=[group] if group else None, how="inner")
        if group
        else series.merge(per_group, how="cross")
    )
    return out[["unique_id", "bucket", *cols]].sort_values(["unique_id", "bucket"]).reset_index(drop=True)


def with_weights(choice: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """The choice plus the ensemble weights as columns weight_<member>_h<bucket> (how the model bundle keeps
    them, in choice.parquet); a series-level choice only (a store-level choice keeps equal weights)."""
    if weights.empty or choice.columns[0] != "unique_id":
        return choice
    wide = weights.pivot(index="unique_id", columns="bucket")
    wide.columns = [f"{col}_h{bucket}" for col, bucket in wide.columns]
    return choice.merge(wide.reset_index(), on="unique_id", how="left")


def weights_of(choice: pd.DataFrame | None) -> pd.DataFrame:
    """The weights frame (unique_id, bucket, weight_<member>) kept in a choice by with_weights; empty if none."""
    if choice is None or choice.empty or choice.columns[0] != "unique_id":
        return pd.DataFrame(columns=["unique_id", "bucket"])
    cols = [c for c in choice.columns if c.startswith("weight_") and "_h" in c]
    if not cols:
        return pd.DataFrame(columns=["unique_id", "bucket"])
    long = choice[["unique_id", *cols]].melt(id_vars="unique_id", var_name="col", value_name="w")
    parts = long["col"].str.rsplit("_h", n=1, expand=True)
    long = long.assign(member=parts[0], bucket=parts[1].astype(int))
    out = long.pivot_table(index=["unique_id", "bucket"], columns="member", values="w").reset_index()
    out.columns.name = None
    return out


def _row_weights(rows: pd.DataFrame, members: list[str], weights: pd.DataFrame | None, cfg) -> np.ndarray:
    """Per row, the members' weights (equal where the weights have no entry for its series and bucket)."""
    equal = np.full((len(rows), len(members)), 1 / len(members))
    cols = [f"weight_{m}" for m in members]
    if weights is None or weights.empty or cfg is None or any(c not in weights.columns for c in cols):
        return equal
    buckets = sorted(int(b) for b in weights["bucket"].unique())
    settings_buckets = weight_settings(cfg)["buckets"] if cfg.selection.get("ensemble_weights") else buckets
    keyed = pd.DataFrame(
        {
            "unique_id": rows["unique_id"].to_numpy(),
            "bucket": horizon_bucket(rows["horizon"], settings_buckets),
        }
    )
    found = keyed.merge(weights[["unique_id", "bucket", *cols]], on=["unique_id", "bucket"], how="left")
    w = found[cols].to_numpy(dtype=float)
    return np.where(np.isnan(w), equal, w)


def add_ensemble(
    rows: pd.DataFrame,
    members: list[str],
    name: str = ENSEMBLE,
    weights: pd.DataFrame | None = None,
    cfg: ModelConfig | None = None,
) -> pd.DataFrame:
    """rows plus the weighted mean of the member forecasts (null where any member is null), and of their bounds
    when every member has them. weights (ensemble_weights; needs cfg for its horizon buckets) give each series
    and horizon bucket its members' weights; without them, or for a series they lack, the weights are equal."""
    missing = [m for m in members if m not in rows.columns]
    if missing:
        raise ValueError(f"ensemble members {missing} are not columns of the backtest rows")
    w = _row_weights(rows, members, weights, cfg)
    out = rows.assign(**{name: (rows[members].to_numpy(dtype=float) * w).sum(axis=1)})
    out.loc[rows[members].isna().any(axis=1).to_numpy(), name] = np.nan
    for bound in BOUNDS:
        cols = [f"{m}{bound}" for m in members]
        if all(c in rows.columns for c in cols):
            vals = rows[cols].to_numpy(dtype=float)
            out[f"{name}{bound}"] = np.where(np.isnan(vals).any(axis=1), np.nan, (vals * w).sum(axis=1))
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


def _average(frames: list[pd.DataFrame], name: str, weights: list[np.ndarray] | None = None) -> pd.DataFrame:
    """Weighted mean (equal weights by default; else per frame, one weight a row) of several models'
    FORECAST_SCHEMA rows (components and regressors too); only (series, day) pairs every model forecast."""
    n = len(frames)
    weights = weights or [np.full(len(f), 1 / n) for f in frames]
    both = pd.concat(frames, ignore_index=True)
    w = np.concatenate(weights)
    keys = [both["unique_id"], both["ds"]]
    weighted = both[VALUE_COLUMNS].astype(float).mul(w, axis=0)
    grouped = both.groupby(keys, sort=True)
    out = weighted.groupby(keys, sort=True).sum(min_count=1)
    out[["store_id", "product_id", "as_of", "horizon"]] = grouped[
        ["store_id", "product_id", "as_of", "horizon"]
    ].first()
    out["regressors"] = _mean_regressors(both["regressors"], keys, w).reindex(out.index)
    # The first member's reason code, launch day and facts (their texts are joined below).
    out[REASON_FIELDS] = grouped[REASON_FIELDS].first()
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


def _mean_regressors(texts: pd.Series, keys: list[pd.Series], w: np.ndarray) -> pd.Series:
    """Per (series, day): the JSON of each regressor's contribution weighted by each model's weight w (a model
    without the regressor adds 0); only regressors some model has."""
    regs = pd.DataFrame(
        [json.loads(t) if isinstance(t, str) else {} for t in texts], index=texts.index, dtype=float
    )
    if regs.shape[1] == 0:
        return pd.Series("{}", index=pd.MultiIndex.from_arrays(keys)).groupby(level=[0, 1]).first()
    present = regs.notna().groupby(keys).any()
    sums = regs.fillna(0.0).mul(w, axis=0).groupby(keys).sum().round(4)
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
    (from calibration) widen each candidate's intervals, the ensemble's after averaging its members'. The
    ensemble weighs its members by the weights the choice carries (with_weights), equally where it has none."""
    frames = dict(candidates)
    members = cfg.selection["ensemble_members"]
    if ENSEMBLE not in frames and all(m in frames for m in members):
        parts = [frames[m] for m in members]
        weights = weights_of(choice)
        per_frame = None
        if not weights.empty:
            per_frame = [_row_weights(f, members, weights, cfg)[:, k] for k, f in enumerate(parts)]
        frames[ENSEMBLE] = _average(parts, ENSEMBLE, per_frame)
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
    default candidate serves. With selection.ensemble_weights on, the ensemble column is rebuilt at each cutoff
    with the weights estimated from the known rows (or those the choice carries), as training weighs it. The champion's bounds are calibrated on the known rows of the last
    interval_calibration.window_days, as training calibrates on its recent selection backtest."""
    history = rows if history is None else history
    window = pd.Timedelta(days=int(cfg.interval_calibration.get("window_days", 56)))
    members = cfg.selection["ensemble_members"]
    weighted = weight_settings(cfg)["level"] != "none" and all(m in rows.columns for m in members)
    parts = []
    for cutoff, grp in rows.groupby("cutoff", sort=True):
        known = history[history["ds"] <= cutoff]
        if weighted:
            weights = ensemble_weights(known, cfg) if choice is None else weights_of(choice)
            known = add_ensemble(known, members, weights=weights, cfg=cfg)
            grp = add_ensemble(grp, members, weights=weights, cfg=cfg)
        chosen = select_models(known, cfg) if choice is None else choice
        scales = calibration(known[known["ds"] > cutoff - window], cfg)
        parts.append(served_selection(grp, chosen, scales, cfg, name))
    if not parts:
        return rows.assign(**{name: pd.Series(dtype=float)})
    return pd.concat(parts).loc[rows.index]
