"""Morning deliveries planned from expected demand, FIFO stock with shelf life, and stock-outs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bakery.generate.catalog import Product, Store
from bakery.generate.params import stream


@dataclass(frozen=True)
class Stock:
    """Per store, product and day, in integer units (grams for products sold by weight)."""

    opening: np.ndarray  # on the shelf after the morning's expired items are thrown away
    delivered: np.ndarray
    sold: np.ndarray  # min(true demand, opening + delivered): what the tills record
    closing: np.ndarray
    wasted: np.ndarray  # thrown away that morning, past shelf life
    stockout: np.ndarray  # bool: demand exceeded the stock

    @property
    def shape(self) -> tuple[int, ...]:
        return self.sold.shape


def delivery_targets(
    cfg: dict[str, Any], lam: np.ndarray, products: list[Product], stores: list[Store], seed: int
) -> np.ndarray:
    """Stock each store wants on the shelf each morning (scaled units): estimate + z * sd."""
    icfg, dcfg = cfg["inventory"], cfg["demand"]
    scale = np.array([p.scale for p in products], dtype=float)[None, :, None]
    piece = np.array([float(dcfg["weight_line_kg"]) if p.unit == "kg" else 1.0 for p in products])[
        None, :, None
    ]
    spread = (
        1.0 / float(dcfg["dispersion"])
        + float(dcfg["store_day_sigma"]) ** 2
        + float(icfg["planning_sigma"]) ** 2
    )
    errors = np.stack(
        [
            stream(seed, "planner", s.index).lognormal(0.0, float(icfg["planning_sigma"]), lam.shape[1:])
            for s in stores
        ]
    )
    estimate = lam * errors
    sd = np.sqrt(estimate * piece + estimate**2 * spread)
    return (estimate + float(icfg["service_z"]) * sd) * scale


def simulate_stock(
    cfg: dict[str, Any],
    lam: np.ndarray,
    demand: np.ndarray,
    products: list[Product],
    stores: list[Store],
    seed: int,
) -> Stock:
    """Walk the days: discard expired stock, deliver up to the target, sell oldest first."""
    n_s, n_p, n_d = lam.shape
    life = np.array([max(p.shelf_life_days, 1) for p in products])
    step = np.array([500 if p.unit == "kg" else 1 for p in products])[None, :]
    max_life = int(life.max())
    expired = np.arange(max_life)[None, :] >= life[:, None]  # (P, ages)
    target = delivery_targets(cfg, lam, products, stores, seed)
    out = {
        k: np.zeros(lam.shape, dtype=np.int64) for k in ("opening", "delivered", "sold", "closing", "wasted")
    }
    stockout = np.zeros(lam.shape, dtype=bool)
    shelf = np.zeros((n_s, n_p, max_life), dtype=np.int64)  # stock by age in days
    for d in range(n_d):
        shelf[..., 1:] = shelf[..., :-1].copy()
        shelf[..., 0] = 0
        out["wasted"][..., d] = np.where(expired[None], shelf, 0).sum(-1)
        shelf[:, expired] = 0
        opening = shelf.sum(-1)
        active = lam[..., d] > 0
        need = np.maximum(target[..., d] - opening, 0.0)
        delivered = np.where(active, np.ceil(need / step) * step, 0).astype(np.int64)
        shelf[..., 0] = delivered
        available = opening + delivered
        sold = np.minimum(demand[..., d], available)
        remaining = sold.copy()
        for age in range(max_life - 1, -1, -1):
            take = np.minimum(remaining, shelf[..., age])
            shelf[..., age] -= take
            remaining -= take
        out["opening"][..., d], out["delivered"][..., d], out["sold"][..., d] = opening, delivered, sold
        out["closing"][..., d] = available - sold
        stockout[..., d] = active & (demand[..., d] > available)
    return Stock(stockout=stockout, **out)
