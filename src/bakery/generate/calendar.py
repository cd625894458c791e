"""Dates of the period, date rules (fixed, Easter-based, weekday-after), public holidays and opening days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pandas as pd
from dateutil.easter import easter

from bakery.generate.catalog import Store

SUNDAY = 6


@dataclass(frozen=True)
class Period:
    """The generated days, start..end inclusive, with the calendar parts the model uses."""

    start: date
    end: date

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, self.end, freq="D")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def index(self, day: date) -> int:
        return (day - self.start).days

    def at(self, fraction: float) -> int:
        """The day index a fraction of the way through the period."""
        return int(round(fraction * (self.days - 1)))


def _md(text: str, year: int) -> date:
    month, day = (int(x) for x in str(text).split("-"))
    return date(year, month, day)


def intervals(spec: Any, year: int) -> list[tuple[date, date]]:
    """The (first, last) day ranges a date rule gives for one anchor year.

    A rule is "MM-DD", a list of rules, {start, end} (MM-DD, wrapping into the next year when end < start),
    {easter: n} or {easter: [from, to]} (days from Easter Sunday), or {after: MM-DD, weekday, days}
    (the first such weekday strictly after the date, lasting `days` days).
    """
    if isinstance(spec, str):
        day = _md(spec, year)
        return [(day, day)]
    if isinstance(spec, list):
        return [iv for item in spec for iv in intervals(item, year)]
    if "easter" in spec:
        offsets = spec["easter"] if isinstance(spec["easter"], list) else [spec["easter"]] * 2
        sunday = easter(year)
        return [(sunday + timedelta(days=int(offsets[0])), sunday + timedelta(days=int(offsets[-1])))]
    if "after" in spec:
        first = _md(spec["after"], year) + timedelta(days=1)
        first += timedelta(days=(int(spec["weekday"]) - first.weekday()) % 7)
        return [(first, first + timedelta(days=int(spec.get("days", 1)) - 1))]
    first, last = _md(spec["start"], year), _md(spec["end"], year)
    if last < first:
        last = _md(spec["end"], year + 1)
    return [(first, last)]


def occurrences(spec: Any, first: date, last: date) -> list[tuple[date, date]]:
    """Every range of a rule that overlaps first..last, in date order, without repeats."""
    found = {
        iv
        for year in range(first.year - 1, last.year + 1)
        for iv in intervals(spec, year)
        if iv[1] >= first and iv[0] <= last
    }
    return sorted(found)


def rule_mask(spec: Any, period: Period) -> np.ndarray:
    """Boolean (days,) mask of the period's days covered by a date rule."""
    mask = np.zeros(period.days, dtype=bool)
    for first, last in occurrences(spec, period.start, period.end):
        a, b = max(period.index(first), 0), min(period.index(last), period.days - 1)
        mask[a : b + 1] = True
    return mask


def public_holidays(store: Store, first_year: int, last_year: int) -> dict[date, tuple[str, str]]:
    """National and regional public holidays of a store (the `holidays` package) plus its local ones.

    Values are (name, kind) with kind national|regional|local.
    """
    years = list(range(first_year, last_year + 1))
    national = holidays.country_holidays(store.country, years=years, language="es")
    subdiv = store.subdivision.split("-", 1)[1]
    regional = holidays.country_holidays(store.country, subdiv=subdiv, years=years, language="es")
    out = {day: (name, "national") for day, name in national.items()}
    out.update({day: (name, "regional") for day, name in regional.items() if day not in national})
    for fiesta in store.fiestas:
        if "local_holiday" not in fiesta:
            continue
        for year in years:
            for day, _ in intervals(fiesta["local_holiday"], year):
                out.setdefault(day, (f"Fiesta local: {fiesta['name']}", "local"))
    return out


@cache
def _offset_text(tz: str, day: date) -> str:
    minutes = int(ZoneInfo(tz).utcoffset(datetime(day.year, day.month, day.day, 12)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def utc_offsets(tz: str, days: pd.DatetimeIndex) -> np.ndarray:
    """ISO 8601 UTC offset ("+01:00") of the zone at midday of each day (shop hours never span a DST switch)."""
    return np.array([_offset_text(tz, d.date()) for d in days], dtype=object)


@dataclass(frozen=True)
class StoreCalendar:
    """Per store and day (stores x days): open or closed, holiday effects and opening hours."""

    open: np.ndarray  # bool
    holiday: np.ndarray  # bool: public holiday (national, regional or local)
    profile_day: np.ndarray  # weekday whose profile applies (Sunday on holidays)
    day_factor: np.ndarray  # holiday / eve / special-day multiplier
    hours: np.ndarray  # (stores, days, 2) local opening and closing hour
    holidays: list[dict[date, tuple[str, str]]]


def build_store_calendar(
    cfg: dict[str, Any], stores: list[Store], period: Period, last_day: date
) -> StoreCalendar:
    """Opening days, holiday multipliers and hours of every store over the period."""
    dates = period.dates
    weekday = dates.weekday.to_numpy()
    month_day = np.array(dates.strftime("%m-%d"))
    hcfg = cfg["holidays"]
    n, days = len(stores), period.days
    open_ = np.ones((n, days), dtype=bool)
    holiday = np.zeros((n, days), dtype=bool)
    factor = np.ones((n, days))
    hours = np.zeros((n, days, 2), dtype=np.int64)
    calendars = []
    for s in stores:
        table = public_holidays(s, period.start.year - 1, last_day.year + 1)
        calendars.append(table)
        st = cfg["store_types"][s.store_type]
        is_hol = np.array([d.date() in table for d in dates])
        is_eve = np.array([(d + timedelta(days=1)).date() in table for d in dates]) & ~is_hol
        holiday[s.index] = is_hol
        factor[s.index] = np.where(is_hol, st["holiday"], 1.0) * np.where(is_eve, hcfg["eve"], 1.0)
        for md, value in hcfg["special"].items():
            factor[s.index, month_day == md] = value
        open_[s.index] = ~np.isin(month_day, hcfg["closed"])
        if st.get("closed_sunday_months"):
            open_[s.index] &= ~((weekday == SUNDAY) & np.isin(dates.month, st["closed_sunday_months"]))
        sunday_like = (weekday == SUNDAY) | is_hol
        hours[s.index] = np.where(sunday_like[:, None], st["hours"]["sunday"], st["hours"]["weekday"])
        for md, close in hcfg["short_days"].items():
            hours[s.index, month_day == md, 1] = np.minimum(hours[s.index, month_day == md, 1], close)
    reno = cfg["renovation"]
    who = min(int(reno["store_index"]), n - 1)
    first = period.at(float(reno["at"]))
    open_[who, first : first + int(reno["days"])] = False
    profile_day = np.where(holiday, SUNDAY, weekday[None, :])
    return StoreCalendar(
        open=open_,
        holiday=holiday,
        profile_day=profile_day,
        day_factor=factor,
        hours=hours,
        holidays=calendars,
    )
