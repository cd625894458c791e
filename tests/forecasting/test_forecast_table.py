"""gold.forecasts keeps a row's reason as columns; a table written before those columns existed takes them on
the next forecast write and still serves the app, which words the old rows' reasons from their text."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from bakery.app.serving import LocalDeltaReader, ServingData
from bakery.app.summaries import forecast_lines
from bakery.forecasting.tables import write_forecasts
from bakery.models import reasons
from bakery.models.output import REASON_COLUMNS, REASON_FIELDS
from bakery.tables import FORECASTS

OLD_AS_OF, NEW_AS_OF = date(2026, 3, 1), date(2026, 3, 2)
LAUNCH = date(2026, 3, 3)


def _row(as_of: date, product: str, reason: reasons.Reason | None) -> dict:
    return {
        "as_of": as_of,
        "store_id": "S01",
        "product_id": product,
        "date": as_of + timedelta(days=1),
        "horizon": 1,
        "model": "cold_start" if reason and reason.code == reasons.COLD_START else "weekday_profile",
        "model_version": "1",
        "role": "champion",
        "yhat": 5.0,
        "yhat_lower": 4.0,
        "yhat_upper": 6.0,
        "components": "{}",
        "explanation": "",
        **(reason.columns() if reason else dict.fromkeys(REASON_COLUMNS)),
    }


def _explanations(serving: ServingData, lang: str = "en") -> dict[str, str]:
    rows = serving.forecasts(["S01"])
    return {
        line.product: line.explanation for line in forecast_lines(rows, pd.DataFrame(), {}, "tomorrow", lang)
    }


def test_an_old_forecasts_table_serves_then_gains_the_reason_columns(lh):
    old_fields = [f for f in FORECASTS.fields if f.name not in REASON_FIELDS]
    old_schema = ", ".join(f"{f.name} {f.type}" for f in old_fields)
    old = pd.DataFrame([_row(OLD_AS_OF, "P1", reasons.too_short(40, 56, False))])[
        [f.name for f in old_fields]
    ]
    lh.merge(lh.spark.createDataFrame(old, old_schema), *FORECASTS, keys=list(FORECASTS.keys))
    assert "reason_code" not in lh.read(*FORECASTS).columns

    serving = ServingData(LocalDeltaReader(lh.settings.tables_dir), version_check_seconds=0.0)
    assert "reason_code" not in serving.forecasts(["S01"]).columns
    assert "only 40 days with sales and the model needs 56" in _explanations(serving)["P1"]

    launch = reasons.cold_start(LAUNCH, "its forecast at 1 other store, scaled")
    new = pd.DataFrame(
        [_row(NEW_AS_OF, "P1", reasons.too_short(40, 56, False)), _row(NEW_AS_OF, "P2", launch)]
    )
    new.loc[0, "fallback_reason"] = "too_short: the wording changed since (40 of 56)"
    assert write_forecasts(lh, new) == 2

    table = lh.read(*FORECASTS).toPandas().set_index(["as_of", "product_id"])
    assert set(REASON_FIELDS) <= set(table.columns)
    assert table.loc[(OLD_AS_OF, "P1"), REASON_FIELDS].isna().all()  # written before the columns: null
    assert table.loc[(NEW_AS_OF, "P1"), "reason_code"] == reasons.TOO_SHORT
    cold = table.loc[(NEW_AS_OF, "P2")]
    assert (cold["reason_code"], cold["launched_on"]) == (reasons.COLD_START, LAUNCH)

    lines = _explanations(serving)  # the app reads the new as_of from the columns, not the reworded text
    assert "only 40 days with sales and the model needs 56" in lines["P1"]
    assert lines["P2"] == "New product, on sale from 03/03: forecast from similar products"
