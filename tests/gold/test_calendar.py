"""Store calendars: national, regional and municipal holidays, eves, days to/from, local events, any country."""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd
import pytest

from bakery.config import load_settings
from bakery.gold.calendar import CalendarConfig, build_calendar, calendar_fields

STORES = pd.DataFrame(
    [
        {"store_id": "MAD", "city": "Madrid", "country": "ES", "subdivision": "ES-MD", "latitude": 40.4},
        {"store_id": "LPA", "city": "Las Palmas", "country": "ES", "subdivision": "ES-CN", "latitude": 28.1},
        {"store_id": "MUC", "city": "Munich", "country": "DE", "subdivision": "DE-BY", "latitude": 48.1},
        {"store_id": "PAR", "city": "Paris", "country": "FR", "subdivision": None, "latitude": 48.9},
        {"store_id": "ATL", "city": "Atlantis", "country": "XX", "subdivision": None, "latitude": -30.0},
    ]
)
EVENTS = pd.DataFrame(
    [
        {
            "event_date_start": date(2026, 5, 20),
            "event_date_end": date(2026, 5, 22),
            "event_name": "Book fair",
            "event_type": "local",
            "scope": "MAD",
        },
        {
            "event_date_start": date(2026, 5, 27),
            "event_date_end": date(2026, 5, 27),
            "event_name": "Cup final",
            "event_type": "sports",
            "scope": "national",
        },
        {
            "event_date_start": date(2026, 5, 12),
            "event_date_end": date(2026, 5, 12),
            "event_name": "Fiesta del barrio",
            "event_type": "Local Holiday",
            "scope": "LPA",
        },
    ]
)


@pytest.fixture(scope="module")
def cal() -> dict[tuple[str, date], dict]:
    cfg = CalendarConfig.from_settings(load_settings())
    df = build_calendar(STORES, EVENTS, date(2026, 1, 1), date(2026, 6, 30), cfg)
    return {(r["store_id"], r["date"]): r for r in df.to_dict("records")}


def _day(cal, store, iso):
    return cal[(store, date.fromisoformat(iso))]


def test_madrid_store_around_san_isidro(cal):
    eve, isidro, after = (_day(cal, "MAD", d) for d in ("2026-05-14", "2026-05-15", "2026-05-16"))
    assert isidro["is_holiday"] and isidro["is_local_holiday"] and isidro["holiday_name"] == "San Isidro"
    assert not isidro["is_national_holiday"] and not isidro["is_regional_holiday"]
    assert eve["is_holiday_eve"] and not eve["is_holiday"] and eve["days_to_holiday"] == 1
    assert after["days_from_holiday"] == 1 and not after["is_holiday_eve"]
    assert _day(cal, "MAD", "2026-05-10")["days_to_holiday"] == 5
    assert _day(cal, "MAD", "2026-05-10")["days_from_holiday"] == 8  # Madrid Day, 2 May
    madrid_day = _day(cal, "MAD", "2026-05-02")
    assert madrid_day["is_regional_holiday"] and not madrid_day["is_national_holiday"]
    assert _day(cal, "MAD", "2026-05-01")["is_national_holiday"]  # Labour Day
    assert _day(cal, "MAD", "2026-05-01")["is_holiday_eve"]  # ... and eve of Madrid Day


def test_canary_store_has_its_own_regional_day_and_not_madrids(cal):
    assert not _day(cal, "LPA", "2026-05-15")["is_holiday"]
    assert not _day(cal, "LPA", "2026-05-02")["is_holiday"]
    canarias = _day(cal, "LPA", "2026-05-30")
    assert canarias["is_regional_holiday"] and canarias["holiday_name"] == "Día de Canarias"
    assert _day(cal, "LPA", "2026-05-29")["is_holiday_eve"]
    local = _day(cal, "LPA", "2026-05-12")  # an events row of a holiday type is a local holiday
    assert local["is_local_holiday"] and local["holiday_name"] == "Fiesta del barrio"
    assert _day(cal, "LPA", "2026-05-13")["days_to_holiday"] == 17


def test_german_store_gets_bavarian_holidays_and_store_without_subdivision_national_only(cal):
    assert _day(cal, "MUC", "2026-01-06")["is_regional_holiday"]  # Epiphany: Bavaria, not Germany
    assert _day(cal, "MUC", "2026-06-04")["is_regional_holiday"]  # Corpus Christi
    assert _day(cal, "MUC", "2026-05-01")["is_national_holiday"]
    assert _day(cal, "PAR", "2026-05-08")["is_national_holiday"]  # Victory in Europe Day
    assert not any(r["is_regional_holiday"] for (s, _), r in cal.items() if s == "PAR")


def test_unknown_country_means_no_holidays_and_a_warning_not_a_crash(caplog):
    cfg = CalendarConfig()
    warnings: list[str] = []
    with caplog.at_level(logging.WARNING):
        df = build_calendar(
            STORES[STORES.store_id == "ATL"],
            EVENTS,
            date(2026, 5, 1),
            date(2026, 5, 31),
            cfg,
            warnings=warnings,
        )
    assert len(df) == 31 and not df["is_holiday"].any()
    assert df["days_to_holiday"].isna().all()
    assert warnings and "'XX'" in warnings[0] and "XX" in caplog.text
    assert (df["season"] == "autumn").all()  # southern hemisphere
    assert df.loc[df["date"] == date(2026, 5, 27), "day_events"].item() == "Cup final"  # national event


def test_unknown_subdivision_falls_back_to_national_with_a_warning():
    stores = pd.DataFrame([{"store_id": "X", "city": "?", "country": "DE", "subdivision": "DE-ZZ"}])
    warnings: list[str] = []
    df = build_calendar(
        stores, EVENTS.iloc[0:0], date(2026, 1, 1), date(2026, 1, 31), CalendarConfig(), warnings=warnings
    )
    assert df.loc[df["date"] == date(2026, 1, 1), "is_national_holiday"].item()
    assert not df.loc[df["date"] == date(2026, 1, 6), "is_holiday"].item()
    assert "DE-ZZ" in warnings[0]


def test_events_span_their_days_for_stores_in_scope_only(cal):
    fair = [_day(cal, "MAD", f"2026-05-{d}") for d in (19, 20, 21, 22, 23)]
    assert [r["is_event"] for r in fair] == [False, True, True, True, False]
    assert fair[1]["day_events"] == "Book fair" and fair[1]["day_event_types"] == "local"
    assert fair[0]["days_to_event"] == 1 and fair[4]["days_from_event"] == 1
    assert not fair[2]["is_holiday"]  # an event, not a holiday
    assert not _day(cal, "LPA", "2026-05-21")["is_event"]  # another store's event
    assert _day(cal, "LPA", "2026-05-27")["day_events"] == "Cup final"  # national scope


def test_date_parts_and_fourier_terms(cal):
    r = _day(cal, "MAD", "2026-03-01")  # a Sunday
    assert (r["day_of_week"], r["is_weekend"], r["month"], r["quarter"], r["season"]) == (
        7,
        True,
        3,
        1,
        "spring",
    )
    assert r["is_month_start"] and _day(cal, "MAD", "2026-02-28")["is_month_end"]
    names = [n for n, _ in calendar_fields(CalendarConfig())]
    assert {"yearly_sin_3", "yearly_cos_3", "weekly_sin_2", "weekly_cos_2"} <= set(names)
    a, b = _day(cal, "MAD", "2026-03-01"), _day(cal, "MAD", "2026-03-08")
    assert a["weekly_sin_1"] == pytest.approx(b["weekly_sin_1"])  # weekly terms repeat every 7 days


def test_holiday_events_add_levels_without_repeating_names():
    """Holidays listed in silver.events (as the demo generator writes them) are not counted twice."""
    events = pd.DataFrame(
        [
            {
                "event_date_start": date(2026, 1, 1),
                "event_date_end": date(2026, 1, 1),
                "event_name": "Año Nuevo",
                "event_type": "national_holiday",
                "scope": "national",
            },
            {
                "event_date_start": date(2026, 5, 15),
                "event_date_end": date(2026, 5, 15),
                "event_name": "Fiesta local: Fiestas de San Isidro",
                "event_type": "local_holiday",
                "scope": "MAD",
            },
            {
                "event_date_start": date(2026, 5, 13),
                "event_date_end": date(2026, 5, 17),
                "event_name": "Fiestas de San Isidro",
                "event_type": "local_fiesta",
                "scope": "MAD",
            },
            {
                "event_date_start": date(2026, 6, 8),
                "event_date_end": date(2026, 6, 8),
                "event_name": "Día extra",
                "event_type": "Festivo Nacional",
                "scope": "national",
            },
        ]
    )
    cfg = CalendarConfig.from_settings(load_settings())
    df = build_calendar(STORES.iloc[:1], events, date(2026, 1, 1), date(2026, 6, 30), cfg)
    day = {r["date"]: r for r in df.to_dict("records")}
    assert (
        day[date(2026, 1, 1)]["holiday_name"] == "Año Nuevo" and day[date(2026, 1, 1)]["is_national_holiday"]
    )
    isidro = day[date(2026, 5, 15)]  # the event names the local holiday; conf's "San Isidro" is not added
    assert isidro["holiday_name"] == "Fiesta local: Fiestas de San Isidro" and isidro["is_local_holiday"]
    assert isidro["day_events"] == "Fiesta local: Fiestas de San Isidro; Fiestas de San Isidro"
    assert not day[date(2026, 5, 13)]["is_holiday"] and day[date(2026, 5, 13)]["is_event"]
    assert day[date(2026, 6, 8)]["is_national_holiday"] and day[date(2026, 6, 7)]["is_holiday_eve"]


def test_holiday_levels_in_conf_are_checked():
    settings = load_settings(overrides={"gold": {"holiday_event_types": {"feria": "municipal"}}})
    with pytest.raises(ValueError, match="holiday_event_types.*feria"):
        CalendarConfig.from_settings(settings)
