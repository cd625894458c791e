"""The point-in-time feature table: one row per store x product x day, no feature for day d uses data after d.

Lags and rolling means read the target as it was known on each past day (`_y_known`: a missing row counts
as zero only when the store was open and the product had sold in the days before). The calendar is known in
advance and weather at d is the observation for d.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from bakery.config import Settings
from bakery.gold.daily_sales import HAS_ROW, KEYS, SERIES_KEYS, Y_KNOWN

WEATHER_COLUMNS = ("temperature", "precipitation", "humidity", "wind_speed", "weather_condition_code")
STORE_COLUMNS = ("store_type", "city", "country", "subdivision", "latitude", "longitude")
PRODUCT_COLUMNS = ("category", "unit_price", "shelf_life_days")


@dataclass(frozen=True)
class FeatureConfig:
    """Which lags (days) and trailing-mean windows (days) to compute."""

    lags: tuple[int, ...] = (1, 7, 28)
    windows: tuple[int, ...] = (7, 28)

    @classmethod
    def from_settings(cls, settings: Settings) -> FeatureConfig:
        out = {}
        for key, default in (("lags", cls.lags), ("rolling_windows", cls.windows)):
            days = settings.get(f"gold.{key}", default)
            if not isinstance(days, list | tuple) or not all(isinstance(d, int) and d >= 1 for d in days):
                raise ValueError(f"gold.{key} must be a list of whole numbers of days >= 1, got {days!r}")
            out[key] = tuple(sorted(set(days)))
        return cls(lags=out["lags"], windows=out["rolling_windows"])


def history_features(sales: DataFrame, cfg: FeatureConfig) -> DataFrame:
    """lag_k = known target k calendar days earlier; rmean_n = mean of known targets over d-n..d-1.

    `sales` holds every calendar day of each series (the daily-sales grid), so row offsets are days.
    """
    w = Window.partitionBy(*SERIES_KEYS).orderBy("date")
    lags = [F.lag(Y_KNOWN, k).over(w).alias(f"lag_{k}") for k in cfg.lags]
    means = [F.avg(Y_KNOWN).over(w.rowsBetween(-n, -1)).alias(f"rmean_{n}") for n in cfg.windows]
    first_seen = F.min(F.when(F.col(HAS_ROW), F.col("date"))).over(
        w.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    return sales.select("*", *lags, *means, first_seen.alias("_first_seen"))


def _pick(df: DataFrame, keys: Sequence[str], columns: Sequence[str]) -> DataFrame:
    """The key and attribute columns of a silver table (attributes it lacks come out null)."""
    present = set(df.columns)
    return df.select(*keys, *[F.col(c) if c in present else F.lit(None).alias(c) for c in columns])


def build_features(
    sales: DataFrame,
    calendar: DataFrame,
    weather: DataFrame,
    stores: DataFrame,
    products: DataFrame,
    cfg: FeatureConfig,
    calendar_columns: Sequence[str],
) -> DataFrame:
    """gold.features from the internal daily-sales rows, the store calendar and the silver dimensions."""
    product_attrs = _pick(products, ["product_id"], [*PRODUCT_COLUMNS, "launched_on"])
    rows = (
        history_features(sales, cfg)
        .join(F.broadcast(calendar), ["store_id", "date"], "left")
        .join(_pick(weather, ["store_id", "date"], WEATHER_COLUMNS), ["store_id", "date"], "left")
        .join(F.broadcast(_pick(stores, ["store_id"], STORE_COLUMNS)), "store_id", "left")
        .join(F.broadcast(product_attrs), "product_id", "left")
    )
    age = F.datediff("date", F.coalesce("launched_on", "_first_seen"))
    return rows.select(
        *KEYS,
        F.concat_ws("/", "store_id", "product_id").alias("unique_id"),
        F.col("quantity_sold").alias("y"),
        "is_open",
        "stockout",
        "promo",
        *calendar_columns,
        *[f"lag_{k}" for k in cfg.lags],
        *[f"rmean_{n}" for n in cfg.windows],
        *[
            F.col(c).cast("long" if c == "weather_condition_code" else "double").alias(c)
            for c in WEATHER_COLUMNS
        ],
        *STORE_COLUMNS,
        *PRODUCT_COLUMNS,
        age.alias("product_age_days"),
    )
