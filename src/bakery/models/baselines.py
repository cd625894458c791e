"""Honest baselines: seasonal naive (docs/contract.md definition) and the weekday-profile fallback model."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from bakery.models.config import ModelConfig
from bakery.models.forecaster import Forecaster
from bakery.models.frames import Design, SeriesData
from bakery.models.intervals import residual_bounds

COMPONENT_COLUMNS = ["trend", "weekly", "yearly", "holidays", "regressors"]


def seasonal_naive(
    history: pd.DataFrame, cutoff: pd.Timestamp, targets: pd.Series | pd.DatetimeIndex
) -> np.ndarray:
    """y(d - 7*ceil(h/7)) with h = d - cutoff, stepping back 7 more days while that day has no
    observation; NaN when no same-weekday observation exists at or before the cutoff."""
    cutoff = pd.Timestamp(cutoff)
    past = history.loc[history["ds"] <= cutoff]
    values = dict(zip(past["ds"], past["y"], strict=True))
    first = past["ds"].min() if len(past) else cutoff
    week = pd.Timedelta(days=7)
    out = []
    for d in pd.DatetimeIndex(targets):
        h = (d - cutoff).days
        if h < 1:
            raise ValueError(f"seasonal_naive: target {d.date()} is not after the cutoff {cutoff.date()}")
        day = d - 7 * math.ceil(h / 7) * pd.Timedelta(days=1)
        while day not in values and day >= first:
            day -= week
        out.append(values.get(day, np.nan))
    return np.asarray(out, dtype=float)


def _fit_profile(history: pd.DataFrame, cfg: ModelConfig) -> tuple[float, np.ndarray]:
    """Level (deseasonalised mean of the last level_days observations) and 7 weekday factors."""
    fb = cfg.fallback
    uncensored = history.loc[~history["censored"]] if "censored" in history else history
    hist = uncensored if len(uncensored) else history
    if hist.empty:
        return 0.0, np.ones(7)
    last = hist["ds"].max()
    window = hist.loc[hist["ds"] > last - pd.Timedelta(weeks=int(fb["profile_weeks"]))]
    overall = window["y"].mean()
    by_dow = window.groupby(window["ds"].dt.dayofweek)["y"].mean().reindex(range(7))
    factors = (by_dow / overall).fillna(1.0).to_numpy() if overall > 0 else np.ones(7)
    recent = hist.tail(int(fb["level_days"]))
    f = factors[recent["ds"].dt.dayofweek.to_numpy()]
    level = float(
        np.mean(np.where(f > 0, recent["y"].to_numpy() / np.where(f > 0, f, 1), recent["y"].to_numpy()))
    )
    return level, factors


def weekday_profile(history: pd.DataFrame, future_ds: pd.Series, cfg: ModelConfig) -> pd.DataFrame:
    """The fallback forecast: recent level times weekday factors, with residual-quantile intervals."""
    level, factors = _fit_profile(history, cfg)
    ds = pd.DatetimeIndex(future_ds)
    yhat = level * factors[ds.dayofweek]
    recent = history.tail(int(cfg.fallback["profile_weeks"]) * 7)
    resid = recent["y"].to_numpy() - level * factors[recent["ds"].dt.dayofweek.to_numpy()]
    lower, upper = residual_bounds(yhat, resid, cfg.interval_width)
    return pd.DataFrame(
        {
            "ds": ds,
            "yhat": np.clip(yhat, 0, None),
            "yhat_lower": lower,
            "yhat_upper": upper,
            "trend": level,
            "weekly": yhat - level,
            "yearly": 0.0,
            "holidays": 0.0,
            "regressors": "{}",
        }
    )


def seasonal_naive_frame(
    history: pd.DataFrame, cutoff: pd.Timestamp, future_ds: pd.Series, cfg: ModelConfig
) -> pd.DataFrame:
    """Seasonal naive in the forecast frame shape; intervals from its past one-week-back errors."""
    ds = pd.DatetimeIndex(future_ds)
    yhat = seasonal_naive(history, cutoff, ds)
    past = history.tail(int(cfg.residual_days))
    week_ago = past["ds"] - pd.Timedelta(days=7)
    resid = past["y"].to_numpy() - past.set_index("ds")["y"].reindex(week_ago).to_numpy()
    filled = np.nan_to_num(yhat)
    lower, upper = residual_bounds(filled, resid, cfg.interval_width)
    return pd.DataFrame(
        {
            "ds": ds,
            "yhat": filled,
            "yhat_lower": lower,
            "yhat_upper": upper,
            "trend": filled,
            "weekly": 0.0,
            "yearly": 0.0,
            "holidays": 0.0,
            "regressors": "{}",
        }
    )


class SeasonalNaive(Forecaster):
    """The same weekday one (or more) weeks back: the honest baseline every candidate must beat. It keeps no
    state but its cutoff: it reads the design's history (days <= cutoff) when it predicts."""

    name = "seasonal_naive"

    def fit(self, sd: SeriesData, dz: Design, cutoff: pd.Timestamp, cfg: ModelConfig) -> SeasonalNaive:
        self.cutoff = pd.Timestamp(cutoff)
        return self

    def frame(self, dz: Design, cfg: ModelConfig) -> pd.DataFrame:
        return seasonal_naive_frame(dz.history, self.cutoff, dz.future["ds"], cfg)

    def backtest_values(self, dz: Design, cfg: ModelConfig, ds: pd.Series) -> dict[str, np.ndarray]:
        """No forecast (NaN, not 0) where no same-weekday day was observed: such days are not scored."""
        return {"yhat": seasonal_naive(dz.history, self.cutoff, ds)}

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "cutoff": self.cutoff.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeasonalNaive:
        out = super().from_dict(data)
        out.cutoff = pd.Timestamp(data["cutoff"])
        return out


class WeekdayProfile(Forecaster):
    """Recent level times weekday factors, from the design's history when it predicts: the model a series too
    short or sparse for Prophet gets."""

    name = "weekday_profile"

    def fit(self, sd: SeriesData, dz: Design, cutoff: pd.Timestamp, cfg: ModelConfig) -> WeekdayProfile:
        return self

    def frame(self, dz: Design, cfg: ModelConfig) -> pd.DataFrame:
        return weekday_profile(dz.history, dz.future["ds"], cfg)
