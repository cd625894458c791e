"""Model configuration: conf/models.yml resolved into one picklable ModelConfig."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bakery.config import conf_file, deep_merge, read_yaml


@dataclass(frozen=True)
class ModelConfig:
    """Everything the per-series and global model functions need; shipped to Spark workers as is."""

    horizons: tuple[int, ...]
    max_horizon: int
    weather_lookahead_days: int
    climatology_window_days: int
    backtest: dict[str, Any]
    fallback: dict[str, Any]
    interval_width: float
    residual_days: int
    prophet: dict[str, Any]
    regressors: dict[str, Any]
    tuning: dict[str, Any]
    challenger: dict[str, Any]
    selection: dict[str, Any]
    gate: dict[str, Any]
    # Expected closed days (bakery.models.opening); empty = its defaults (bundles trained before it existed).
    closures: dict[str, Any] = field(default_factory=dict)
    # Cold-start forecasts for launching products (bakery.models.cold_start); empty = its defaults.
    cold_start: dict[str, Any] = field(default_factory=dict)
    # Interval calibration on backtest errors (bakery.models.intervals); empty = off (bundles trained before it).
    interval_calibration: dict[str, Any] = field(default_factory=dict)
    # Tuned Prophet parameters per unique_id (from tuning.tune_series); others use prophet.params.
    series_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per-series candidates: name -> "module:Class" (bakery.models.forecaster); empty = the built-in four.
    forecasters: dict[str, str] = field(default_factory=dict)
    # Global candidates: name -> "module:Class" (bakery.models.forecaster.GlobalForecaster); empty = the challenger.
    global_forecasters: dict[str, str] = field(default_factory=dict)
    # Canary and automatic rollback (bakery.models.lifecycle); read from the current conf, not the trained bundle.
    lifecycle: dict[str, Any] = field(default_factory=dict)

    def prophet_params(self, unique_id: str) -> dict[str, Any]:
        """The Prophet hyper-parameters for one series: tuned if known, else the configured defaults."""
        params = dict(self.prophet["params"])
        params.update(self.series_params.get(unique_id, {}))
        return params

    def with_series_params(self, series_params: dict[str, dict[str, Any]]) -> ModelConfig:
        return replace(self, series_params=dict(series_params))

    def with_overrides(self, overrides: dict[str, Any]) -> ModelConfig:
        """A copy with nested keys replaced, e.g. {"fallback": {"min_history_days": 10}}."""
        raw = {k: copy.deepcopy(getattr(self, k)) for k in self.__dataclass_fields__}
        return _from_raw(deep_merge(raw, overrides))


def _from_raw(raw: dict[str, Any]) -> ModelConfig:
    horizons = tuple(int(h) for h in raw["horizons"])
    max_h = int(raw["max_horizon"])
    if not horizons or min(horizons) < 1 or max(horizons) > max_h:
        raise ValueError(f"models.yml: horizons {list(horizons)} must lie in 1..max_horizon={max_h}")
    return ModelConfig(
        horizons=horizons,
        max_horizon=max_h,
        weather_lookahead_days=int(raw["weather_lookahead_days"]),
        climatology_window_days=int(raw.get("climatology_window_days", 15)),
        backtest=dict(raw["backtest"]),
        fallback=dict(raw["fallback"]),
        interval_width=float(raw["interval_width"]),
        residual_days=int(raw.get("residual_days", 365)),
        prophet=dict(raw["prophet"]),
        regressors=dict(raw["regressors"]),
        tuning=dict(raw["tuning"]),
        challenger=dict(raw["challenger"]),
        selection=dict(raw["selection"]),
        gate=dict(raw["gate"]),
        closures=dict(raw.get("closures") or {}),
        interval_calibration=dict(raw.get("interval_calibration") or {}),
        cold_start=dict(raw.get("cold_start") or {}),
        series_params=dict(raw.get("series_params") or {}),
        forecasters={str(k): str(v) for k, v in (raw.get("forecasters") or {}).items()},
        global_forecasters={str(k): str(v) for k, v in (raw.get("global_forecasters") or {}).items()},
        lifecycle=dict(raw.get("lifecycle") or {}),
    )


def load_model_config(conf_dir: Path | None = None, overrides: dict[str, Any] | None = None) -> ModelConfig:
    """Read conf/models.yml (optionally from another conf dir) and apply overrides."""
    raw = read_yaml(conf_file(conf_dir, "models.yml"))
    if overrides:
        raw = deep_merge(raw, overrides)
    return _from_raw(raw)
