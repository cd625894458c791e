"""Series a store is expected not to sell within the forecast horizon: a product it has stopped selling, or a
seasonal one out of its season.

A series is off sale when the store was open on at least `not_offered_days` days since the product's last
observation (days the whole store was shut do not count: that is the closed-day rule's business, and a store
reopening after a refit sells its range again). Its days as_of+1..as_of+max_horizon then forecast 0 (model
`not_offered`), except the days within `season_tolerance_days` of a day it was on sale a year earlier: a seasonal
product comes back in its season and is forecast as usual from then (from last season's level, the fallback
model's). A series with no observation yet (a launch) is not off sale. Pure pandas; conf/models.yml `closures`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from bakery.models.config import ModelConfig
from bakery.models.frames import flag

NOT_OFFERED = "not_offered"
DEFAULTS = {"not_offered": True, "not_offered_days": 28, "season_tolerance_days": 7}
COLUMNS = ["store_id", "product_id", "ds", "reason"]


def _settings(cfg: ModelConfig) -> dict:
    return {**DEFAULTS, **(cfg.closures or {})}


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "store_id": pd.Series(dtype=object),
            "product_id": pd.Series(dtype=object),
            "ds": pd.Series(dtype="datetime64[ns]"),
            "reason": pd.Series(dtype=object),
        }
    )


def _in_season(day: pd.Timestamp, on_sale: np.ndarray, tolerance: int) -> bool:
    """On sale within `tolerance` days of this day a year (52 weeks) earlier; on_sale: sorted datetime64 days."""
    ref, tol = (day - pd.Timedelta(days=364)).to_datetime64(), np.timedelta64(tolerance, "D")
    return bool(
        np.searchsorted(on_sale, ref + tol, side="right") > np.searchsorted(on_sale, ref - tol, side="left")
    )


def expected_not_offered(features: pd.DataFrame, cfg: ModelConfig, as_of: date) -> pd.DataFrame:
    """store_id, product_id, ds, reason: the days as_of+1..as_of+max_horizon each series is expected off sale.

    features: gold.features rows (model_frame) of any number of series, with history up to as_of."""
    conf = _settings(cfg)
    as_of = pd.Timestamp(as_of)
    past = features[pd.to_datetime(features["date"]) <= as_of] if len(features) else features
    if not conf["not_offered"] or past.empty:
        return _empty()
    dates = pd.to_datetime(past["date"])
    is_open = flag(past, "is_open", True)
    observed = past["y"].notna() & is_open & flag(past, "is_offered", True)
    open_days = {
        store: np.sort(d.unique()) for store, d in dates[is_open].groupby(past.loc[is_open, "store_id"])
    }
    sold = dates[observed].groupby([past.loc[observed, "store_id"], past.loc[observed, "product_id"]])
    future = pd.date_range(as_of + pd.Timedelta(days=1), periods=cfg.max_horizon, freq="D")
    threshold, tolerance = int(conf["not_offered_days"]), int(conf["season_tolerance_days"])
    out = []
    for (store, product), days in sold:
        last = days.max()
        store_open = open_days.get(store, np.array([], dtype="datetime64[ns]"))
        since = len(store_open) - int(np.searchsorted(store_open, last.to_datetime64(), side="right"))
        if since < threshold:
            continue
        on_sale = np.sort(days.to_numpy())
        reason = f"last on sale {last:%Y-%m-%d}, the store has opened {since} days since"
        out.extend((store, product, day, reason) for day in future if not _in_season(day, on_sale, tolerance))
    return pd.DataFrame(out, columns=COLUMNS) if out else _empty()
