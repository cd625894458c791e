"""A trained forecaster as files: every series' Prophet fit, the fitted global models (the challenger), the
per-series model choice and the configuration. It is what the MLflow pyfunc model carries and what `bakery forecast` serves."""

from __future__ import annotations

import dataclasses
import json
import pickle
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from bakery.models.config import ModelConfig, _from_raw
from bakery.models.forecaster import GlobalForecaster, legacy_globals
from bakery.models.intervals import SCALE_COLUMNS
from bakery.models.opening import close_days, expected_zero_days
from bakery.models.serve import combine, forecast_group, global_rows

FILES = {
    "series": "series.parquet",
    "choice": "choice.parquet",
    "challenger": "challenger.pkl",
    "config": "config.json",
    "meta": "meta.json",
    "intervals": "interval_scales.parquet",
}


@dataclass
class TrainedModel:
    """What one training run produced; `meta` holds as_of, scores and lineage for humans."""

    cfg: ModelConfig
    series: pd.DataFrame  # MODEL_SCHEMA rows (model_json null for fallback series)
    choice: pd.DataFrame  # unique_id, model, n, wmape_<candidate>...
    # The fitted global models by name (bakery.models.forecaster.global_candidates); pickled into challenger.pkl.
    global_models: dict[str, GlobalForecaster]
    meta: dict[str, Any] = field(default_factory=dict)
    # Interval scale factors per candidate and horizon (intervals.SCALE_COLUMNS); empty = intervals as fitted.
    scales: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SCALE_COLUMNS))

    def save(self, folder: Path) -> dict[str, str]:
        """Write the files into folder; returns {name: path} for mlflow's artifacts argument."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {k: folder / v for k, v in FILES.items()}
        self.series.to_parquet(paths["series"], index=False)
        self.choice.to_parquet(paths["choice"], index=False)
        self.scales.to_parquet(paths["intervals"], index=False)
        with paths["challenger"].open("wb") as fh:
            pickle.dump(dict(self.global_models), fh)
        paths["config"].write_text(json.dumps(config_dict(self.cfg), indent=1, default=str), encoding="utf-8")
        paths["meta"].write_text(json.dumps(self.meta, indent=1, default=str), encoding="utf-8")
        return {k: str(p) for k, p in paths.items()}

    @classmethod
    def load(cls, paths: dict[str, str] | Path) -> TrainedModel:
        """From save()'s folder, or from a {name: path} mapping (mlflow's context.artifacts)."""
        if isinstance(paths, Path):
            paths = {k: str(paths / v) for k, v in FILES.items()}
        scales = pd.read_parquet(paths["intervals"]) if Path(paths.get("intervals", "")).is_file() else None
        with open(paths["challenger"], "rb") as fh:
            fitted = pickle.load(fh)  # noqa: S301 - our own artifact, written by save()
        return cls(
            cfg=_from_raw(json.loads(Path(paths["config"]).read_text(encoding="utf-8"))),
            series=pd.read_parquet(paths["series"]),
            choice=pd.read_parquet(paths["choice"]),
            # Versions registered before the global-model registry pickled one FittedChallenger (or None).
            global_models=fitted if isinstance(fitted, dict) else legacy_globals(fitted),
            meta=json.loads(Path(paths["meta"]).read_text(encoding="utf-8")),
            # Versions registered before calibration have no such file: their intervals serve as fitted.
            scales=scales if scales is not None else pd.DataFrame(columns=SCALE_COLUMNS),
        )

    def models_for(self, store_id: str | None = None) -> pd.DataFrame:
        """The stored per-series fits, optionally of one store only."""
        cols = ["unique_id", "store_id", "model_json", "fallback_reason"]
        rows = self.series[cols]
        return rows if store_id is None else rows[rows["store_id"] == str(store_id)]

    def forecast(self, features: pd.DataFrame, as_of: date) -> pd.DataFrame:
        """Champion FORECAST_SCHEMA rows for every series in features, as_of+1..as_of+max_horizon."""
        per_series = forecast_group(features, self.models_for(), self.cfg, as_of)
        rows = combine(
            per_series,
            global_rows(features, self.global_models, self.cfg, as_of),
            self.choice,
            self.cfg,
            self.scales,
        )
        return close_days(rows, expected_zero_days(features, self.cfg, as_of))


def config_dict(cfg: ModelConfig) -> dict[str, Any]:
    """ModelConfig as plain JSON-able data (round-trips through config._from_raw)."""
    raw = dataclasses.asdict(cfg)
    raw["horizons"] = list(cfg.horizons)
    return raw
