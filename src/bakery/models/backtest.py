"""Rolling-origin backtests: train on ds <= cutoff only, score the observed days c + h.

Backtest rows are long: one row per (series, cutoff, target day, model) with yhat and, where the model has an
interval, yhat_lower / yhat_upper (BACKTEST_SCHEMA), whatever models are registered. `wide` pivots them once into
one column per model (<model>, <model>_lower, <model>_upper) for the selection, ensemble and report math."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from bakery.models import metrics
from bakery.models.config import ModelConfig
from bakery.models.forecaster import Forecaster, candidates, global_candidates
from bakery.models.frames import SeriesData, design, series_data
from bakery.models.selection import CHAMPION, ENSEMBLE, add_ensemble, calibrates

# One row per (series, cutoff, target day, model); served_model / fallback_reason: the model that actually served
# (Prophet may fall back to the weekday profile) and why.
BACKTEST_SCHEMA = (
    "unique_id string, store_id string, product_id string, cutoff date, ds date, horizon int, y double, "
    "censored boolean, model string, yhat double, yhat_lower double, yhat_upper double, served_model string, "
    "fallback_reason string"
)
BACKTEST_COLUMNS = [f.split()[0] for f in BACKTEST_SCHEMA.split(", ")]
# The target keys: a (series, cutoff, day) pair and what was observed on it.
KEYS = ["unique_id", "store_id", "product_id", "cutoff", "ds", "horizon", "y", "censored"]
# The keys a global model's backtest rows join the per-series rows on.
JOIN = ["unique_id", "cutoff", "ds", "horizon"]
# A global model's backtest rows (GlobalForecaster.backtest).
GLOBAL_COLUMNS = [*JOIN, "model", "yhat", "yhat_lower", "yhat_upper"]
BOUNDS = ("yhat_lower", "yhat_upper")


def cutoff_range(start: date | str, end: date | str, step: int) -> list[pd.Timestamp]:
    """start, start + step, ... <= end (docs/contract.md)."""
    if step < 1:
        raise ValueError(f"step must be >= 1 day, got {step}")
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end < start:
        raise ValueError(f"end {end.date()} is before start {start.date()}")
    return list(pd.date_range(start, end, freq=f"{step}D"))


def _weather_until(cutoff: pd.Timestamp, cfg: ModelConfig) -> pd.Timestamp:
    return cutoff + pd.Timedelta(days=cfg.weather_lookahead_days)


def cutoff_design(sd: SeriesData, cutoff: pd.Timestamp, cfg: ModelConfig):
    """The design a backtest may use at this cutoff (weather lookahead, planned values unknown)."""
    return design(
        sd,
        cutoff,
        cfg,
        weather_until=_weather_until(cutoff, cfg),
        mask_planned=not cfg.regressors.get("planned_known_ahead", False),
    )


def observed_targets(sd: SeriesData, cutoff: pd.Timestamp, horizons: Sequence[int]) -> pd.DataFrame:
    """The (ds, horizon, y, censored) pairs at cutoff + h that have an observation."""
    wanted = pd.DataFrame({"horizon": list(horizons)})
    wanted["ds"] = cutoff + pd.to_timedelta(wanted["horizon"], unit="D")
    return wanted.merge(sd.obs[["ds", "y", "censored"]], on="ds", how="inner")


def _series_cutoff(
    sd: SeriesData, cutoff: pd.Timestamp, cfg: ModelConfig, horizons, classes: list[type[Forecaster]]
) -> pd.DataFrame | None:
    """One row per observed target day and model."""
    targets = observed_targets(sd, cutoff, horizons)
    if targets.empty or not (sd.obs["ds"] <= cutoff).any():
        return None
    dz = cutoff_design(sd, cutoff, cfg)
    targets = targets.assign(cutoff=cutoff)
    parts = []
    for cls in classes:
        model = cls().fit(sd, dz, cutoff, cfg)
        values = model.backtest_values(dz, cfg, targets["ds"])
        part = targets.assign(model=cls.name, yhat=values["yhat"], yhat_lower=np.nan, yhat_upper=np.nan)
        if cls.backtest_bounds:
            part["yhat_lower"], part["yhat_upper"] = values["yhat_lower"], values["yhat_upper"]
        parts.append(part.assign(served_model=model.used, fallback_reason=model.reason))
    return pd.concat(parts, ignore_index=True) if parts else None


def backtest_series(
    pdf: pd.DataFrame,
    cfg: ModelConfig,
    cutoffs: Iterable[date | pd.Timestamp],
    horizons: Sequence[int] | None = None,
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """BACKTEST_SCHEMA rows (long: one per target day and model) for one series. Cutoffs whose targets are all
    unobserved (closed days) are skipped without fitting, and so are cutoffs before the series' first observation:
    the pipeline has no such series yet (a product launched later), so no model would have forecast it."""
    horizons = list(horizons or cfg.horizons)
    models = list(models or cfg.backtest["models"])
    known = candidates(cfg)
    unknown = sorted(set(models) - set(known))
    if unknown:
        raise ValueError(f"unknown per-series model(s) {unknown}; expected some of {list(known)}")
    classes = [cls for name, cls in known.items() if name in models]
    sd = series_data(pdf, cfg)
    parts = [_series_cutoff(sd, pd.Timestamp(c), cfg, horizons, classes) for c in cutoffs]
    parts = [p for p in parts if p is not None]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES[t]) for c, t in _fields()})
    rows = pd.concat(parts, ignore_index=True)
    rows["unique_id"], rows["store_id"], rows["product_id"] = sd.unique_id, sd.store_id, sd.product_id
    rows["horizon"] = rows["horizon"].astype("int32")
    return rows[BACKTEST_COLUMNS]


def _fields() -> list[tuple[str, str]]:
    return [(f.split()[0], f.split()[1]) for f in BACKTEST_SCHEMA.split(", ")]


def wide(rows: pd.DataFrame) -> pd.DataFrame:
    """Long backtest rows (BACKTEST_SCHEMA, or a global model's GLOBAL_COLUMNS) -> one row per (series, cutoff,
    target day): its keys, a column per model (in the order the rows name them) and <model>_lower /
    <model>_upper for a model with an interval. A model without a forecast on a pair is null there."""
    keys = [k for k in KEYS if k in rows.columns]
    if rows.empty:
        return pd.DataFrame({k: rows[k] for k in keys})
    duplicated = rows.duplicated([*JOIN, "model"])
    if duplicated.any():
        first = rows.loc[duplicated, [*JOIN, "model"]].iloc[0].to_dict()
        raise ValueError(f"backtest rows hold a (series, cutoff, day, model) twice, e.g. {first}")
    models = list(dict.fromkeys(rows["model"]))
    values = rows.pivot(index=JOIN, columns="model", values=["yhat", *BOUNDS])
    out = rows.drop_duplicates(JOIN)[keys].set_index(JOIN)
    for m in models:
        out[m] = values[("yhat", m)]
    for m in models:
        if values[("yhat_lower", m)].notna().any() or values[("yhat_upper", m)].notna().any():
            out[f"{m}_lower"], out[f"{m}_upper"] = values[("yhat_lower", m)], values[("yhat_upper", m)]
    out = out.reset_index()[[*keys, *[c for c in out.columns if c not in keys]]]
    out["horizon"] = out["horizon"].astype("int32")
    return out.sort_values(JOIN, kind="stable").reset_index(drop=True)


def long_rows(rows: pd.DataFrame, name: str) -> pd.DataFrame:
    """A model's forecast kept as columns <name>[, <name>_lower, <name>_upper] next to the JOIN keys -> its
    GLOBAL_COLUMNS rows (bounds null where it has none)."""
    out = rows[JOIN].assign(model=name, yhat=rows[name].to_numpy(dtype=float))
    for bound, suffix in zip(BOUNDS, ("_lower", "_upper"), strict=True):
        out[bound] = rows[f"{name}{suffix}"].to_numpy(dtype=float) if f"{name}{suffix}" in rows else np.nan
    return out.reset_index(drop=True)


_DTYPES = {
    "date": "datetime64[ns]",
    "int": "int32",
    "boolean": "bool",
    "string": "object",
    "double": "float64",
}


def global_names(cfg: ModelConfig, wanted: Sequence[str] | None = None) -> list[str]:
    """The registered global models (config order), only those in wanted when given."""
    return [name for name in global_candidates(cfg) if wanted is None or name in wanted]


def report_models(cfg: ModelConfig) -> list[str]:
    """The models a backtest report scores, in report order: the per-series models the backtest runs
    (backtest.models), every registered global model, the ensemble and the champion (where the rows hold them)."""
    return list(dict.fromkeys([*cfg.backtest["models"], *global_names(cfg), ENSEMBLE, CHAMPION]))


def global_backtest(
    features: pd.DataFrame,
    cfg: ModelConfig,
    cutoffs: Sequence[date | pd.Timestamp],
    horizons: Sequence[int] | None = None,
    with_intervals: bool = False,
) -> pd.DataFrame:
    """Every registered global model's backtest rows (GLOBAL_COLUMNS); ValueError when one cannot be backtested at
    any of the cutoffs."""
    parts = [
        cls.backtest(features, cfg, cutoffs, horizons, with_intervals=with_intervals)
        for cls in global_candidates(cfg).values()
    ]
    if not parts:
        raise ValueError("models.yml global_forecasters: no global model registered")
    return pd.concat(parts, ignore_index=True)


def with_global_models(
    rows: pd.DataFrame,
    features: pd.DataFrame,
    cfg: ModelConfig,
    cutoffs: Sequence[date | pd.Timestamp],
    horizons: Sequence[int],
    names: Sequence[str],
) -> tuple[pd.DataFrame, list[str]]:
    """Long per-series backtest rows plus each named global model's backtest at the same cutoffs (on the pairs the
    rows hold; with its bounds when intervals are calibrated), pivoted once into the wide frame (`wide`), then the
    ensemble when every member is there; and a note per global model that could not be backtested (too little
    data: the per-series candidates remain)."""
    classes = global_candidates(cfg)
    targets = rows.drop_duplicates(JOIN)[[k for k in KEYS if k in rows.columns]]
    parts, notes = [rows], []
    for name in names:
        try:
            part = classes[name].backtest(features, cfg, cutoffs, horizons, with_intervals=calibrates(cfg))
        except ValueError as exc:
            notes.append(f"challenger {name} skipped: {exc}")
            continue
        parts.append(targets.merge(part[GLOBAL_COLUMNS], on=JOIN, how="inner"))
    out = wide(pd.concat(parts, ignore_index=True))
    members = list(cfg.selection["ensemble_members"])
    if all(m in out.columns for m in members):
        out = add_ensemble(out, members)
    return out, notes


def to_long(rows: pd.DataFrame, models: Sequence[str]) -> pd.DataFrame:
    """Backtest rows with one column per model -> one row per (series, cutoff, day, model) with yhat and the
    bounds where the model has them (the shape of gold.backtest_results)."""
    keys = ["unique_id", "store_id", "product_id", "cutoff", "ds", "horizon", "y"]
    present = [m for m in models if m in rows.columns]
    long = rows.melt(id_vars=keys, value_vars=present, var_name="model", value_name="yhat")
    for bound in ("lower", "upper"):
        values = rows.reindex(columns=[f"{m}_{bound}" for m in present]).set_axis(present, axis=1)
        long[f"yhat_{bound}"] = values.melt(value_name="v")["v"].to_numpy(dtype=float)
    return long


def report(
    rows: pd.DataFrame,
    cfg: ModelConfig,
    cutoffs: Sequence[Any],
    champion: str,
    models: list[str] | None = None,
) -> dict[str, Any]:
    """The backtest report of docs/contract.md (horizon keys as strings; seasonal_naive and champion present)."""
    scores = metrics.evaluate(rows, models)
    for required in ("seasonal_naive", champion):
        if required not in scores:
            raise ValueError(f"backtest rows lack the {required!r} column the report requires")
    coverage = metrics.coverage(rows, [m for m in scores if f"{m}_lower" in rows.columns])
    horizons = [int(h) for h in cfg.horizons]
    # Every requested horizon is reported, n = 0 and null metrics where no pair was observed (e.g. a horizon
    # that always lands on a day the shop is shut); a metric with no defined value (no sales) is null, so the
    # report stays strict JSON.
    empty = {name: None for name in metrics.METRICS} | {"n": 0}
    return {
        "cutoffs": len(cutoffs),
        "horizons": horizons,
        "weather_lookahead_days": cfg.weather_lookahead_days,
        "baseline": "seasonal_naive",
        "champion": champion,
        "models": {m: {str(h): _finite(by_h.get(h, empty)) for h in horizons} for m, by_h in scores.items()},
        # Share of observed days inside the model's prediction interval (nominal: interval_width).
        "interval_coverage": {
            "nominal": cfg.interval_width,
            **{m: {str(h): by_h.get(h) for h in horizons} for m, by_h in coverage.items()},
        },
    }


def _finite(values: dict[str, Any]) -> dict[str, Any]:
    return {k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in values.items()}
