"""Forecasts from trained models: stored Prophet fits per series, seasonal naive, the registered global models
(bakery.models.forecaster.GlobalForecaster), and the per-series champion choice. Pure pandas; the Spark job and the MLflow pyfunc both call it."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from bakery.models import reasons
from bakery.models.baselines import seasonal_naive_frame, weekday_profile
from bakery.models.config import ModelConfig
from bakery.models.forecaster import GlobalForecaster, candidates
from bakery.models.frames import SeriesData, design, series_data
from bakery.models.offering import NOT_OFFERED
from bakery.models.opening import CLOSED
from bakery.models.output import FORECAST_COLUMNS, REASON_COLUMNS, stamp
from bakery.models.prophet_model import (
    FALLBACK,
    PROPHET,
    SEASONAL_NAIVE,
    deserialize,
    fallback_why,
    forecast_design_why,
    predict_prophet,
)
from bakery.models.selection import champion_forecast
from bakery.tables import FORECASTS

log = logging.getLogger(__name__)

GOLD_COLUMNS = FORECASTS.columns  # the gold.forecasts row this module assembles
# Component names whose value is not a driver a store manager acts on.
_NOT_DRIVERS = {"trend", "weekly"}


def _prophet_rows(
    sd: SeriesData,
    dz,
    as_of: pd.Timestamp,
    cfg: ModelConfig,
    model_json: str | None,
    trained_reason: str | None,
) -> tuple[pd.DataFrame, str, reasons.Reason | None]:
    """The 'prophet' candidate of one series: its stored fit, else the reason it had none (weekday
    profile), else (a series new since training) a fit made now. trained_reason: the text the trained-model
    table keeps."""
    why = fallback_why(dz.history, as_of, cfg)
    if why is None and model_json:
        try:
            return predict_prophet(deserialize(model_json), dz.future, cfg), PROPHET, None
        except Exception as exc:  # noqa: BLE001 - a broken stored fit degrades to the fallback
            why = reasons.error(reasons.PREDICT_ERROR, exc)
    elif why is None and trained_reason:
        why = reasons.Reason.parse(trained_reason)
    elif why is None:
        frame, used, why, _ = forecast_design_why(sd, dz, as_of, cfg)
        return frame, used, why
    return weekday_profile(dz.history, dz.future["ds"], cfg), FALLBACK, why


def served_per_series(cfg: ModelConfig) -> list[str]:
    """The registered per-series models the selection may choose besides prophet (served from its stored fit,
    weekday profile as its fallback) and seasonal naive: each is fitted on the series' history at serve time
    (models.yml `forecasters` and `selection.candidates`), so that a model added by config is served once chosen."""
    registered = candidates(cfg)
    built_in = {PROPHET, SEASONAL_NAIVE, FALLBACK}
    return [m for m in cfg.selection["candidates"] if m in registered and m not in built_in]


def _fitted_rows(
    name: str, sd: SeriesData, dz, as_of: pd.Timestamp, cfg: ModelConfig, days: pd.DatetimeIndex
) -> pd.DataFrame:
    """One extra candidate's rows, fitted now on the history up to as_of; a failure becomes the rows' reason."""
    try:
        model = candidates(cfg)[name]().fit(sd, dz, as_of, cfg)
        return model.predict(sd, dz, as_of, cfg)
    except Exception as exc:  # noqa: BLE001 - one model's failure must not cost the series its other rows
        reason = reasons.error(reasons.FIT_ERROR, exc)
        log.warning("series %s, %s: %s", sd.unique_id, name, reason.text())
        return stamp(_empty_frame(days), sd, as_of, name, reason, dz.notes)


def _empty_frame(days: pd.DatetimeIndex) -> pd.DataFrame:
    zeros = np.zeros(len(days))
    return pd.DataFrame(
        {
            "ds": days,
            "yhat": zeros,
            "yhat_lower": zeros,
            "yhat_upper": zeros,
            "trend": zeros,
            "weekly": zeros,
            "yearly": zeros,
            "holidays": zeros,
            "regressors": "{}",
        }
    )


def forecast_one(
    pdf: pd.DataFrame,
    cfg: ModelConfig,
    as_of: date,
    model_json: str | None = None,
    trained_reason: str | None = None,
) -> pd.DataFrame:
    """FORECAST_SCHEMA rows of one series for the per-series candidates (prophet or its fallback, seasonal_naive,
    and any other registered candidate, fitted now: served_per_series). Never raises on a bad series: the failure becomes the rows' fallback_reason."""
    as_of = pd.Timestamp(as_of)
    sd = series_data(pdf, cfg)
    days = pd.date_range(as_of + pd.Timedelta(days=1), periods=cfg.max_horizon, freq="D")
    try:
        dz = design(sd, as_of, cfg, weather_until=None, mask_planned=False)
    except Exception as exc:  # noqa: BLE001 - e.g. an unusable regressor column; the series still gets rows
        reason = reasons.error(reasons.DESIGN_ERROR, exc)
        log.warning("series %s: %s", sd.unique_id, reason.text())
        frame = _empty_frame(days)
        return pd.concat(
            [stamp(frame, sd, as_of, m, reason, []) for m in (FALLBACK, SEASONAL_NAIVE)], ignore_index=True
        )
    frame, used, reason = _prophet_rows(sd, dz, as_of, cfg, model_json, trained_reason)
    if dz.history.empty:
        reason = reason or reasons.no_history("no observed day up to the as-of date")
    naive = seasonal_naive_frame(dz.history, as_of, dz.future["ds"], cfg)
    naive_reason = None if not dz.history.empty else reason
    extra = [
        _fitted_rows(m, sd, dz, as_of, cfg, days) for m in served_per_series(cfg) if not dz.history.empty
    ]
    return pd.concat(
        [
            stamp(frame, sd, as_of, used, reason, dz.notes),
            stamp(naive, sd, as_of, SEASONAL_NAIVE, naive_reason, dz.notes),
            *extra,
        ],
        ignore_index=True,
    )


def forecast_group(pdf: pd.DataFrame, models: pd.DataFrame, cfg: ModelConfig, as_of: date) -> pd.DataFrame:
    """forecast_one for every series in pdf (one store's gold.features rows), with its stored fit
    from models (MODEL_SCHEMA rows; may be empty). One log line per series at most."""
    stored = (
        models.set_index("unique_id")
        if len(models)
        else pd.DataFrame(columns=["model_json", "fallback_reason"])
    )
    if "unique_id" not in pdf.columns:
        pdf = pdf.assign(unique_id=pdf["store_id"].astype(str) + "/" + pdf["product_id"].astype(str))
    parts = []
    for uid, rows in pdf.groupby("unique_id", sort=True):
        model_json = stored["model_json"].get(uid) if uid in stored.index else None
        trained_reason = stored["fallback_reason"].get(uid) if uid in stored.index else None
        parts.append(forecast_one(rows, cfg, as_of, _text(model_json), _text(trained_reason)))
    if not parts:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    return pd.concat(parts, ignore_index=True)[FORECAST_COLUMNS]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def global_rows(
    features: pd.DataFrame,
    fitted: Mapping[str, GlobalForecaster],
    cfg: ModelConfig,
    as_of: date,
    explain: bool = True,
) -> dict[str, pd.DataFrame]:
    """Each fitted global model's FORECAST_SCHEMA rows by name; a model that cannot predict is left out.
    explain=False: the models may leave their component columns empty."""
    out = {}
    for name, model in fitted.items():
        try:
            rows = model.predict(features, cfg, as_of, explain=explain)
        except Exception as exc:  # noqa: BLE001 - the per-series candidates still serve every series
            log.warning("global model %s could not forecast from %s: %s", name, as_of, exc)
            continue
        if len(rows):
            out[name] = rows
    return out


def combine(
    per_series: pd.DataFrame,
    global_models: Mapping[str, pd.DataFrame],
    choice: pd.DataFrame,
    cfg: ModelConfig,
    scales: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each series' chosen candidate (prophet rows may be fallbacks; they still stand for prophet) among the
    per-series rows and the global models' rows (global_rows), its interval calibrated by scales when given."""
    extra = served_per_series(cfg)
    frames = {
        PROPHET: per_series[~per_series["model"].isin([SEASONAL_NAIVE, *extra])],
        SEASONAL_NAIVE: per_series[per_series["model"] == SEASONAL_NAIVE],
    }
    frames.update({name: per_series[per_series["model"] == name] for name in extra})
    frames.update({name: rows for name, rows in global_models.items() if len(rows)})
    frames = {name: rows for name, rows in frames.items() if name in (PROPHET, SEASONAL_NAIVE) or len(rows)}
    if choice is None or choice.empty:
        choice = pd.DataFrame({"unique_id": pd.Series(dtype=str), "model": pd.Series(dtype=str)})
    return champion_forecast(frames, choice, cfg, scales)


def components_json(row: Mapping[str, Any]) -> str:
    """Flat {component: units} JSON (trend, weekly, yearly, holidays and each regressor)."""
    comps = {k: float(row[k]) for k in ("trend", "weekly", "yearly", "holidays") if _finite(row[k])}
    regs = json.loads(row["regressors"]) if isinstance(row["regressors"], str) and row["regressors"] else {}
    comps.update({k: float(v) for k, v in regs.items() if _finite(v)})
    return json.dumps({k: round(v, 3) for k, v in comps.items()}, sort_keys=True)


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def explanation(
    components: dict[str, float],
    yhat: float,
    fallback: str | None,
    label: Callable[[str], str] = lambda name: name.replace("_", " "),
) -> str:
    """'Main drivers: holidays +9.1, precipitation -3.2' (or the fallback reason); plain English."""
    if fallback:
        return f"Simpler model used: {fallback}"
    floor = max(0.5, 0.03 * abs(yhat))
    drivers = sorted(
        ((k, v) for k, v in components.items() if k not in _NOT_DRIVERS and abs(v) >= floor),
        key=lambda kv: -abs(kv[1]),
    )[:3]
    if not drivers:
        return "Usual level for this weekday; no special driver."
    return "Main drivers: " + ", ".join(f"{label(k)} {v:+.1f}" for k, v in drivers)


def to_gold(rows: pd.DataFrame, model_version: str, role: str) -> pd.DataFrame:
    """FORECAST_SCHEMA rows -> gold.forecasts rows (components as JSON, an explanation per row)."""
    if rows.empty:
        return pd.DataFrame(columns=GOLD_COLUMNS)
    out = rows.rename(columns={"ds": "date"}).copy()
    parts = rows[["trend", "weekly", "yearly", "holidays", "regressors"]].to_dict("records")
    out["components"] = [components_json(r) for r in parts]
    for col in REASON_COLUMNS:  # NaN (e.g. from a concat) -> null
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    out["launched_on"] = [pd.Timestamp(d).date() if d is not None else None for d in out["launched_on"]]
    out["explanation"] = [
        explanation(json.loads(c), y, r)
        for c, y, r in zip(out["components"], out["yhat"], out["fallback_reason"], strict=True)
    ]
    for model, head in ((CLOSED, "Store expected closed: "), (NOT_OFFERED, "Not expected on sale: ")):
        zero = (out["model"] == model).to_numpy()
        if zero.any():
            out.loc[zero, "explanation"] = head + out.loc[zero, "notes"].fillna("").astype(str)
    out["model_version"], out["role"] = str(model_version), role
    out["as_of"] = pd.to_datetime(out["as_of"]).dt.date
    out["date"] = pd.to_datetime(out["date"]).dt.date
    out["horizon"] = out["horizon"].astype("int32")
    for col in ("yhat", "yhat_lower", "yhat_upper"):
        out[col] = out[col].astype(float)
    return out[GOLD_COLUMNS].reset_index(drop=True)
