"""Store calendars in pandas: date parts, Fourier terms, public holidays by country and subdivision, local events.

The calendar is known in advance, so everything here may look into the future (days to the next holiday);
it is small (stores x days) and joined onto the Spark tables by (store_id, date).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pyspark.sql import types as T

from bakery.config import Settings
from bakery.public_holidays import public_holidays

log = logging.getLogger(__name__)

NATIONAL_SCOPE = "national"
HOLIDAY_LEVELS = ("national", "regional", "local")
# Events longer than this are clipped to the calendar window when expanded to days.
_EVENT_MARGIN_DAYS = 400


@dataclass(frozen=True)
class CalendarConfig:
    """What the calendar computes: Fourier orders and which event types count as public holidays."""

    fourier_yearly: int = 3
    fourier_weekly: int = 2
    # normalized event type -> holiday level (national, regional or local)
    holiday_event_types: dict[str, str] = field(
        default_factory=lambda: {
            "national_holiday": "national",
            "regional_holiday": "regional",
            "local_holiday": "local",
            "holiday": "local",
        }
    )
    # lower-case city -> {"MM-DD": holiday name}
    city_holidays: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> CalendarConfig:
        types = settings.get("gold.holiday_event_types") or cls().holiday_event_types
        cities = settings.get("gold.city_holidays") or {}
        bad = {t: v for t, v in types.items() if v not in HOLIDAY_LEVELS}
        if bad:
            raise ValueError(f"gold.holiday_event_types: levels must be one of {HOLIDAY_LEVELS}, got {bad}")
        return cls(
            fourier_yearly=int(settings.get("gold.fourier_order_yearly", cls.fourier_yearly)),
            fourier_weekly=int(settings.get("gold.fourier_order_weekly", cls.fourier_weekly)),
            holiday_event_types={normalize_event_type(t): v for t, v in types.items()},
            city_holidays={
                str(c).strip().lower(): {str(k): str(v) for k, v in (days or {}).items()}
                for c, days in cities.items()
            },
        )


def normalize_event_type(value: object) -> str:
    return str(value or "").strip().lower().replace(" ", "_").replace("-", "_")


def calendar_fields(cfg: CalendarConfig) -> list[tuple[str, T.DataType]]:
    """The calendar's columns after (store_id, date), in order: one definition for pandas and Spark."""
    fourier = [
        (f"{period}_{fn}_{k}", T.DoubleType())
        for period, order in (("yearly", cfg.fourier_yearly), ("weekly", cfg.fourier_weekly))
        for k in range(1, order + 1)
        for fn in ("sin", "cos")
    ]
    return [
        ("day_of_week", T.IntegerType()),
        ("day_of_month", T.IntegerType()),
        ("day_of_year", T.IntegerType()),
        ("week_of_year", T.IntegerType()),
        ("month", T.IntegerType()),
        ("quarter", T.IntegerType()),
        ("year", T.IntegerType()),
        ("is_weekend", T.BooleanType()),
        ("is_month_start", T.BooleanType()),
        ("is_month_end", T.BooleanType()),
        ("season", T.StringType()),
        *fourier,
        ("is_holiday", T.BooleanType()),
        ("holiday_name", T.StringType()),
        ("is_national_holiday", T.BooleanType()),
        ("is_regional_holiday", T.BooleanType()),
        ("is_local_holiday", T.BooleanType()),
        ("is_holiday_eve", T.BooleanType()),
        ("days_to_holiday", T.LongType()),
        ("days_from_holiday", T.LongType()),
        ("is_event", T.BooleanType()),
        ("n_events", T.IntegerType()),
        ("day_events", T.StringType()),
        ("day_event_types", T.StringType()),
        ("days_to_event", T.LongType()),
        ("days_from_event", T.LongType()),
    ]


def calendar_schema(cfg: CalendarConfig) -> T.StructType:
    fields = [T.StructField("store_id", T.StringType(), False), T.StructField("date", T.DateType(), False)]
    return T.StructType(fields + [T.StructField(n, t, True) for n, t in calendar_fields(cfg)])


# ---- public holidays ------------------------------------------------------------------------------
def store_holidays(
    store: pd.Series,
    event_days: pd.DataFrame,
    cfg: CalendarConfig,
    years: Iterable[int],
    warnings: list[str] | None = None,
) -> tuple[dict[date, str], dict[date, set[str]]]:
    """A store's holidays: {date: names} and {date: levels (national, regional, local)}.

    Public holidays of its country and subdivision (holidays package, in the country's language), events of a
    holiday type in gold.holiday_event_types, and the city's municipal holidays from conf on days for which
    the events list no local holiday. A name already listed for the day is not repeated.
    """
    years = list(years)
    public, national = public_holidays(store.get("country"), store.get("subdivision"), years, warnings)
    names: dict[date, list[str]] = {d: [n] for d, n in public.items()}
    levels: dict[date, set[str]] = {d: {"national" if d in national else "regional"} for d in public}

    def add(day: date, name: str, level: str) -> None:
        if name not in names.setdefault(day, []):
            names[day].append(name)
        levels.setdefault(day, set()).add(level)

    level_of = event_days["event_type"].map(cfg.holiday_event_types)
    for row, level in zip(event_days.itertuples(index=False), level_of, strict=True):
        if isinstance(level, str):
            add(row.date, row.event_name, level)
    for day, extra in city_holidays(store.get("city"), cfg, years).items():
        if "local" not in levels.get(day, ()):
            for name in sorted(extra):
                add(day, name, "local")
    return {d: "; ".join(parts) for d, parts in names.items()}, levels


def city_holidays(city: str | None, cfg: CalendarConfig, years: Iterable[int]) -> dict[date, set[str]]:
    """Municipal holidays from conf (gold.city_holidays, fixed month-day) for a store's city."""
    by_day = cfg.city_holidays.get(str(city or "").strip().lower(), {})
    out: dict[date, set[str]] = {}
    for year in years:
        for month_day, name in by_day.items():
            month, day = (int(x) for x in month_day.split("-"))
            out.setdefault(date(year, month, day), set()).add(name)
    return out


# ---- local events ---------------------------------------------------------------------------------
def _scopes(store: pd.Series) -> set[str]:
    keys = {NATIONAL_SCOPE, str(store["store_id"]).lower()}
    for col in ("country", "subdivision"):
        if isinstance(store.get(col), str) and store.get(col):
            keys.add(store[col].strip().lower())
    return keys


def store_event_days(events: pd.DataFrame, store: pd.Series, start: date, end: date) -> pd.DataFrame:
    """Events in a store's scope (its store_id, `national`, its country or subdivision) expanded to days.

    Returns one row per (date, event) with columns date, event_name, event_type, event_start, event_end.
    """
    cols = ["date", "event_name", "event_type", "event_start", "event_end"]
    if events.empty:
        return pd.DataFrame(columns=cols)
    scope = events["scope"].astype(str).str.strip().str.lower()
    mine = events[scope.isin(_scopes(store))]
    lo, hi = start - timedelta(days=_EVENT_MARGIN_DAYS), end + timedelta(days=_EVENT_MARGIN_DAYS)
    rows = []
    for ev in mine.itertuples(index=False):
        first = pd.Timestamp(ev.event_date_start).date()
        last = pd.Timestamp(ev.event_date_end).date() if pd.notna(ev.event_date_end) else first
        last = max(first, last)
        for day in pd.date_range(max(first, lo), min(last, hi), freq="D"):
            rows.append((day.date(), str(ev.event_name), normalize_event_type(ev.event_type), first, last))
    return pd.DataFrame(rows, columns=cols)


# ---- date parts ------------------------------------------------------------------------------------
_SEASONS_NORTH = {
    12: "winter",
    1: "winter",
    2: "winter",
    3: "spring",
    4: "spring",
    5: "spring",
    6: "summer",
    7: "summer",
    8: "summer",
    9: "autumn",
    10: "autumn",
    11: "autumn",
}
_FLIP = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}


def date_parts(days: pd.DatetimeIndex, cfg: CalendarConfig, southern: bool = False) -> pd.DataFrame:
    """Day-of-week (1 = Monday), month, ISO week, season (by hemisphere) and Fourier terms of each day."""
    iso = days.isocalendar()
    seasons = pd.Series(days.month, index=days).map(_SEASONS_NORTH)
    if southern:
        seasons = seasons.map(_FLIP)
    out = pd.DataFrame(
        {
            "day_of_week": days.dayofweek + 1,
            "day_of_month": days.day,
            "day_of_year": days.dayofyear,
            "week_of_year": iso["week"].to_numpy(),
            "month": days.month,
            "quarter": days.quarter,
            "year": days.year,
            "is_weekend": days.dayofweek >= 5,
            "is_month_start": days.is_month_start,
            "is_month_end": days.is_month_end,
            "season": seasons.to_numpy(),
        }
    )
    t = (days - pd.Timestamp("1970-01-01")).days.to_numpy().astype(float)
    for period, order, length in (
        ("yearly", cfg.fourier_yearly, 365.25),
        ("weekly", cfg.fourier_weekly, 7.0),
    ):
        for k in range(1, order + 1):
            angle = 2.0 * math.pi * k * t / length
            out[f"{period}_sin_{k}"] = np.sin(angle)
            out[f"{period}_cos_{k}"] = np.cos(angle)
    return out


def _distance(days: np.ndarray, marks: np.ndarray, forward: bool) -> pd.arrays.IntegerArray:
    """Days to the first mark strictly after each day (forward) or since the last one strictly before it."""
    if marks.size == 0:
        return pd.arrays.IntegerArray(np.zeros(days.size, "int64"), np.ones(days.size, bool))
    if forward:
        idx = np.searchsorted(marks, days, side="right")
        found = idx < marks.size
        dist = marks[np.minimum(idx, marks.size - 1)] - days
    else:
        idx = np.searchsorted(marks, days, side="left") - 1
        found = idx >= 0
        dist = days - marks[np.maximum(idx, 0)]
    return pd.arrays.IntegerArray(np.where(found, dist, 0).astype("int64"), ~found)


def _ordinals(values: Iterable[date]) -> np.ndarray:
    return np.array(sorted({d.toordinal() for d in values}), dtype="int64")


# ---- one store, then all stores --------------------------------------------------------------------
def store_calendar(
    store: pd.Series,
    events: pd.DataFrame,
    start: date,
    end: date,
    cfg: CalendarConfig,
    warnings: list[str] | None = None,
) -> pd.DataFrame:
    """The calendar of one store (a row of silver.stores) for start..end inclusive."""
    days = pd.date_range(start, end, freq="D")
    dates = [d.date() for d in days]
    latitude = pd.to_numeric(pd.Series([store.get("latitude")]), errors="coerce").iloc[0]
    out = date_parts(days, cfg, southern=bool(pd.notna(latitude) and latitude < 0))
    out.insert(0, "date", dates)
    out.insert(0, "store_id", str(store["store_id"]))

    ev = store_event_days(events, store, start, end)
    names, levels = store_holidays(store, ev, cfg, range(start.year - 1, end.year + 2), warnings)
    holiday_days = _ordinals(names)
    ordinals = np.array([d.toordinal() for d in dates], dtype="int64")

    out["is_holiday"] = [d in names for d in dates]
    out["holiday_name"] = [names.get(d) for d in dates]
    for level in HOLIDAY_LEVELS:
        out[f"is_{level}_holiday"] = [level in levels.get(d, ()) for d in dates]
    out["is_holiday_eve"] = [(d + timedelta(days=1)) in names for d in dates]
    out["days_to_holiday"] = _distance(ordinals, holiday_days, forward=True)
    out["days_from_holiday"] = _distance(ordinals, holiday_days, forward=False)

    per_day = ev.groupby("date").agg(
        n_events=("event_name", "size"),
        day_events=("event_name", lambda s: "; ".join(sorted(set(s)))),
        day_event_types=("event_type", lambda s: ",".join(sorted(set(s)))),
    )
    out["n_events"] = [int(per_day["n_events"].get(d, 0)) for d in dates]
    out["is_event"] = out["n_events"] > 0
    out["day_events"] = [per_day["day_events"].get(d) for d in dates]
    out["day_event_types"] = [per_day["day_event_types"].get(d) for d in dates]
    out["days_to_event"] = _distance(ordinals, _ordinals(ev["event_start"]), forward=True)
    out["days_from_event"] = _distance(ordinals, _ordinals(ev["event_end"]), forward=False)
    return out[["store_id", "date", *(name for name, _ in calendar_fields(cfg))]]


def build_calendar(
    stores: pd.DataFrame,
    events: pd.DataFrame,
    start: date,
    end: date,
    cfg: CalendarConfig,
    warnings: list[str] | None = None,
) -> pd.DataFrame:
    """Calendars of every store in `stores` (silver.stores rows) for start..end, stacked.

    Problems that only cost holidays (an unknown country or subdivision) are logged and added to `warnings`.
    """
    frames = [store_calendar(store, events, start, end, cfg, warnings) for _, store in stores.iterrows()]
    if not frames:
        return pd.DataFrame(columns=["store_id", "date", *(name for name, _ in calendar_fields(cfg))])
    return pd.concat(frames, ignore_index=True)
