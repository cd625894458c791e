"""gold.features.is_holiday and Prophet's holiday table come from one holiday resolution: for a store they
agree day by day, except for exactly the days the model config adds (Catholic days in Germany, bakery days)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from bakery.gold.calendar import CalendarConfig, build_calendar
from bakery.models.calendar import holiday_table
from bakery.models.config import load_model_config

YEARS = [2025, 2026]
EMPTY_EVENTS = pd.DataFrame(
    columns=["event_date_start", "event_date_end", "event_name", "event_type", "scope"]
)
BAKERY_DAYS = {date(y, 12, d) for y in YEARS for d in (24, 31)}  # models.yml prophet.extra_days


@pytest.mark.parametrize(
    ("store", "model_only"),
    [
        ({"store_id": "MAD", "city": "", "country": "ES", "subdivision": "ES-MD", "latitude": 40.4}, set()),
        ({"store_id": "LPA", "city": "", "country": "ES", "subdivision": "ES-CN", "latitude": 28.1}, set()),
        # Assumption Day: a Catholic-category holiday in Bavaria (models.yml holiday_categories DE).
        (
            {"store_id": "MUC", "city": "", "country": "DE", "subdivision": "DE-BY", "latitude": 48.1},
            {date(y, 8, 15) for y in YEARS},
        ),
        ({"store_id": "BER", "city": "", "country": "de", "subdivision": "DE-BE", "latitude": 52.5}, set()),
        ({"store_id": "PAR", "city": "", "country": "FR", "subdivision": "FR-IDF", "latitude": 48.9}, set()),
    ],
)
def test_gold_is_holiday_and_the_prophet_holiday_table_agree_day_by_day(store, model_only):
    stores = pd.DataFrame([store])
    gold = build_calendar(
        stores, EMPTY_EVENTS, date(YEARS[0], 1, 1), date(YEARS[-1], 12, 31), CalendarConfig()
    )
    gold_days = pd.Series(gold["is_holiday"].to_numpy(), index=gold["date"])
    table = holiday_table(store["country"], store["subdivision"], YEARS, load_model_config())
    prophet_days = {d.date() for d in table["ds"]}
    expected = {d for d, hol in gold_days.items() if hol} | model_only | BAKERY_DAYS
    mismatched = [d for d in gold_days.index if (d in prophet_days) != (d in expected)]
    assert gold_days.sum() >= 8 and not mismatched, mismatched
