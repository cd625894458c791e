"""Ingredients: monthly supplier price lists and monthly per-store stock counts, one XLSX per year."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from bakery.generate.calendar import Period, utc_offsets
from bakery.generate.catalog import Store
from bakery.generate.params import stream

INGREDIENT_COLUMNS = [
    "timestamp",
    "ingredient_id",
    "ingredient_name",
    "supplier_id",
    "price_per_unit",
    "store_id",
    "stock_level",
]
PRICE_LIST_ZONE = "Europe/Madrid"


def _months(period: Period) -> list[date]:
    first = date(period.start.year, period.start.month, 1)
    months = []
    while first <= period.end:
        months.append(first)
        first = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return months


def _stamp(day: date, clock: str, tz: str) -> str:
    return f"{day.isoformat()}T{clock}{utc_offsets(tz, pd.DatetimeIndex([day]))[0]}"


def _typical_use(units: np.ndarray, day: int, window: int = 28) -> float:
    """Mean units sold per open day around a day (the store's usual pace, also right after a closure)."""
    near = units[max(day - window, 0) : day + window]
    near = near[near > 0]
    return float(near.mean()) if near.size else 0.0


def monthly_prices(cfg: dict[str, Any], months: list[date], seed: int) -> dict[tuple[str, str], np.ndarray]:
    """Price per (ingredient, supplier) and month: trend, supplier markup and persistent noise."""
    icfg = cfg["ingredients"]
    t = np.array([(m - months[0]).days / 365.25 for m in months])
    prices = {}
    for k, item in enumerate(icfg["items"]):
        rng = stream(seed, "ingredient", k)
        shock = np.cumsum(rng.normal(0, float(item["volatility"]), len(months)))
        level = float(item["price"]) * np.exp(float(item["trend"]) * t + shock)
        for sup in item["suppliers"]:
            own = rng.normal(0, float(item["volatility"]) / 2, len(months))
            prices[(item["id"], sup)] = np.round(
                level * float(icfg["suppliers"][sup]["markup"]) * np.exp(own), 3
            )
    return prices


def ingredient_rows(
    cfg: dict[str, Any], stores: list[Store], period: Period, units_per_day: np.ndarray, seed: int
) -> dict[int, list[list[Any]]]:
    """Rows per year: price lists (no store, published on day k of the month by the k-th supplier)
    and per-store stock counts on the 1st at 08:00 local, priced at the store's supplier's price."""
    icfg = cfg["ingredients"]
    months = _months(period)
    prices = monthly_prices(cfg, months, seed)
    supplier_day = {sup: i + 1 for i, sup in enumerate(icfg["suppliers"])}
    rng = stream(seed, "ingredient-stock")
    rows: list[tuple[tuple[Any, ...], list[Any]]] = []
    for m, first in enumerate(months):
        for item in icfg["items"]:
            for sup in item["suppliers"]:
                day = first.replace(day=supplier_day[sup])
                if period.start <= day <= period.end:
                    rows.append(
                        (
                            (day, 0, item["id"], ""),
                            [
                                _stamp(day, "09:00:00", PRICE_LIST_ZONE),
                                item["id"],
                                item["name"],
                                sup,
                                float(prices[(item["id"], sup)][m]),
                                None,
                                None,
                            ],
                        )
                    )
        if not period.start <= first <= period.end:
            continue
        for s in stores:
            usage = _typical_use(units_per_day[s.index], period.index(first))
            stamp = _stamp(first, "08:00:00", s.timezone)
            for item in icfg["items"]:
                sup = item["suppliers"][s.index % len(item["suppliers"])]
                cover = rng.uniform(*icfg["stock_days"])
                level = round(float(item["use"]) / 100 * usage * cover, 1)
                rows.append(
                    (
                        (first, 1, item["id"], s.store_id),
                        [
                            stamp,
                            item["id"],
                            item["name"],
                            sup,
                            float(prices[(item["id"], sup)][m]),
                            s.store_id,
                            level,
                        ],
                    )
                )
    by_year: dict[int, list[list[Any]]] = {}
    for key, row in sorted(rows, key=lambda r: r[0]):
        by_year.setdefault(key[0].year, []).append(row)
    return by_year
