"""The forecast row schema every model returns (FORECAST_SCHEMA), one row per series and day ahead."""

from __future__ import annotations

import pandas as pd

from bakery.models.frames import SeriesData

FORECAST_SCHEMA = (
    "unique_id string, store_id string, product_id string, as_of date, ds date, horizon int, "
    "model string, yhat double, yhat_lower double, yhat_upper double, trend double, weekly double, "
    "yearly double, holidays double, regressors string, fallback_reason string, notes string"
)
FORECAST_COLUMNS = [f.split()[0] for f in FORECAST_SCHEMA.split(", ")]
VALUE_COLUMNS = ["yhat", "yhat_lower", "yhat_upper", "trend", "weekly", "yearly", "holidays"]


def stamp(
    frame: pd.DataFrame, sd: SeriesData, as_of: pd.Timestamp, model: str, reason: str | None, notes: list[str]
) -> pd.DataFrame:
    """Model output (ds, yhat, intervals, components) -> FORECAST_SCHEMA rows for one series."""
    out = frame.copy()
    out["unique_id"], out["store_id"], out["product_id"] = sd.unique_id, sd.store_id, sd.product_id
    out["as_of"] = as_of
    out["horizon"] = (out["ds"] - as_of).dt.days.astype("int32")
    out["model"] = model
    out["fallback_reason"] = reason
    out["notes"] = "; ".join(notes) or None
    return out[FORECAST_COLUMNS]
