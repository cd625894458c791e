"""Periodic promotion campaigns: discounts on a few products, chain-wide or in one shop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from bakery.generate.calendar import Period
from bakery.generate.catalog import Product, Store
from bakery.generate.params import stream


@dataclass(frozen=True)
class Promotions:
    """Discount (share off list price) and promotion id index per store, product and day (-1 = none)."""

    discount: np.ndarray
    code: np.ndarray
    ids: list[str]

    def lift(self, elasticity: float) -> np.ndarray:
        """Demand multiplier of the discounts: (1 - discount) ** -elasticity."""
        return (1.0 - self.discount) ** -elasticity


def schedule_promotions(
    cfg: dict[str, Any],
    stores: list[Store],
    products: list[Product],
    period: Period,
    offered: np.ndarray,
    seed: int,
) -> Promotions:
    """Campaigns every few weeks on non-seasonal products; a share of them run in a single shop."""
    pcfg = cfg["promotions"]
    rng = stream(seed, "promotions")
    shape = (len(stores), len(products), period.days)
    discount = np.zeros(shape)
    code = np.full(shape, -1, dtype=np.int32)
    ids: list[str] = []
    candidates = np.array([p.index for p in products if p.category != "seasonal"])
    day = int(pcfg["first_day"])
    while day < period.days and candidates.size:
        duration = int(rng.integers(pcfg["duration_days"][0], pcfg["duration_days"][1] + 1))
        k = int(rng.integers(pcfg["products_per_campaign"][0], pcfg["products_per_campaign"][1] + 1))
        chosen = np.sort(rng.choice(candidates, size=min(k, candidates.size), replace=False))
        off = round(float(rng.uniform(*pcfg["discount"])), 2)
        single = rng.random() < float(pcfg["single_store_share"])
        where = [int(rng.integers(len(stores)))] if single else list(range(len(stores)))
        first = period.start + timedelta(days=day)
        for p in chosen:
            scope = f"-{stores[where[0]].store_id}" if single else ""
            ids.append(f"PR{first:%Y%m%d}{scope}-{products[p].product_id}")
            window = slice(day, min(day + duration, period.days))
            live = offered[p, window]
            for s in where:
                discount[s, p, window] = np.where(live, off, discount[s, p, window])
                code[s, p, window] = np.where(live, len(ids) - 1, code[s, p, window])
        day += int(rng.integers(pcfg["every_days"][0], pcfg["every_days"][1] + 1))
    return Promotions(discount=discount, code=code, ids=ids)
