"""Reading what the bake decisions need from a home and from files: product prices, a generator's true demand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bakery.lakehouse import Lakehouse
from bakery.tables import PRODUCTS, source_silver

PRODUCT_COLUMNS = ["product_id", "category", "unit_price", "shelf_life_days"]


def read_product_prices(lh: Lakehouse) -> pd.DataFrame:
    """silver.products' id, category, unit_price and shelf_life_days (empty before any import)."""
    if not lh.exists(*PRODUCTS):
        return pd.DataFrame(columns=PRODUCT_COLUMNS)
    return lh.read(*PRODUCTS).select(*PRODUCT_COLUMNS).toPandas()


def read_ingredient_prices(lh: Lakehouse) -> dict[str, float]:
    """The latest price of each ingredient in the ingredients source (euros per its unit; the mean over the
    stores that reported it at that time), {} without that source."""
    table = source_silver(lh.settings.sources, "ingredients")
    if table is None or not lh.exists(*table):
        return {}
    rows = lh.read_arrow(*table, columns=["timestamp", "ingredient_id", "price_per_unit"]).to_pandas()
    rows = rows.dropna(subset=["price_per_unit"])
    if rows.empty:
        return {}
    latest = rows[rows["timestamp"] == rows.groupby("ingredient_id")["timestamp"].transform("max")]
    return {str(k): float(v) for k, v in latest.groupby("ingredient_id")["price_per_unit"].mean().items()}


def read_truth(path: Path) -> pd.DataFrame:
    """A true-demand file (the generator's _truth/demand.parquet, or a CSV with the same columns) as store_id,
    product_id, ds, y; refused naming the file and the missing columns."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--truth {path}: no such file")
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    missing = sorted({"date", "store_id", "product_id", "true_demand"} - set(frame.columns))
    if missing:
        raise ValueError(
            f"--truth {path}: missing column(s) {missing} (expected the generator's demand.parquet)"
        )
    out = frame.rename(columns={"date": "ds", "true_demand": "y"})[["store_id", "product_id", "ds", "y"]]
    out["ds"] = pd.to_datetime(out["ds"])
    out[["store_id", "product_id"]] = out[["store_id", "product_id"]].astype(str)
    return out
