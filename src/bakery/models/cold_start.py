"""Cold start: forecasts for a product a store has not sold yet because it is new (its `launched_on` date lies
ahead, or at most `days_after_launch` days back), made from what the models forecast for similar series.

- The product already sells at other stores: its forecast there, scaled by the store's size relative to each of
  those stores (the ratio of their forecast totals over the horizon for the product's category, else for every
  product), and the median over those stores per day.
- The product is new to the whole chain: the median per day of the store's forecasts for the other products of its
  category (of all its products when the category has no other).

Each day from the launch on gets a row with model `cold_start`, reason_code `cold_start`, the launch day in
`launched_on` and the analogue in `fallback_reason`; the interval
spans the analogues' intervals (the lowest lower bound to the highest upper one), as wide as the uncertainty of a
product nobody has sold yet. Days before the launch get no row. Rows are made before the closed-day rule runs, so a
day the store is expected closed still forecasts 0. Once the product sells at a store, the series is forecast as
usual (the fallback model while its history is short). Pure pandas; conf/models.yml `cold_start`.

`backtest_cold_starts` does the same at each cutoff of a backtest, from the served (champion) backtest rows, and
scores the days the new series then sold: what the pipeline would have served for a launch.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from bakery.models import reasons
from bakery.models.config import ModelConfig
from bakery.models.offering import NOT_OFFERED
from bakery.models.output import FORECAST_COLUMNS

COLD_START = reasons.COLD_START
DEFAULTS = {"enabled": True, "days_after_launch": 14}
_BOUNDS = ["yhat", "yhat_lower", "yhat_upper"]


def _settings(cfg: ModelConfig) -> dict:
    return {**DEFAULTS, **(cfg.cold_start or {})}


def launching(products: pd.DataFrame, cfg: ModelConfig, as_of: date) -> pd.DataFrame:
    """product_id, category, launched_on of the products whose launch makes them cold-start candidates."""
    conf = _settings(cfg)
    if not conf["enabled"] or products.empty or "launched_on" not in products:
        return products.iloc[0:0]
    launch = pd.to_datetime(products["launched_on"])
    as_of = pd.Timestamp(as_of)
    window = (launch > as_of - pd.Timedelta(days=int(conf["days_after_launch"]))) & (
        launch <= as_of + pd.Timedelta(days=cfg.max_horizon)
    )
    out = products.loc[window, ["product_id", "category", "launched_on"]].copy()
    out["product_id"] = out["product_id"].astype(str)
    out["launched_on"] = launch[window]
    return out.reset_index(drop=True)


def relaunched(zero: pd.DataFrame, products: pd.DataFrame, cfg: ModelConfig, as_of: date) -> pd.DataFrame:
    """expected_zero_days without the off-sale days from the launch on of the launching products: a product launched
    again (a new `launched_on` after a store stopped selling it) is expected on sale from that day, at the stores
    that sold it before too (their series' own model serves them)."""
    new = launching(products, cfg, as_of)
    if zero.empty or new.empty:
        return zero
    launch = zero["product_id"].astype(str).map(new.set_index("product_id")["launched_on"])
    back = (zero["model"] == NOT_OFFERED) & launch.notna() & (pd.to_datetime(zero["ds"]) >= launch)
    return zero[~back.to_numpy()].reset_index(drop=True)


def _sizes(rows: pd.DataFrame, category: dict[str, str | None], cat: str | None, exclude: str) -> pd.Series:
    """Per store: the forecast total over the horizon of the category's products (all products when the category
    has none there), the new product left out."""
    others = rows[rows["product_id"] != exclude]
    same = others[others["product_id"].map(category).eq(cat)] if cat is not None else others.iloc[0:0]
    by_cat = same.groupby("store_id")["yhat"].sum()
    by_all = others.groupby("store_id")["yhat"].sum()
    return by_cat.where(by_cat > 0).reindex(by_all.index).fillna(by_all)


def _per_day(analogues: pd.DataFrame) -> pd.DataFrame:
    """Per day: the analogues' median forecast, their lowest lower bound and their highest upper bound."""
    return analogues.groupby("ds").agg(
        yhat=("yhat", "median"), yhat_lower=("yhat_lower", "min"), yhat_upper=("yhat_upper", "max")
    )


def _from_peers(
    rows: pd.DataFrame, store: str, product: str, sizes: pd.Series
) -> tuple[pd.DataFrame, str] | None:
    """The product's forecast at the stores that sell it, scaled to this store and reduced to the median per day."""
    peers = rows[(rows["product_id"] == product) & (rows["store_id"] != store)]
    own = sizes.get(store, 0.0)
    ratio = (own / sizes.reindex(peers["store_id"]).to_numpy()) if own > 0 else np.full(len(peers), np.nan)
    peers = peers.assign(**{c: peers[c].to_numpy() * ratio for c in _BOUNDS})
    peers = peers[np.isfinite(ratio)]
    if peers.empty:
        return None
    day = _per_day(peers)
    n = peers["store_id"].nunique()
    return day, f"its forecast at {n} other store{'s' if n > 1 else ''}, scaled to this store's size"


def _from_similar(
    rows: pd.DataFrame, store: str, product: str, category: dict[str, str | None], cat: str | None
) -> tuple[pd.DataFrame, str] | None:
    """The median per day of the store's forecasts for the category's other products (else all its products)."""
    mine = rows[(rows["store_id"] == store) & (rows["product_id"] != product)]
    same = mine[mine["product_id"].map(category).eq(cat)] if cat is not None else mine.iloc[0:0]
    pool, what = (same, f"{cat} products") if len(same) else (mine, "products")
    if pool.empty:
        return None
    day = _per_day(pool)
    n = pool["product_id"].nunique()
    return day, f"the median of this store's {n} other {what}"


def _on_sale(rows: pd.DataFrame, zero: pd.DataFrame | None) -> pd.DataFrame:
    """rows without the days their series is expected off sale (expected_zero_days' `not_offered` rows)."""
    if zero is None or zero.empty:
        return rows
    off = zero.loc[zero["model"] == NOT_OFFERED, ["store_id", "product_id", "ds"]].drop_duplicates()
    if off.empty:
        return rows
    off = off.assign(ds=pd.to_datetime(off["ds"]), _off=True)
    hit = rows.merge(off, on=["store_id", "product_id", "ds"], how="left")
    return rows[hit["_off"].isna().to_numpy()]


def cold_start_rows(
    rows: pd.DataFrame,
    products: pd.DataFrame,
    cfg: ModelConfig,
    as_of: date,
    zero: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """FORECAST_SCHEMA rows for each (store, launching product) the store has no series of, from its launch day.

    rows: the forecast rows of every series before the closed-day rule; products: silver.products (product_id,
    category, launched_on); zero: expected_zero_days (the days a series is expected off sale are no analogue)."""
    new = launching(products, cfg, as_of)
    if rows.empty or new.empty:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    serving = _on_sale(rows.assign(ds=pd.to_datetime(rows["ds"])), zero)
    category = dict(
        zip(
            products["product_id"].astype(str),
            products["category"].where(products["category"].notna(), None),
            strict=True,
        )
    )
    have = set(zip(rows["store_id"], rows["product_id"], strict=True))
    as_of = pd.Timestamp(as_of)
    out = []
    for item in new.itertuples(index=False):
        cat = item.category if isinstance(item.category, str) else None
        sizes = _sizes(serving, category, cat, item.product_id)
        for store in sorted(serving["store_id"].unique()):
            if (store, item.product_id) in have:
                continue
            made = _from_peers(serving, store, item.product_id, sizes) or _from_similar(
                serving, store, item.product_id, category, cat
            )
            if made is None:
                continue
            day, source = made
            day = day[day.index >= item.launched_on].reset_index()
            if day.empty:
                continue
            day["yhat_lower"] = np.minimum(day["yhat_lower"], day["yhat"])
            day["yhat_upper"] = np.maximum(day["yhat_upper"], day["yhat"])
            day["unique_id"], day["store_id"], day["product_id"] = (
                f"{store}/{item.product_id}",
                store,
                item.product_id,
            )
            day["as_of"], day["horizon"] = as_of, (pd.to_datetime(day["ds"]) - as_of).dt.days.astype("int32")
            day["model"] = COLD_START
            for col, value in reasons.cold_start(item.launched_on, source).columns().items():
                day[col] = value
            for col in ("trend", "weekly", "yearly", "holidays"):
                day[col] = np.nan
            day["regressors"], day["notes"] = "{}", None
            out.append(day[FORECAST_COLUMNS])
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=FORECAST_COLUMNS)


def as_forecast_rows(rows: pd.DataFrame, cutoff: pd.Timestamp, column: str) -> pd.DataFrame:
    """One cutoff's backtest rows, forecast `column` (and its bounds where present), in the FORECAST_COLUMNS layout
    cold_start_rows reads."""
    yhat = rows[column].to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "unique_id": rows["unique_id"].to_numpy(),
            "store_id": rows["store_id"].to_numpy(),
            "product_id": rows["product_id"].astype(str).to_numpy(),
            "as_of": pd.Timestamp(cutoff),
            "ds": pd.to_datetime(rows["ds"]).to_numpy(),
            "horizon": rows["horizon"].to_numpy(),
            "model": column,
            "yhat": yhat,
            "yhat_lower": rows[f"{column}_lower"].to_numpy(dtype=float)
            if f"{column}_lower" in rows
            else yhat,
            "yhat_upper": rows[f"{column}_upper"].to_numpy(dtype=float)
            if f"{column}_upper" in rows
            else yhat,
        }
    )
    for col in FORECAST_COLUMNS:
        if col not in out:
            out[col] = None
    return out[FORECAST_COLUMNS].dropna(subset=["yhat"]).reset_index(drop=True)


def backtest_cold_starts(
    rows: pd.DataFrame, observed: pd.DataFrame, products: pd.DataFrame, cfg: ModelConfig, column: str
) -> pd.DataFrame:
    """Backtest rows (unique_id, store_id, product_id, cutoff, ds, horizon, y, censored, cold_start and its bounds) of
    the series a cutoff would have cold-started: a launching product (products' launched_on) at a store with no
    observation up to the cutoff, made from the other series' `column` forecasts at that cutoff and scored on the
    days the series then has an observation. observed: the observed days (frames.to_long) of every series."""
    obs = observed[["unique_id", "ds", "y", "censored"]].assign(ds=lambda d: pd.to_datetime(d["ds"]))
    first = obs.groupby("unique_id")["ds"].min()
    out = []
    for cutoff, at in rows.groupby("cutoff", sort=True):
        made = cold_start_rows(
            as_forecast_rows(at, cutoff, column), products, cfg, pd.Timestamp(cutoff).date()
        )
        made = made[made["unique_id"].map(first).gt(pd.Timestamp(cutoff)).to_numpy()]
        if made.empty:
            continue
        made = made.assign(ds=pd.to_datetime(made["ds"])).merge(obs, on=["unique_id", "ds"], how="inner")
        out.append(
            pd.DataFrame(
                {
                    "unique_id": made["unique_id"],
                    "store_id": made["store_id"],
                    "product_id": made["product_id"],
                    "cutoff": pd.Timestamp(cutoff),
                    "ds": made["ds"],
                    "horizon": made["horizon"].astype("int32"),
                    "y": made["y"].astype(float),
                    "censored": made["censored"].astype(bool),
                    COLD_START: made["yhat"].astype(float),
                    f"{COLD_START}_lower": made["yhat_lower"].astype(float),
                    f"{COLD_START}_upper": made["yhat_upper"].astype(float),
                }
            )
        )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()
