"""What each bake policy would have baked on a (series, day) pair, from what was known the night before.

- plan: the served demand quantile at the critical ratio (bakery.models.quantiles);
- point_forecast: the served point forecast;
- last_week: the sales of the same weekday a week before (the most recent observed one, up to `weeks` back,
  when the shop was shut that day);
- saa: the sample-average approximation of the data-driven newsvendor: the ratio-quantile of the sales of the
  last `weeks` same weekdays (the smallest value whose empirical CDF reaches the ratio);
- perfect: the demand itself, rounded up to the batch size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

POLICIES = ("plan", "point_forecast", "last_week", "saa", "perfect")


def same_weekday_history(pairs: pd.DataFrame, sales: pd.DataFrame, weeks: int = 8) -> np.ndarray:
    """pairs (unique_id, ds) x weeks: the sales of ds - 7k for k = 1..weeks (NaN where not observed). Every
    such day is at least a week before the target, so before any cutoff of a D+1..D+7 pair."""
    known = sales.dropna(subset=["y"]).set_index(["unique_id", "ds"])["y"]
    known = known[~known.index.duplicated()]
    out = np.full((len(pairs), weeks), np.nan)
    for k in range(1, weeks + 1):
        keys = pd.MultiIndex.from_arrays([pairs["unique_id"], pairs["ds"] - pd.Timedelta(days=7 * k)])
        out[:, k - 1] = known.reindex(keys).to_numpy(dtype=float)
    return out


def last_week(history: np.ndarray) -> np.ndarray:
    """The most recent observed same-weekday sales (NaN when none of the weeks was observed)."""
    first = np.argmax(~np.isnan(history), axis=1)
    values = history[np.arange(len(history)), first]
    return np.where(np.isnan(history).all(axis=1), np.nan, values)


def saa(history: np.ndarray, ratio: float) -> np.ndarray:
    """Per row, the ratio-quantile of the observed values (inverted empirical CDF); NaN when none is observed."""
    out = np.full(len(history), np.nan)
    has = ~np.isnan(history).all(axis=1)
    if has.any():
        out[has] = np.nanquantile(history[has], ratio, axis=1, method="inverted_cdf")
    return out


def round_to_batches(q, batch) -> np.ndarray:
    """Up to whole batches (a quantity of 0 stays 0)."""
    q, batch = np.asarray(q, dtype=float), np.asarray(batch, dtype=float)
    return np.ceil(np.round(q / batch, 9)) * batch
