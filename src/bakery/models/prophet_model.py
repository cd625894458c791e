"""Per-series Prophet: fit, fast predict with components and intervals, fallbacks, and JSON serialisation."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from prophet import Prophet
from prophet.serialize import model_from_json, model_to_json

from bakery.models import reasons
from bakery.models.baselines import weekday_profile
from bakery.models.calendar import around_columns, around_holiday, holiday_table, legal_holiday_dates
from bakery.models.config import ModelConfig
from bakery.models.forecaster import Forecaster, forecaster
from bakery.models.frames import Design, SeriesData, design, series_data
from bakery.models.intervals import residual_bounds
from bakery.models.lean_prophet import LeanProphet
from bakery.models.output import FORECAST_COLUMNS, FORECAST_SCHEMA
from bakery.models.stan_backend import with_fast_backend

log = logging.getLogger(__name__)

# FORECAST_SCHEMA is re-exported here: applyInPandas(forecast_series, schema=FORECAST_SCHEMA).
__all__ = [
    "FALLBACK",
    "FORECAST_COLUMNS",
    "FORECAST_SCHEMA",
    "MODEL_SCHEMA",
    "PROPHET",
    "PROPHET_DEFAULT",
    "SEASONAL_NAIVE",
    "FittedProphet",
    "ProphetDefault",
    "ProphetForecaster",
    "deserialize",
    "fallback_reason",
    "fallback_why",
    "fit_predict_prophet",
    "fit_prophet",
    "forecast_design",
    "forecast_design_why",
    "forecast_series",
    "predict_prophet",
    "serialize",
    "train_series",
]

PROPHET = "prophet"
PROPHET_DEFAULT = "prophet_default"
FALLBACK = "weekday_profile"
SEASONAL_NAIVE = "seasonal_naive"

MODEL_SCHEMA = (
    "unique_id string, store_id string, product_id string, as_of date, model string, params string, "
    "model_json string, fallback_reason string, n_obs long"
)


@dataclass
class FittedProphet:
    """A fitted Prophet plus what predict needs: regressor names, residuals for intervals, calendar."""

    model: Prophet
    regressors: list[str]
    around: list[str]
    residuals: np.ndarray
    relative: bool
    country: str
    subdivision: str | None
    national_only: bool = False


def _gap_trimmed(history: pd.DataFrame, max_gap_days: int) -> pd.DataFrame:
    """History after the last gap longer than max_gap_days (a reopened store starts afresh)."""
    gaps = history["ds"].diff().dt.days
    long = gaps.index[gaps > max_gap_days]
    return history.loc[long[-1] :] if len(long) else history


def fallback_why(history: pd.DataFrame, cutoff: pd.Timestamp, cfg: ModelConfig) -> reasons.Reason | None:
    """Why this history cannot carry Prophet (None if it can). Checks run on the uncensored days."""
    fb = cfg.fallback
    usable = history.loc[~history["censored"]]
    if usable.empty:
        return reasons.no_history()
    idle = (pd.Timestamp(cutoff) - usable["ds"].max()).days
    if idle > fb["max_stale_days"]:
        return reasons.stale(idle, fb["max_stale_days"])
    trimmed = _gap_trimmed(usable, fb["max_gap_days"])
    if len(trimmed) < fb["min_history_days"]:
        return reasons.too_short(len(trimmed), fb["min_history_days"], len(trimmed) < len(usable))
    nonzero = float((trimmed["y"] > 0).mean())
    if nonzero == 0:
        return reasons.all_zero()
    if nonzero < fb["min_nonzero_share"]:
        return reasons.too_sparse(nonzero, fb["min_nonzero_share"])
    return None


def fallback_reason(history: pd.DataFrame, cutoff: pd.Timestamp, cfg: ModelConfig) -> str | None:
    """fallback_why as its text (what the trained-model table and a fitted forecaster keep)."""
    why = fallback_why(history, cutoff, cfg)
    return why.text() if why is not None else None


def _years(history: pd.DataFrame, future: pd.DataFrame) -> range:
    return range(int(history["ds"].dt.year.min()), int(future["ds"].dt.year.max()) + 1)


def _with_around(frame: pd.DataFrame, hol_dates: np.ndarray, cfg: ModelConfig) -> pd.DataFrame:
    feats = around_holiday(frame["ds"], hol_dates, cfg.prophet.get("around_holiday_offsets", []))
    return pd.concat(
        [frame.reset_index(drop=True), feats[around_columns(cfg)].reset_index(drop=True)], axis=1
    )


def _varying(frame: pd.DataFrame, cols: list[str]) -> list[str]:
    return [c for c in cols if frame[c].nunique(dropna=True) > 1]


def _fitted_model(
    sd: SeriesData, dz: Design, cfg: ModelConfig, params: dict[str, Any], national_only: bool
) -> tuple[Prophet, list[str], list[str], pd.DataFrame]:
    """A fitted Prophet on uncensored observed days after the last long gap, its regressors and days-around
    columns, and the training frame. national_only = the default-Prophet baseline: default
    hyper-parameters, national holidays, no regressors."""
    hist = _gap_trimmed(dz.history.loc[~dz.history["censored"]], cfg.fallback["max_gap_days"])
    span = (hist["ds"].max() - hist["ds"].min()).days
    if national_only:
        model = LeanProphet(uncertainty_samples=0)
        model.add_country_holidays(country_name=sd.country.upper())
        regs, around = [], []
        train = hist[["ds", "y"]]
    else:
        p = cfg.prophet
        years = _years(hist, dz.future)
        hol_dates = legal_holiday_dates(sd.country, sd.subdivision, years, cfg)
        train = _with_around(hist, hol_dates, cfg)
        around = _varying(train, around_columns(cfg))
        regs = _varying(train, dz.regressors)
        model = LeanProphet(
            growth="linear",
            n_changepoints=int(p["n_changepoints"]),
            changepoint_range=float(p["changepoint_range"]),
            yearly_seasonality=span >= int(p["yearly_min_days"]),
            weekly_seasonality=True,
            daily_seasonality=False,
            holidays=holiday_table(sd.country, sd.subdivision, years, cfg),
            changepoint_prior_scale=float(params["changepoint_prior_scale"]),
            seasonality_prior_scale=float(params["seasonality_prior_scale"]),
            holidays_prior_scale=float(params["holidays_prior_scale"]),
            seasonality_mode=str(params["seasonality_mode"]),
            uncertainty_samples=0,
        )
        for col in around:
            model.add_regressor(col, prior_scale=float(params["holidays_prior_scale"]), standardize=False)
        for col in regs:
            model.add_regressor(col)
        train = train[["ds", "y", *around, *regs]]
    # The default-Prophet baseline keeps CmdStan's default stopping rule (it is the untouched baseline).
    with_fast_backend(model, None if national_only else cfg.prophet.get("optimizer")).fit(train)
    return model, regs, around, train


def _residuals(model: Prophet, tail: pd.DataFrame, fitted_vals: np.ndarray) -> tuple[np.ndarray, bool]:
    """In-sample residuals over the last residual_days (relative ones for a multiplicative model)."""
    relative = model.seasonality_mode == "multiplicative"
    y = tail["y"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = np.where(fitted_vals > 0, y / fitted_vals - 1, np.nan) if relative else y - fitted_vals
    return resid, relative


def fit_prophet(
    sd: SeriesData, dz: Design, cfg: ModelConfig, params: dict[str, Any], *, national_only: bool = False
) -> FittedProphet:
    """A fitted series for the registry (see _fitted_model), with its in-sample residuals for intervals."""
    model, regs, around, train = _fitted_model(sd, dz, cfg, params, national_only)
    tail = train.tail(cfg.residual_days)
    resid, relative = _residuals(model, tail, model.predict(tail)["yhat"].to_numpy())
    return FittedProphet(model, regs, around, resid, relative, sd.country, sd.subdivision, national_only)


def fit_predict_prophet(
    sd: SeriesData, dz: Design, cfg: ModelConfig, params: dict[str, Any], *, national_only: bool = False
) -> tuple[FittedProphet, pd.DataFrame]:
    """fit_prophet, then predict_prophet over dz.future, with one Prophet predict call for the in-sample
    residuals and the future together (Prophet's per-call set-up is a large part of a short predict)."""
    model, regs, around, train = _fitted_model(sd, dz, cfg, params, national_only)
    tail = train.tail(cfg.residual_days).drop(columns="y")
    shell = FittedProphet(model, regs, around, np.array([]), False, sd.country, sd.subdivision, national_only)
    future = _future_frame(shell, dz.future, cfg)
    if len(tail) and len(future) and tail["ds"].iloc[-1] >= future["ds"].iloc[0]:
        raise ValueError("future dates must follow the training dates")
    fc = model.predict(pd.concat([tail.reset_index(drop=True), future], ignore_index=True))
    resid, relative = _residuals(model, train.tail(cfg.residual_days), fc["yhat"].to_numpy()[: len(tail)])
    fitted = FittedProphet(model, regs, around, resid, relative, sd.country, sd.subdivision, national_only)
    return fitted, _output(fitted, fc.iloc[len(tail) :].reset_index(drop=True), cfg)


def _in_units(fc: pd.DataFrame, model: Prophet, name: str) -> np.ndarray:
    if name not in fc.columns:
        return np.zeros(len(fc))
    values = fc[name].to_numpy()
    return fc["trend"].to_numpy() * values if name in model.component_modes["multiplicative"] else values


def _future_frame(fitted: FittedProphet, future: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """The frame Prophet predicts on: dates, regressors and the days-around-holiday columns."""
    frame = future[["ds", *fitted.regressors]].reset_index(drop=True)
    if fitted.around:
        years = range(int(frame["ds"].dt.year.min()) - 1, int(frame["ds"].dt.year.max()) + 2)
        hol_dates = legal_holiday_dates(fitted.country, fitted.subdivision, years, cfg)
        frame = _with_around(frame, hol_dates, cfg)[["ds", *fitted.regressors, *fitted.around]]
    return frame


def predict_prophet(fitted: FittedProphet, future: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """yhat (clipped at 0), residual-quantile intervals, and components in units (they sum to the
    unclipped yhat): trend, weekly, yearly, holidays (incl. days-around), regressors as JSON."""
    return _output(fitted, fitted.model.predict(_future_frame(fitted, future, cfg)), cfg)


def _output(fitted: FittedProphet, fc: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    m = fitted.model
    yhat = fc["yhat"].to_numpy()
    lower, upper = residual_bounds(
        np.clip(yhat, 0, None), fitted.residuals, cfg.interval_width, fitted.relative
    )
    holidays_units = _in_units(fc, m, "holidays") + sum(
        (_in_units(fc, m, c) for c in fitted.around), start=np.zeros(len(fc))
    )
    reg_units = {c: _in_units(fc, m, c) for c in fitted.regressors}
    regressors = [
        json.dumps({c: round(float(v[i]), 4) for c, v in reg_units.items()}) for i in range(len(fc))
    ]
    return pd.DataFrame(
        {
            "ds": fc["ds"],
            "yhat": np.clip(yhat, 0, None),
            "yhat_lower": lower,
            "yhat_upper": upper,
            "trend": fc["trend"].to_numpy(),
            "weekly": _in_units(fc, m, "weekly"),
            "yearly": _in_units(fc, m, "yearly"),
            "holidays": holidays_units,
            "regressors": regressors,
        }
    )


def forecast_design(
    sd: SeriesData, dz: Design, cutoff: pd.Timestamp, cfg: ModelConfig, *, national_only: bool = False
) -> tuple[pd.DataFrame, str, str | None, FittedProphet | None]:
    """Prophet for cutoff+1..cutoff+H, or the weekday profile with the reason (its text) Prophet was not used."""
    frame, used, why, fitted = forecast_design_why(sd, dz, cutoff, cfg, national_only=national_only)
    return frame, used, why.text() if why is not None else None, fitted


def forecast_design_why(
    sd: SeriesData, dz: Design, cutoff: pd.Timestamp, cfg: ModelConfig, *, national_only: bool = False
) -> tuple[pd.DataFrame, str, reasons.Reason | None, FittedProphet | None]:
    """forecast_design with the reason as a Reason (its fields go into the forecast rows' reason columns)."""
    why = fallback_why(dz.history, cutoff, cfg)
    if why is None:
        try:
            fitted, frame = fit_predict_prophet(
                sd, dz, cfg, cfg.prophet_params(sd.unique_id), national_only=national_only
            )
            return frame, PROPHET_DEFAULT if national_only else PROPHET, None, fitted
        except Exception as exc:  # noqa: BLE001 - any fit failure must degrade to the fallback, not kill the job
            why = reasons.error(reasons.FIT_ERROR, exc)
            log.warning(
                "prophet failed for %s at %s: %s", sd.unique_id, pd.Timestamp(cutoff).date(), why.text()
            )
    return weekday_profile(dz.history, dz.future["ds"], cfg), FALLBACK, why, None


def forecast_series(pdf: pd.DataFrame, cfg: ModelConfig, as_of: date, model: str = PROPHET) -> pd.DataFrame:
    """One series' gold.features rows -> FORECAST_SCHEMA rows for as_of+1..as_of+max_horizon.

    model: any registered per-series forecaster (bakery.models.forecaster); prophet falls back to
    weekday_profile, saying why, and never raises on a bad fit. Rows after as_of (weather forecasts, planned
    promotions and events) are used as known regressors; missing future weather gets climatology.
    """
    cls = forecaster(model, cfg)
    as_of = pd.Timestamp(as_of)
    sd = series_data(pdf, cfg)
    dz = design(sd, as_of, cfg, weather_until=None, mask_planned=False)
    return cls().fit(sd, dz, as_of, cfg).predict(sd, dz, as_of, cfg)


class ProphetForecaster(Forecaster):
    """Per-series Prophet with the store's holidays, days-around-holiday and regressor terms, and tuned
    parameters where known; the weekday profile (with the reason) when the series cannot carry it."""

    name = PROPHET
    national_only: bool = False
    backtest_bounds = True

    def __init__(self) -> None:
        super().__init__()
        self.fitted: FittedProphet | None = None
        self._frame: pd.DataFrame | None = None

    def fit(self, sd: SeriesData, dz: Design, cutoff: pd.Timestamp, cfg: ModelConfig) -> ProphetForecaster:
        """Fits, and forecasts dz.future in the same Prophet call (its per-call set-up is a large part of it)."""
        self._frame, self.used, self.reason, self.fitted = forecast_design(
            sd, dz, cutoff, cfg, national_only=self.national_only
        )
        return self

    def frame(self, dz: Design, cfg: ModelConfig) -> pd.DataFrame:
        cached = self._frame
        if cached is not None and cached["ds"].reset_index(drop=True).equals(
            dz.future["ds"].reset_index(drop=True)
        ):
            return cached
        if self.fitted is not None:
            return predict_prophet(self.fitted, dz.future, cfg)
        return weekday_profile(dz.history, dz.future["ds"], cfg)

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "model_json": serialize(self.fitted) if self.fitted is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProphetForecaster:
        out = super().from_dict(data)
        out.fitted = deserialize(data["model_json"]) if data.get("model_json") else None
        return out


class ProphetDefault(ProphetForecaster):
    """The untuned Prophet a data scientist starts from: default parameters, national holidays, no regressors."""

    name = PROPHET_DEFAULT
    national_only = True
    backtest_bounds = False


def serialize(fitted: FittedProphet) -> str:
    """JSON for the registry: Prophet's model_to_json plus the regressors and residuals predict needs."""
    return json.dumps(
        {
            "prophet": model_to_json(fitted.model),
            "regressors": fitted.regressors,
            "around": fitted.around,
            "residuals": [None if not np.isfinite(r) else float(r) for r in fitted.residuals],
            "relative": fitted.relative,
            "country": fitted.country,
            "subdivision": fitted.subdivision,
            "national_only": fitted.national_only,
        }
    )


def deserialize(payload: str) -> FittedProphet:
    data = json.loads(payload)
    return FittedProphet(
        model=model_from_json(data["prophet"]),
        regressors=list(data["regressors"]),
        around=list(data["around"]),
        residuals=np.array([np.nan if r is None else r for r in data["residuals"]], dtype=float),
        relative=bool(data["relative"]),
        country=data["country"],
        subdivision=data["subdivision"],
        national_only=bool(data.get("national_only", False)),
    )


def train_series(pdf: pd.DataFrame, cfg: ModelConfig, as_of: date) -> pd.DataFrame:
    """One MODEL_SCHEMA row: the fitted series as JSON (null when it falls back), for the registry."""
    as_of = pd.Timestamp(as_of)
    sd = series_data(pdf, cfg)
    dz = design(sd, as_of, cfg, weather_until=None, mask_planned=False)
    _, model, reason, fitted = forecast_design(sd, dz, as_of, cfg)
    row = {
        "unique_id": sd.unique_id,
        "store_id": sd.store_id,
        "product_id": sd.product_id,
        "as_of": as_of,
        "model": model,
        "params": json.dumps(cfg.prophet_params(sd.unique_id)),
        "model_json": serialize(fitted) if fitted is not None else None,
        "fallback_reason": reason,
        "n_obs": int((dz.history["ds"] <= as_of).sum()),
    }
    return pd.DataFrame([row])
