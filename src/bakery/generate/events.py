"""Events: public holidays, local fiestas and national commercial dates, as rows and as demand effects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from bakery.generate.calendar import Period, StoreCalendar, occurrences, rule_mask
from bakery.generate.catalog import Store

EVENT_COLUMNS = ["event_date_start", "event_date_end", "event_name", "event_type", "scope"]
HOLIDAY_TYPES = {"national": "national_holiday", "regional": "regional_holiday", "local": "local_holiday"}


@dataclass(frozen=True)
class EventEffects:
    """Demand multipliers of events: per store and day, and per product category and day."""

    store_day: np.ndarray  # (stores, days)
    category_day: dict[str, np.ndarray]  # category -> (days,)


def _rule(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k in ("start", "end", "easter", "after", "weekday", "days")}


def events_frame(
    cfg: dict[str, Any], stores: list[Store], cal: StoreCalendar, first: date, last: date
) -> pd.DataFrame:
    """The `events` source: one row per event occurrence overlapping first..last."""
    rows: set[tuple[date, date, str, str, str]] = set()
    for s, table in zip(stores, cal.holidays, strict=True):
        for day, (name, kind) in table.items():
            if first <= day <= last:
                scope = "national" if kind == "national" else s.store_id
                rows.add((day, day, name, HOLIDAY_TYPES[kind], scope))
        for fiesta in s.fiestas:
            for a, b in occurrences(_rule(fiesta), first, last):
                rows.add((a, b, fiesta["name"], "local_fiesta", s.store_id))
    for item in cfg["events"]["national"]:
        for a, b in occurrences(_rule(item), first, last):
            rows.add((a, b, item["name"], item["type"], "national"))
    ordered = sorted(rows, key=lambda r: (r[0], r[4], r[2]))
    frame = pd.DataFrame(ordered, columns=EVENT_COLUMNS)
    for col in ("event_date_start", "event_date_end"):
        frame[col] = [d.isoformat() for d in frame[col]]
    return frame


def event_effects(cfg: dict[str, Any], stores: list[Store], period: Period) -> EventEffects:
    """Fiestas lift their store; commercial events lift by store type; some events lift categories."""
    effects = cfg["events"]["effects"]
    store_day = np.ones((len(stores), period.days))
    for s in stores:
        for fiesta in s.fiestas:
            lift = effects["local_fiesta"][s.store_type]
            store_day[s.index] *= np.where(rule_mask(_rule(fiesta), period), lift, 1.0)
    category_day: dict[str, np.ndarray] = {}
    for item in cfg["events"]["national"]:
        mask = rule_mask(_rule(item), period)
        by_type = effects.get(item["type"])
        if by_type:
            for s in stores:
                store_day[s.index] *= np.where(mask, by_type[s.store_type], 1.0)
        for category, lift in (item.get("categories") or {}).items():
            category_day.setdefault(category, np.ones(period.days))
            category_day[category] *= np.where(mask, lift, 1.0)
    return EventEffects(store_day=store_day, category_day=category_day)


def events_horizon(cfg: dict[str, Any], period: Period) -> date:
    """Last day the events file covers: events are planned ahead of the data."""
    return period.end + timedelta(days=int(cfg["events"]["ahead_days"]))
