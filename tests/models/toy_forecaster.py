"""A toy per-series model for the registry test: the mean of the last 7 observed days, every day ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bakery.models.config import ModelConfig
from bakery.models.forecaster import Forecaster
from bakery.models.frames import Design, SeriesData


class MeanLast7(Forecaster):
    name = "mean_last_7"

    def fit(self, sd: SeriesData, dz: Design, cutoff: pd.Timestamp, cfg: ModelConfig) -> MeanLast7:
        self.level = float(dz.history["y"].tail(7).mean())
        return self

    def frame(self, dz: Design, cfg: ModelConfig) -> pd.DataFrame:
        level = np.full(len(dz.future), self.level)
        zero = np.zeros(len(dz.future))
        return pd.DataFrame(
            {
                "ds": dz.future["ds"].to_numpy(),
                "yhat": level,
                "yhat_lower": level,
                "yhat_upper": level,
                "trend": level,
                "weekly": zero,
                "yearly": zero,
                "holidays": zero,
                "regressors": "{}",
            }
        )

    def to_dict(self) -> dict:
        return {**super().to_dict(), "level": self.level}

    @classmethod
    def from_dict(cls, data: dict) -> MeanLast7:
        out = super().from_dict(data)
        out.level = float(data["level"])
        return out
