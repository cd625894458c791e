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


def summer_shop(
    start: str = "2022-12-01",
    end: str = "2024-06-28",
    levels: tuple[float, ...] = (60.0, 200.0),
    seed: int = 0,
) -> pd.DataFrame:
    """A tourist shop's series whose level doubles every summer (x1 until mid-May, x2 from mid-June to the end of
    August, back by mid-September), with a weekly pattern and 6% noise; from 2022-12 the history to 2024-05-31
    holds 18 months and one summer."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, end, freq="D")
    doy = ds.dayofyear.to_numpy()
    season = 1 + np.minimum(np.clip((doy - 135) / 31, 0, 1), np.clip((258 - doy) / 15, 0, 1))
    weekly = np.array([1.0, 0.9, 0.95, 1.0, 1.2, 1.5, 0.8])[ds.dayofweek]
    parts = [
        pd.DataFrame(
            {
                "store_id": "T1",
                "product_id": f"P{k}",
                "unique_id": f"T1/P{k}",
                "date": ds,
                "y": np.round(np.clip(level * weekly * season * rng.normal(1, 0.06, len(ds)), 0, None), 1),
                "is_open": True,
                "country": "DE",
                "subdivision": "DE-BY",
            }
        )
        for k, level in enumerate(levels)
    ]
    return pd.concat(parts, ignore_index=True)
