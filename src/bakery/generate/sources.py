"""Rows of the stock, traffic, weather and truth sources, built from the simulated days."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from bakery.generate.catalog import Product, Store
from bakery.generate.inventory import Stock
from bakery.generate.pos import local_timestamps, take
from bakery.generate.promotions import Promotions


@dataclass(frozen=True)
class DayTexts:
    """Per-day strings shared by all writers: ISO dates and each store's UTC offset that day."""

    dates: list[str]
    offsets: list[list[str]]  # [store][day]

    def flat_offsets(self) -> list[str]:
        return [o for per_store in self.offsets for o in per_store]


def _clock_seconds(text: str) -> int:
    hours, minutes = (int(x) for x in text.split(":"))
    return hours * 3600 + minutes * 60


def _scale(products: list[Product]) -> np.ndarray:
    return np.array([p.scale for p in products], dtype=float)


def deliveries_table(
    cfg: dict[str, Any],
    stock: Stock,
    stores: list[Store],
    products: list[Product],
    texts: DayTexts,
    days: slice,
    truck: np.ndarray,
) -> pa.Table:
    """Deliveries of the given days: one row per store x product x day delivered, at the truck's time.

    `truck` (stores x days) is the truck's delay in seconds after the configured delivery time.
    """
    icfg = cfg["inventory"]
    n_d = stock.shape[2]
    part = stock.delivered[:, :, days]
    d, s, p = np.nonzero(np.transpose(part, (2, 0, 1)))
    d = d + days.start
    offset = np.array([icfg["delivery_offsets_minutes"].get(x.category, 0) for x in products]) * 60
    second = _clock_seconds(icfg["delivery_time"]) + offset[p] + truck[s, d]
    return pa.table(
        {
            "delivery_timestamp": local_timestamps(texts.dates, texts.flat_offsets(), d, second, s * n_d + d),
            "store_id": take([x.store_id for x in stores], s),
            "product_id": take([x.product_id for x in products], p),
            "quantity_delivered": stock.delivered[s, p, d] / _scale(products)[p],
        }
    )


def inventory_frame(
    cfg: dict[str, Any],
    stock: Stock,
    offered: np.ndarray,
    stores: list[Store],
    products: list[Product],
    texts: DayTexts,
    days: np.ndarray,
) -> pa.Table:
    """Weekly shelf counts at closing (before overnight waste) for products on sale or still in stock."""
    icfg = cfg["inventory"]
    n_d = stock.shape[2]
    closing = np.transpose(stock.closing[:, :, days], (2, 0, 1))
    listed = (closing > 0) | offered[:, days].T[:, None, :]
    k, s, p = np.nonzero(listed)
    d = days[k]
    second = np.full(d.size, _clock_seconds(icfg["snapshot_time"]))
    return pa.table(
        {
            "snapshot_timestamp": local_timestamps(texts.dates, texts.flat_offsets(), d, second, s * n_d + d),
            "store_id": take([x.store_id for x in stores], s),
            "product_id": take([x.product_id for x in products], p),
            "current_stock": stock.closing[s, p, d] / _scale(products)[p],
            "stock_unit": take([x.unit for x in products], p),
        }
    )


def traffic_counts(
    cfg: dict[str, Any],
    store: Store,
    hourly_tickets: np.ndarray,
    hours: np.ndarray,
    is_open: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hourly visitor counts over opening hours of open days: tickets / conversion with noise."""
    st = cfg["store_types"][store.store_type]
    clock = np.arange(24)
    counting = is_open[:, None] & (clock[None, :] >= hours[:, :1]) & (clock[None, :] < hours[:, 1:])
    noise = rng.lognormal(0.0, float(cfg["traffic"]["noise_sigma"]), hourly_tickets.shape)
    visitors = np.round(np.maximum(hourly_tickets, 0.5) / float(st["conversion"]) * noise)
    d, h = np.nonzero(counting)
    return d, h, visitors[d, h]


def traffic_table(
    stores: list[Store],
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    texts: DayTexts,
    n_days: int,
    days: slice,
) -> pa.Table:
    """The `traffic` rows of the given days for all stores, ordered by day, store and hour."""
    d = np.concatenate([p[0] for p in parts])
    h = np.concatenate([p[1] for p in parts])
    c = np.concatenate([p[2] for p in parts])
    s = np.concatenate([np.full(p[0].size, i) for i, p in enumerate(parts)])
    keep = (d >= days.start) & (d < days.stop)
    d, h, c, s = d[keep], h[keep], c[keep], s[keep]
    order = np.lexsort((h, s, d))
    d, h, c, s = d[order], h[order], c[order], s[order]
    return pa.table(
        {
            "timestamp": local_timestamps(texts.dates, texts.flat_offsets(), d, h * 3600, s * n_days + d),
            "store_id": take([x.store_id for x in stores], s),
            "foot_traffic_count": c.astype(np.float64),
        }
    )


def truth_table(
    lam: np.ndarray,
    demand: np.ndarray,
    stock: Stock,
    is_open: np.ndarray,
    offered: np.ndarray,
    promos: Promotions,
    stores: list[Store],
    products: list[Product],
    dates: Any,
) -> pa.Table:
    """`_truth/demand.parquet`: what really happened per date x store x product (quantities in units or kg)."""
    n_s, n_p, n_d = lam.shape
    d, s, p = (a.ravel() for a in np.meshgrid(np.arange(n_d), np.arange(n_s), np.arange(n_p), indexing="ij"))
    scale = _scale(products)[p]
    promo = promos.code[s, p, d]
    return pa.table(
        {
            "date": pa.array(dates.date[d]),
            "store_id": take([x.store_id for x in stores], s),
            "product_id": take([x.product_id for x in products], p),
            "true_demand": demand[s, p, d] / scale,
            "observed_sales": stock.sold[s, p, d] / scale,
            "stockout": stock.stockout[s, p, d],
            "closed": ~is_open[s, d],
            "offered": offered[p, d],
            "expected_demand": np.round(lam[s, p, d], 4),
            "promotion_id": take([*promos.ids, None], np.where(promo >= 0, promo, len(promos.ids))),
            "delivered": stock.delivered[s, p, d] / scale,
            "opening_stock": stock.opening[s, p, d] / scale,
            "closing_stock": stock.closing[s, p, d] / scale,
            "wasted": stock.wasted[s, p, d] / scale,
        }
    )
