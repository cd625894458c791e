"""The forecaster interfaces and the registry of candidates (conf/models.yml `forecasters` and
`global_forecasters`).

Every per-series model is one `Forecaster` subclass: a `name`, `fit` on one series' design up to a cutoff,
`predict` to FORECAST_SCHEMA rows, and a JSON round trip (`to_dict` / `from_dict`). Every global model (one fit
across all series of a panel, e.g. the LightGBM challenger) is one `GlobalForecaster` subclass: a `name`, `fit` on
the model features up to a cutoff, `predict` to FORECAST_SCHEMA rows, `backtest` rows, and a round trip through the
model bundle. The registry maps each configured name to its class, so the backtest's models, the selection, the
ensemble and the served forecast follow the config, and a new model is one new file plus one config line
(docs/forecasting.md, "Adding a model").
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import date
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from bakery.models.config import ModelConfig
from bakery.models.frames import Design, SeriesData
from bakery.models.output import stamp

# Used when a config carries no `forecasters` (bundles trained before the registry existed).
BUILT_IN = {
    "seasonal_naive": "bakery.models.baselines:SeasonalNaive",
    "weekday_profile": "bakery.models.baselines:WeekdayProfile",
    "prophet_default": "bakery.models.prophet_model:ProphetDefault",
    "prophet": "bakery.models.prophet_model:ProphetForecaster",
}
# Used when a config carries no `global_forecasters` (bundles trained before the registry held global models).
BUILT_IN_GLOBAL = {"lgbm": "bakery.models.challenger:LightGBMChallenger"}
# The model frame predict() stamps into FORECAST_SCHEMA rows.
FRAME_COLUMNS = [
    "ds",
    "yhat",
    "yhat_lower",
    "yhat_upper",
    "trend",
    "weekly",
    "yearly",
    "holidays",
    "regressors",
]


class Forecaster(ABC):
    """One per-series model. After `fit`, `used` names the model that actually serves (a model may fall back
    to a simpler one, e.g. Prophet to the weekday profile) and `reason` says why (None when it did not)."""

    name: ClassVar[str]
    # Whether the backtest keeps this model's interval (its rows' yhat_lower / yhat_upper; null otherwise).
    backtest_bounds: ClassVar[bool] = False

    def __init__(self) -> None:
        self.used: str = self.name
        self.reason: str | None = None

    @abstractmethod
    def fit(self, sd: SeriesData, dz: Design, cutoff: pd.Timestamp, cfg: ModelConfig) -> Forecaster:
        """Fit on dz.history (days <= cutoff only); returns self."""

    @abstractmethod
    def frame(self, dz: Design, cfg: ModelConfig) -> pd.DataFrame:
        """FRAME_COLUMNS for the days of dz.future: the forecast, its interval and its components in units."""

    def predict(self, sd: SeriesData, dz: Design, cutoff: pd.Timestamp, cfg: ModelConfig) -> pd.DataFrame:
        """FORECAST_SCHEMA rows of this series for the days of dz.future."""
        return stamp(self.frame(dz, cfg), sd, pd.Timestamp(cutoff), self.used, self.reason, dz.notes)

    def backtest_values(self, dz: Design, cfg: ModelConfig, ds: pd.Series) -> dict[str, np.ndarray]:
        """yhat (and bounds) on the target days ds, as a backtest scores them."""
        indexed = self.frame(dz, cfg).set_index("ds")
        return {col: indexed[col].reindex(ds).to_numpy() for col in ("yhat", "yhat_lower", "yhat_upper")}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able state; from_dict(to_dict()) predicts the same."""
        return {"name": self.name, "used": self.used, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Forecaster:
        out = cls()
        out.used, out.reason = data.get("used", cls.name), data.get("reason")
        return out


class GlobalForecaster(ABC):
    """One model fitted across every series of a panel (gold.features rows of many series, bakery.models.frames'
    model_frame). It is pickled whole into the model bundle; `from_state` reads what older bundles pickled."""

    name: ClassVar[str]

    @abstractmethod
    def fit(
        self,
        features: pd.DataFrame,
        cfg: ModelConfig,
        cutoff: date | pd.Timestamp,
        with_intervals: bool = True,
    ) -> GlobalForecaster:
        """Fit on targets <= cutoff (with the interval models when with_intervals); returns self. ValueError when
        there is too little data to fit."""

    @abstractmethod
    def predict(
        self, features: pd.DataFrame, cfg: ModelConfig, as_of: date, explain: bool = True
    ) -> pd.DataFrame:
        """FORECAST_SCHEMA rows (model = name) of every series from as_of (the model may be fitted earlier):
        as_of+1..as_of+max_horizon, from the features' data <= as_of. explain=False: the component columns
        may be left empty (rows whose reasons nobody reads, such as a former champion's)."""

    @classmethod
    @abstractmethod
    def backtest(
        cls,
        features: pd.DataFrame,
        cfg: ModelConfig,
        cutoffs: Sequence[date | pd.Timestamp],
        horizons: Sequence[int] | None = None,
        with_intervals: bool = False,
    ) -> pd.DataFrame:
        """(unique_id, cutoff, ds, horizon, <name>[, <name>_lower, <name>_upper]) refit at every cutoff; a cutoff
        the model cannot fit at is left out, ValueError when that is every cutoff."""

    @classmethod
    def from_state(cls, state: Any) -> GlobalForecaster:
        """A fitted instance from the object an older model bundle pickled for this model."""
        raise ValueError(f"global model {cls.name!r} cannot read a bundle's {type(state).__name__}")


def _load(section: str, name: str, target: str, base: type) -> type:
    module, _, attr = target.partition(":")
    try:
        found = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"models.yml {section}.{name}: cannot import {target!r} ({exc})") from exc
    if not (isinstance(found, type) and issubclass(found, base)):
        raise ValueError(f"models.yml {section}.{name}: {target!r} is not a {base.__name__} subclass")
    if found.name != name:
        raise ValueError(f"models.yml {section}.{name}: {target!r} is named {found.name!r}")
    return found


def candidates(cfg: ModelConfig | None) -> dict[str, type[Forecaster]]:
    """The per-series candidates by name, in config order (module:Class per line of `forecasters`); the
    built-in ones for no config."""
    targets = (cfg.forecasters if cfg is not None else None) or BUILT_IN
    return {name: _load("forecasters", name, target, Forecaster) for name, target in targets.items()}


def global_candidates(cfg: ModelConfig | None) -> dict[str, type[GlobalForecaster]]:
    """The global models by name, in config order (module:Class per line of `global_forecasters`); the built-in
    one (the LightGBM challenger) for no config or a config without the section."""
    targets = (cfg.global_forecasters if cfg is not None else None) or BUILT_IN_GLOBAL
    overlap = sorted(set(targets) & set(candidates(cfg)))
    if overlap:
        raise ValueError(f"models.yml: {overlap} named both in forecasters and in global_forecasters")
    return {
        name: _load("global_forecasters", name, target, GlobalForecaster) for name, target in targets.items()
    }


def legacy_globals(state: Any) -> dict[str, GlobalForecaster]:
    """The fitted global models of a bundle saved before the registry held them: its one pickled LightGBM
    challenger (or None)."""
    if state is None:
        return {}
    name, target = next(iter(BUILT_IN_GLOBAL.items()))
    return {name: _load("global_forecasters", name, target, GlobalForecaster).from_state(state)}


def forecaster(name: str, cfg: ModelConfig) -> type[Forecaster]:
    """The class of one configured per-series model; a clear error for an unknown name."""
    known = candidates(cfg)
    if name not in known:
        raise ValueError(f"unknown per-series model {name!r}; expected one of {list(known)}")
    return known[name]
