"""Tiny synthetic gold.features series for the model tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_series(
    store_id: str = "S01",
    product_id: str = "P01",
    start: str = "2025-01-01",
    days: int = 150,
    level: float = 100.0,
    seed: int = 0,
    closed_weekday: int | None = 6,
) -> pd.DataFrame:
    """A gold.features-shaped series: weekly pattern, noise, temperature, promo; closed on one weekday."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, periods=days, freq="D")
    weekly = np.array([1.0, 0.9, 0.95, 1.0, 1.2, 1.5, 0.8])[ds.dayofweek]
    temperature = 10 + 8 * np.sin(2 * np.pi * ds.dayofyear / 365) + rng.normal(0, 1, days)
    promo = (ds.isocalendar().week.to_numpy() % 6 == 0).astype(float)
    y = level * weekly * (1 + 0.2 * promo) + rng.normal(0, level * 0.05, days)
    is_open = np.ones(days, dtype=bool) if closed_weekday is None else ds.dayofweek != closed_weekday
    return pd.DataFrame(
        {
            "store_id": store_id,
            "product_id": product_id,
            "unique_id": f"{store_id}/{product_id}",
            "date": ds,
            "y": np.where(is_open, np.round(np.clip(y, 0, None), 1), np.nan),
            "is_open": is_open,
            "stockout": False,
            "temperature": temperature,
            "promo": promo,
            "country": "DE",
            "subdivision": "DE-BY",
        }
    )
