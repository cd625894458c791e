"""The MLflow pyfunc model: one model holding every series (Prophet fits as model_to_json), the global
challenger and the per-series choice. predict(features, params={"as_of": "YYYY-MM-DD"}) returns the
champion forecast rows for as_of+1..as_of+28."""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

from bakery.models.bundle import TrainedModel
from bakery.models.frames import model_frame


class BakeryForecaster(mlflow.pyfunc.PythonModel):
    """Loads the TrainedModel files from the model's artifacts; forecasts in pandas."""

    trained: TrainedModel | None = None

    def load_context(self, context: Any) -> None:
        self.trained = TrainedModel.load(dict(context.artifacts))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        if self.trained is None:
            self.load_context(context)
        params = params or {}
        as_of = params.get("as_of") or self.trained.meta.get("as_of")
        if not as_of:
            raise ValueError("predict needs params={'as_of': 'YYYY-MM-DD'}: the last day of known data")
        rows = self.trained.forecast(model_frame(model_input, self.trained.cfg), pd.Timestamp(as_of).date())
        out = rows.rename(columns={"ds": "date"})
        return out.drop(columns=["regressors", "notes"], errors="ignore")
