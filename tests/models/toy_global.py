"""A toy global model for the registry test: each series' mean of its last 7 observed days, every day ahead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from bakery.models.config import ModelConfig
from bakery.models.forecaster import GlobalForecaster
from bakery.models.output import FORECAST_COLUMNS, reason_columns


def _levels(features: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    known = features[(features["date"] <= cutoff) & features["y"].notna()].sort_values("date")
    return known.groupby(["unique_id", "store_id", "product_id"], as_index=False)["y"].agg(
        lambda y: y.tail(7).mean()
    )


def _ahead(levels: pd.DataFrame, cutoff: pd.Timestamp, horizons: Sequence[int]) -> pd.DataFrame:
    out = levels.merge(pd.DataFrame({"horizon": list(horizons)}), how="cross")
    out["ds"] = cutoff + pd.to_timedelta(out["horizon"], unit="D")
    out["horizon"] = out["horizon"].astype("int32")
    return out


class LastWeekMean(GlobalForecaster):
    name = "last_week_mean"

    def fit(self, features, cfg: ModelConfig, cutoff, with_intervals: bool = True) -> LastWeekMean:
        self.levels = _levels(features, pd.Timestamp(cutoff))
        return self

    def predict(self, features, cfg: ModelConfig, as_of: date, explain: bool = True) -> pd.DataFrame:
        as_of = pd.Timestamp(as_of)
        out = _ahead(self.levels, as_of, range(1, cfg.max_horizon + 1))
        zero = np.zeros(len(out))
        return out.assign(
            as_of=as_of,
            model=self.name,
            yhat=out["y"],
            yhat_lower=out["y"],
            yhat_upper=out["y"],
            trend=out["y"],
            weekly=zero,
            yearly=zero,
            holidays=zero,
            regressors="{}",
            **reason_columns(None),
            notes=None,
        )[FORECAST_COLUMNS]

    @classmethod
    def backtest(cls, features, cfg: ModelConfig, cutoffs, horizons=None, with_intervals: bool = False):
        parts = []
        for cutoff in map(pd.Timestamp, cutoffs):
            rows = _ahead(_levels(features, cutoff), cutoff, horizons or cfg.horizons)
            parts.append(
                rows.assign(cutoff=cutoff, model=cls.name, yhat=rows["y"], yhat_lower=None, yhat_upper=None)
            )
        return pd.concat(parts, ignore_index=True)[
            ["unique_id", "cutoff", "ds", "horizon", "model", "yhat", "yhat_lower", "yhat_upper"]
        ]
