"""Global LightGBM challenger: one direct multi-horizon model over all series, trained on scaled targets.

Direct (horizon is a feature) rather than recursive: one model, no error feedback through lags, and
one training per cutoff instead of 28 sequential predictions; every feature is known at the origin.
Targets are divided by the series' recent level and weighted by it, so the L1 loss is the absolute
error in units (what wMAPE sums) and one model serves series of very different size.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import lightgbm as lgb
import numpy as np
import pandas as pd

from bakery.models.backtest import long_rows
from bakery.models.calendar import around_holiday, holiday_table, legal_holiday_dates
from bakery.models.config import ModelConfig
from bakery.models.forecaster import GlobalForecaster
from bakery.models.frames import Regressors, day_of_year_means, regressor_columns, regressor_table, to_long
from bakery.models.output import FORECAST_COLUMNS
from bakery.models.reasons import no_level

log = logging.getLogger(__name__)

LGBM = "lgbm"
HOLIDAY_FEATURES = ["is_holiday", "is_special", "days_to_holiday", "days_from_holiday"]
FEATURE_GROUPS = {"weekly": ["dow"], "yearly": ["doy", "month", "dom", "ly", "lyn", "ly_level"]}


@dataclass
class Panel:
    """All series on one daily grid: y (NaN = no observation), censored flags, regressors, calendar."""

    uids: np.ndarray
    store_ids: np.ndarray
    product_ids: np.ndarray
    dates: pd.DatetimeIndex
    y: np.ndarray
    censored: np.ndarray
    regs: dict[str, np.ndarray]
    cal: dict[str, np.ndarray]
    regressors: Regressors
    store_codes: np.ndarray
    product_codes: np.ndarray

    def index_of(self, day: pd.Timestamp) -> int:
        return int((pd.Timestamp(day) - self.dates[0]).days)


def build_panel(features: pd.DataFrame, cfg: ModelConfig, until: date | pd.Timestamp | None = None) -> Panel:
    """gold.features rows of many series -> Panel, its grid extended max_horizon days past the later of the last
    row and until (the latest origin to predict from: a backtest cutoff or an as-of date after the data)."""
    long = to_long(features, cfg)
    table = regressor_table(features, cfg)
    uids = np.array(sorted(table["unique_id"].unique()))
    last = table["ds"].max() if until is None else max(table["ds"].max(), pd.Timestamp(until))
    dates = pd.date_range(table["ds"].min(), last + pd.Timedelta(days=cfg.max_horizon), freq="D")
    pos = pd.Series(np.arange(len(uids)), index=uids)

    def grid(frame: pd.DataFrame, col: str, fill: float = np.nan) -> np.ndarray:
        out = np.full((len(uids), len(dates)), fill, dtype=float)
        out[pos[frame["unique_id"]].to_numpy(), (frame["ds"] - dates[0]).dt.days.to_numpy()] = frame[
            col
        ].to_numpy(float)
        return out

    regressors = regressor_columns(table, cfg)
    firsts = table.groupby("unique_id").first().reindex(uids)
    return Panel(
        uids=uids,
        store_ids=firsts["store_id"].to_numpy(str),
        product_ids=firsts["product_id"].to_numpy(str),
        dates=dates,
        y=grid(long, "y"),
        censored=grid(long.assign(c=long["censored"].astype(float)), "c", 0.0) > 0,
        regs={c: grid(table, c) for c in regressors.all},
        cal=_calendar_grid(firsts, dates, cfg),
        regressors=regressors,
        store_codes=pd.factorize(firsts["store_id"])[0],
        product_codes=pd.factorize(firsts["product_id"])[0],
    )


def _calendar_grid(firsts: pd.DataFrame, dates: pd.DatetimeIndex, cfg: ModelConfig) -> dict[str, np.ndarray]:
    country = (
        firsts["country"]
        if "country" in firsts
        else pd.Series(cfg.prophet["default_country"], index=firsts.index)
    )
    sub = firsts["subdivision"] if "subdivision" in firsts else pd.Series(None, index=firsts.index)
    keys = list(
        zip(country.fillna(cfg.prophet["default_country"]), sub.where(sub.notna(), None), strict=True)
    )
    years = range(dates[0].year - 1, dates[-1].year + 2)
    ds = pd.Series(dates)
    per_key = {}
    for key in set(keys):
        feats = around_holiday(ds, legal_holiday_dates(key[0], key[1], years, cfg), [])
        special = holiday_table(key[0], key[1], years, cfg)["ds"]
        feats["is_special"] = ds.isin(special).astype(float).to_numpy()
        per_key[key] = feats
    return {name: np.vstack([per_key[k][name].to_numpy() for k in keys]) for name in HOLIDAY_FEATURES}


def _chain_mean(y: np.ndarray, weeks: int) -> np.ndarray:
    """Per day x: mean of the observed values among x, x-7, ..., x-7*(weeks-1) (same weekday)."""
    acc = np.zeros_like(y)
    cnt = np.zeros_like(y)
    for k in range(weeks):
        shifted = np.full_like(y, np.nan)
        shifted[:, 7 * k :] = y[:, : y.shape[1] - 7 * k]
        ok = ~np.isnan(shifted)
        acc[ok] += shifted[ok]
        cnt += ok
    with np.errstate(invalid="ignore"):
        return np.where(cnt > 0, acc / np.maximum(cnt, 1), np.nan)


def _chain_last(y: np.ndarray) -> np.ndarray:
    """Per day x: the latest observed value among x, x-7, x-14, ... (the seasonal-naive source)."""
    out = y.copy()
    for start in range(7):
        block = out[:, start::7]
        out[:, start::7] = pd.DataFrame(block.T).ffill().to_numpy().T
    return out


def _window_mean(y: np.ndarray, days: int) -> np.ndarray:
    """Per day x: mean of the observed values in (x - days, x]."""
    return pd.DataFrame(y.T).rolling(days, min_periods=1).mean().to_numpy().T


def _level(y: np.ndarray, days: int) -> np.ndarray:
    """Per day x: the mean of the observed values in (x - days, x] or, where that window has none (a store shut
    for a month, a product off sale), the mean of the series' last `days` observations before it."""
    level = _window_mean(y, days)
    for k in np.flatnonzero(np.isnan(level).any(axis=1)):
        seen = np.flatnonzero(~np.isnan(y[k]))
        if len(seen) == 0:
            continue
        means = pd.Series(y[k, seen]).rolling(days, min_periods=1).mean().to_numpy()
        latest = np.searchsorted(seen, np.arange(y.shape[1]), side="right") - 1
        gap = np.isnan(level[k]) & (latest >= 0)
        level[k, gap] = means[latest[gap]]
    return level


@dataclass
class _Stats:
    level: np.ndarray
    level56: np.ndarray
    last7: np.ndarray
    chain_last: np.ndarray
    chain4: np.ndarray
    chain8: np.ndarray
    ly_neigh: np.ndarray
    clim: dict[str, np.ndarray]
    reg_window: dict[str, np.ndarray]
    # Per series: whether its history up to the cutoff is shorter than challenger.season_once_days (one season
    # seen at most): only then does last year's step scale its targets.
    season_once: np.ndarray


def _stats(panel: Panel, cutoff_idx: int, cfg: ModelConfig) -> _Stats:
    """Rolling statistics from data <= cutoff only (later days are blanked before computing)."""
    y = panel.y.copy()
    y[:, cutoff_idx + 1 :] = np.nan
    level_days = int(cfg.challenger["level_days"])
    doy = panel.dates.dayofyear.to_numpy()
    clim = {}
    for col in panel.regressors.weather:
        vals = panel.regs[col].copy()
        vals[:, cutoff_idx + 1 :] = np.nan
        clim[col] = day_of_year_means(doy, vals, cfg.climatology_window_days)[:, doy - 1]
    y_next = np.full_like(y, np.nan)
    y_next[:, :-7] = y[:, 7:]
    y_prev = np.full_like(y, np.nan)
    y_prev[:, 7:] = y[:, :-7]
    stacked = np.stack([y_prev, y, y_next])
    counts = (~np.isnan(stacked)).sum(axis=0)
    ly_neigh = np.where(counts > 0, np.nansum(stacked, axis=0) / np.maximum(counts, 1), np.nan)
    return _Stats(
        level=_level(y, level_days),
        level56=_window_mean(y, 56),
        last7=_window_mean(y, 7),
        chain_last=_chain_last(y),
        chain4=_chain_mean(y, 4),
        chain8=_chain_mean(y, 8),
        ly_neigh=ly_neigh,
        clim=clim,
        # Regressor means over the level window: the conditions the origin level was measured in.
        reg_window={
            c: _window_mean(panel.regs[c], level_days)
            for c in (*panel.regressors.weather, *panel.regressors.calendar)
        },
        season_once=_history_days(y, cutoff_idx) < int(cfg.challenger.get("season_once_days", 728)),
    )


def _history_days(y: np.ndarray, cutoff_idx: int) -> np.ndarray:
    """Per series: days from its first observation to the cutoff (-1 when it has none yet)."""
    seen = ~np.isnan(y[:, : cutoff_idx + 1])
    first = np.where(seen.any(axis=1), seen.argmax(axis=1), cutoff_idx + 1)
    return cutoff_idx - first


def _take(mat: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    ok = (j >= 0) & (j < mat.shape[1])
    out = np.full(len(i), np.nan)
    out[ok] = mat[i[ok], j[ok]]
    return out


def season_step(
    st: _Stats, i: np.ndarray, t: np.ndarray, h: np.ndarray, cfg: ModelConfig, unknown: float = 1.0
) -> np.ndarray:
    """Last year's move of the series' level from the origin's date to the target day's: the 28-day mean
    centred on d - 364 over the trailing one at t - 364 (windows of level_days), clipped to
    challenger.season_step_range; `unknown` (1: no move) where last year is unknown (less than a year of history).

    A series that has seen its season once (a summer in which sales double) holds no training row in which the
    season moved the target: lags and rolling means only catch up after the level has moved. Scaling the target's
    reference level by this step carries last year's move into the forecast (see challenger.season_scale)."""
    days = int(cfg.challenger["level_days"])
    d = t + h
    lo, hi = cfg.challenger.get("season_step_range", [0.5, 2.0])
    with np.errstate(invalid="ignore", divide="ignore"):
        step = _take(st.level, i, d - 364 + days // 2) / _take(st.level, i, t - 364)
    return np.where(np.isfinite(step), np.clip(step, lo, hi), unknown)


def _base(st: _Stats, i: np.ndarray, t: np.ndarray, h: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    """The reference level targets are divided by: the origin's level, times season_step ** season_scale for a
    series that has seen its season at most once (with two or more, the trees learn it from the lag features)."""
    power = float(cfg.challenger.get("season_scale", 0.0))
    level = st.level[i, t]
    if power == 0:
        return level
    return np.where(st.season_once[i], level * season_step(st, i, t, h, cfg) ** power, level)


def _features(
    panel: Panel, st: _Stats, i: np.ndarray, t: np.ndarray, h: np.ndarray, cfg: ModelConfig
) -> pd.DataFrame:
    """Feature rows for series i, origin day t, horizon h (target day d = t + h)."""
    d = t + h
    dates = panel.dates
    level = st.level[i, t]
    back = d - 7 * np.ceil(h / 7).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        feats = {
            "h": h.astype(float),
            "dow": dates.dayofweek.to_numpy()[d],
            "doy": dates.dayofyear.to_numpy()[d],
            "month": dates.month.to_numpy()[d],
            "dom": dates.day.to_numpy()[d],
            **{name: panel.cal[name][i, d] for name in HOLIDAY_FEATURES},
            "sn": _take(st.chain_last, i, back) / level,
            "m4": _take(st.chain4, i, back) / level,
            "m8": _take(st.chain8, i, back) / st.level56[i, t],
            "last": panel.y[i, t] / level,
            "r7": st.last7[i, t] / level,
            "ly": _take(panel.y, i, d - 364) / level,
            "lyn": _take(st.ly_neigh, i, d - 364) / level,
            "ly_level": _take(st.level, i, t - 364) / level,
            "log_level": np.log1p(level),
            "trend28": level / _take(st.level, i, t - 28),
            "store": panel.store_codes[i],
            "product": panel.product_codes[i],
        }
    lookahead = cfg.weather_lookahead_days
    for col in panel.regressors.weather:
        observed = panel.regs[col][i, d]
        clim = st.clim[col][i, d]
        feats[col] = np.where((h <= lookahead) & ~np.isnan(observed), observed, clim)
        feats[f"{col}_vs_level"] = feats[col] - st.reg_window[col][i, t]
    known_ahead = cfg.regressors.get("planned_known_ahead", False)
    for col in panel.regressors.planned:
        feats[col] = np.nan_to_num(panel.regs[col][i, d] if known_ahead else panel.regs[col][i, t])
    for col in panel.regressors.calendar:
        feats[col] = np.nan_to_num(panel.regs[col][i, d])
        feats[f"{col}_in_level"] = st.reg_window[col][i, t]
    return pd.DataFrame(feats)


@dataclass
class FittedChallenger:
    """The point model, optional quantile models, and the cutoff it was trained at."""

    model: lgb.LGBMRegressor
    quantiles: tuple[lgb.LGBMRegressor, lgb.LGBMRegressor] | None
    cutoff_idx: int
    columns: list[str]
    # Category order of the store / product codes at training (a later panel is recoded to match).
    stores: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)


def _training_rows(panel: Panel, st: _Stats, cutoff_idx: int, cfg: ModelConfig):
    ch = cfg.challenger
    rng = np.random.default_rng(int(ch["seed"]))
    first = max(cutoff_idx - int(ch["train_days"]), 1)
    origins = np.arange(cutoff_idx - 1, first, -int(ch["origin_step_days"]))[::-1]
    if len(origins) == 0:
        raise ValueError(f"challenger: no training rows up to the cutoff {panel.dates[cutoff_idx].date()}")
    k = min(int(ch["horizons_per_origin"]), cfg.max_horizon)
    hs = np.stack([rng.choice(np.arange(1, cfg.max_horizon + 1), k, replace=False) for _ in origins])
    n_series = len(panel.uids)
    i = np.repeat(np.arange(n_series), len(origins) * k)
    t = np.tile(np.repeat(origins, k), n_series)
    h = np.tile(hs.ravel(), n_series)
    d = t + h
    y = _take(panel.y, i, d)
    ok = (d <= cutoff_idx) & ~np.isnan(y) & ~_take(panel.censored.astype(float), i, d).astype(bool)
    ok &= st.level[i, t] > 0
    if float(ch.get("season_scale", 0.0)) > 0:
        # Rows from before last year was known carry the season in their targets but not in their reference level:
        # trained on, they teach the calendar features the one season seen, which the scaled level then repeats.
        once = ok & st.season_once[i]
        seen = once & np.isfinite(season_step(st, i, t, h, cfg, unknown=np.nan))
        if once.any() and seen.sum() >= float(ch.get("season_min_share", 0.25)) * once.sum():
            ok &= seen | ~st.season_once[i]
    i, t, h, y = i[ok], t[ok], h[ok], y[ok]
    base = _base(st, i, t, h, cfg)
    return _features(panel, st, i, t, h, cfg), y / base, base


def fit_challenger(
    panel: Panel, cutoff: pd.Timestamp, cfg: ModelConfig, with_intervals: bool = True
) -> FittedChallenger:
    """Train on targets <= cutoff (features from data <= each origin)."""
    cutoff_idx = panel.index_of(cutoff)
    if not 0 <= cutoff_idx < len(panel.dates):
        raise ValueError(
            f"challenger: the cutoff {pd.Timestamp(cutoff).date()} is outside the data "
            f"({panel.dates[0].date()}..{panel.dates[-1].date()})"
        )
    st = _stats(panel, cutoff_idx, cfg)
    x, target, weight = _training_rows(panel, st, cutoff_idx, cfg)
    if len(x) == 0:
        raise ValueError(f"challenger: no training rows up to the cutoff {pd.Timestamp(cutoff).date()}")
    params = dict(cfg.challenger["lgbm"])
    params.setdefault("random_state", int(cfg.challenger["seed"]))
    model = lgb.LGBMRegressor(**params)
    model.fit(x, target, sample_weight=weight, categorical_feature=["store", "product"])
    quantiles = None
    if with_intervals:
        lo_a, hi_a = (1 - cfg.interval_width) / 2, (1 + cfg.interval_width) / 2
        # Weights scaled to mean 1: with raw levels as weights (up to hundreds of units) LightGBM's quantile leaves
        # went wild on a few rows (upper bounds of 10^5-10^8 times the level on the chain in April 2019).
        unit = weight / weight.mean()
        quantiles = tuple(
            lgb.LGBMRegressor(
                **{**params, **cfg.challenger.get("quantile_lgbm", {}), "objective": "quantile", "alpha": a}
            ).fit(x, target, sample_weight=unit, categorical_feature=["store", "product"])
            for a in (lo_a, hi_a)
        )
    return FittedChallenger(
        model,
        quantiles,
        cutoff_idx,
        list(x.columns),
        list(pd.unique(panel.store_ids)),
        list(pd.unique(panel.product_ids)),
    )


def _predict_rows(
    panel: Panel, fitted: FittedChallenger, cutoff: pd.Timestamp, horizons: Sequence[int], cfg: ModelConfig
):
    """Predictions at origin = cutoff for every series and horizon (stats from data <= cutoff)."""
    cutoff_idx = panel.index_of(cutoff)
    st = _stats(panel, cutoff_idx, cfg)
    hs = np.asarray(list(horizons))
    i = np.repeat(np.arange(len(panel.uids)), len(hs))
    t = np.full(len(i), cutoff_idx)
    h = np.tile(hs, len(panel.uids))
    x = _features(panel, st, i, t, h, cfg)[fitted.columns]
    level = np.nan_to_num(_base(st, i, t, h, cfg))
    return x, i, t + h, level


def predict_challenger(
    panel: Panel, fitted: FittedChallenger, cutoff: pd.Timestamp, horizons: Sequence[int], cfg: ModelConfig
) -> pd.DataFrame:
    """(unique_id, ds, horizon, lgbm) for origin = cutoff, plus lgbm_lower / lgbm_upper when the challenger
    was fitted with its interval models; a series with no observation up to the cutoff predicts 0."""
    x, i, d, level = _predict_rows(panel, fitted, cutoff, horizons, cfg)
    yhat = np.clip(fitted.model.predict(x), 0, None) * level
    out = pd.DataFrame(
        {
            "unique_id": panel.uids[i],
            "ds": panel.dates[d],
            "horizon": (d - panel.index_of(cutoff)).astype("int32"),
            LGBM: yhat,
        }
    )
    if fitted.quantiles is not None:
        out[f"{LGBM}_lower"], out[f"{LGBM}_upper"] = _bounds(fitted, x, level, yhat)
    return out


def _bounds(
    fitted: FittedChallenger, x: pd.DataFrame, level: np.ndarray, yhat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The interval models' bounds in units, widened where needed to hold yhat."""
    lo, hi = (np.clip(q.predict(x), 0, None) * level for q in fitted.quantiles)
    return np.minimum(lo, yhat), np.maximum(hi, yhat)


def backtest_challenger(
    features: pd.DataFrame,
    cfg: ModelConfig,
    cutoffs: Sequence[date | pd.Timestamp],
    horizons: Sequence[int] | None = None,
    with_intervals: bool = False,
) -> pd.DataFrame:
    """(unique_id, cutoff, ds, horizon, lgbm[, lgbm_lower, lgbm_upper]) for every cutoff, retrained at each
    cutoff; keep only the pairs with an observation by merging on the per-series backtest rows. A cutoff the
    model cannot train at (too little data yet) is left out; ValueError when that is every cutoff."""
    cutoffs = [pd.Timestamp(c) for c in cutoffs]
    panel = build_panel(features, cfg, until=max(cutoffs, default=None))
    horizons = list(horizons or cfg.horizons)
    seen = np.flatnonzero((~np.isnan(panel.y)).any(axis=0))
    last_seen = panel.dates[seen[-1]] if len(seen) else None
    parts, errors = [], []
    for c in cutoffs:
        if last_seen is None or c >= last_seen:
            errors.append(
                f"challenger: nothing to score after the cutoff {c.date()}, at or after the data's last day"
                f" ({last_seen.date() if last_seen is not None else 'no data'})"
            )
            continue
        try:
            fitted = fit_challenger(panel, c, cfg, with_intervals=with_intervals)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        parts.append(predict_challenger(panel, fitted, c, horizons, cfg).assign(cutoff=c))
    if not parts:
        raise ValueError(errors[0] if errors else "challenger: no cutoff to backtest")
    if errors:
        log.info("challenger left out at %d of %d cutoffs (first: %s)", len(errors), len(cutoffs), errors[0])
    return pd.concat(parts, ignore_index=True)


def _contributions(
    fitted: FittedChallenger, x: pd.DataFrame, level: np.ndarray, regs: list[str]
) -> pd.DataFrame:
    """SHAP contributions in units, grouped into the forecast component columns (they sum to yhat
    before clipping). A regressor's derived features (e.g. temperature_vs_level) count for it."""
    contrib = fitted.model.predict(x, pred_contrib=True) * level[:, None]
    frame = pd.DataFrame(contrib, columns=[*fitted.columns, "_bias"])
    per_reg = {r: [c for c in fitted.columns if c in (r, f"{r}_vs_level", f"{r}_in_level")] for r in regs}
    groups = {**FEATURE_GROUPS, "holidays": [c for c in HOLIDAY_FEATURES if c in frame]}
    out = pd.DataFrame({name: frame[cols].sum(axis=1) for name, cols in groups.items()})
    used = {c for cols in (*groups.values(), *per_reg.values()) for c in cols}
    out["trend"] = frame[[c for c in frame.columns if c not in used]].sum(axis=1)
    reg_units = pd.DataFrame({r: frame[cols].sum(axis=1) for r, cols in per_reg.items()})
    out["regressors"] = [
        json.dumps({r: round(float(v), 4) for r, v in row.items()}) for row in reg_units.to_dict("records")
    ]
    return out


def forecast_challenger(features: pd.DataFrame, cfg: ModelConfig, as_of: date) -> pd.DataFrame:
    """FORECAST_SCHEMA rows (model 'lgbm') for every series, as_of+1..as_of+max_horizon, trained at as_of."""
    panel = build_panel(features, cfg, until=as_of)
    return predict_forecast(
        panel, fit_challenger(panel, pd.Timestamp(as_of), cfg, with_intervals=True), cfg, as_of
    )


def _recoded(panel: Panel, fitted: FittedChallenger) -> Panel:
    """The panel with store / product codes as at training; ids unseen then get -1 (LightGBM: missing)."""
    if not fitted.stores:
        return panel
    stores = {s: k for k, s in enumerate(fitted.stores)}
    products = {p: k for k, p in enumerate(fitted.products)}
    return replace(
        panel,
        store_codes=np.array([stores.get(s, -1) for s in panel.store_ids]),
        product_codes=np.array([products.get(p, -1) for p in panel.product_ids]),
    )


def predict_forecast(
    panel: Panel, fitted: FittedChallenger, cfg: ModelConfig, as_of: date, explain: bool = True
) -> pd.DataFrame:
    """FORECAST_SCHEMA rows of a fitted challenger (possibly trained at an earlier cutoff) from as_of:
    levels, lags and regressors come from the panel's data <= as_of. explain=False leaves the component
    columns empty: the SHAP contributions cost more than the forecast itself."""
    as_of = pd.Timestamp(as_of)
    if fitted.quantiles is None:
        raise ValueError("predict_forecast needs a challenger fitted with_intervals=True")
    panel = _recoded(panel, fitted)
    horizons = range(1, cfg.max_horizon + 1)
    x, i, d, level = _predict_rows(panel, fitted, as_of, horizons, cfg)
    yhat = np.clip(fitted.model.predict(x), 0, None) * level
    lo, hi = _bounds(fitted, x, level, yhat)
    comps = (
        _contributions(fitted, x, level, panel.regressors.all)
        if explain
        else pd.DataFrame(
            dict.fromkeys(("trend", "weekly", "yearly", "holidays"), np.nan), index=range(len(x))
        ).assign(regressors=None)
    )
    out = pd.DataFrame(
        {
            "unique_id": panel.uids[i],
            "store_id": panel.store_ids[i],
            "product_id": panel.product_ids[i],
            "as_of": as_of,
            "ds": panel.dates[d],
            "horizon": (d - panel.index_of(as_of)).astype("int32"),
            "model": LGBM,
            "yhat": yhat,
            "yhat_lower": lo,
            "yhat_upper": hi,
            **no_level().columns(where=level <= 0),
            "notes": None,
        }
    )
    out = pd.concat([out, comps.reset_index(drop=True)], axis=1)
    return out[FORECAST_COLUMNS]


class LightGBMChallenger(GlobalForecaster):
    """The challenger as a registered global model (conf/models.yml `global_forecasters`): the functions above,
    one fitted FittedChallenger per instance."""

    name = LGBM

    def __init__(self, fitted: FittedChallenger | None = None) -> None:
        self.fitted = fitted

    def fit(
        self,
        features: pd.DataFrame,
        cfg: ModelConfig,
        cutoff: date | pd.Timestamp,
        with_intervals: bool = True,
    ) -> LightGBMChallenger:
        panel = build_panel(features, cfg, until=cutoff)
        self.fitted = fit_challenger(panel, pd.Timestamp(cutoff), cfg, with_intervals=with_intervals)
        return self

    def predict(
        self, features: pd.DataFrame, cfg: ModelConfig, as_of: date, explain: bool = True
    ) -> pd.DataFrame:
        if self.fitted is None:
            raise ValueError(f"challenger {LGBM} is not fitted")
        return predict_forecast(build_panel(features, cfg, until=as_of), self.fitted, cfg, as_of, explain)

    @classmethod
    def backtest(
        cls,
        features: pd.DataFrame,
        cfg: ModelConfig,
        cutoffs: Sequence[date | pd.Timestamp],
        horizons: Sequence[int] | None = None,
        with_intervals: bool = False,
    ) -> pd.DataFrame:
        return long_rows(
            backtest_challenger(features, cfg, cutoffs, horizons, with_intervals=with_intervals), LGBM
        )

    @classmethod
    def from_state(cls, state: object) -> LightGBMChallenger:
        if not isinstance(state, FittedChallenger):
            return super().from_state(state)
        return cls(state)
