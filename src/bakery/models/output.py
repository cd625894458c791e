"""The forecast row schema every model returns (FORECAST_SCHEMA), one row per series and day ahead."""

from __future__ import annotations

import pandas as pd

from bakery.models.frames import SeriesData
from bakery.models.reasons import Reason

# Why a row is not the chosen model's own (bakery.models.reasons): the English text, and the code, launch day (cold
# starts) and numbers (JSON) as fields; all null on a row the chosen model served as itself.
REASON_SCHEMA = "fallback_reason string, reason_code string, launched_on date, reason_facts string"
REASON_COLUMNS = [f.split()[0] for f in REASON_SCHEMA.split(", ")]
REASON_FIELDS = REASON_COLUMNS[
    1:
]  # what a model that words its own reason fills (the ensemble keeps its first)
FORECAST_SCHEMA = (
    "unique_id string, store_id string, product_id string, as_of date, ds date, horizon int, "
    "model string, yhat double, yhat_lower double, yhat_upper double, trend double, weekly double, "
    f"yearly double, holidays double, regressors string, {REASON_SCHEMA}, notes string"
)
FORECAST_COLUMNS = [f.split()[0] for f in FORECAST_SCHEMA.split(", ")]
VALUE_COLUMNS = ["yhat", "yhat_lower", "yhat_upper", "trend", "weekly", "yearly", "holidays"]


def reason_columns(reason: Reason | str | None) -> dict[str, object]:
    """REASON_COLUMNS of one reason: null for none; a text (what a fitted forecaster or the trained-model table
    hands over) is read back with Reason.parse."""
    if isinstance(reason, str):
        reason = Reason.parse(reason)
    return reason.columns() if reason is not None else dict.fromkeys(REASON_COLUMNS)


def stamp(
    frame: pd.DataFrame,
    sd: SeriesData,
    as_of: pd.Timestamp,
    model: str,
    reason: Reason | str | None,
    notes: list[str],
) -> pd.DataFrame:
    """Model output (ds, yhat, intervals, components) -> FORECAST_SCHEMA rows for one series."""
    out = frame.copy()
    out["unique_id"], out["store_id"], out["product_id"] = sd.unique_id, sd.store_id, sd.product_id
    out["as_of"] = as_of
    out["horizon"] = (out["ds"] - as_of).dt.days.astype("int32")
    out["model"] = model
    for col, value in reason_columns(reason).items():
        out[col] = value
    out["notes"] = "; ".join(notes) or None
    return out[FORECAST_COLUMNS]
