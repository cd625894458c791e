"""Reading what the bake decisions need from a home and from files: product prices, a generator's true demand,
the managers' overrides the app landed."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pandas as pd

from bakery.decisions.overrides import OVERRIDE_COLUMNS, REASON_CODES
from bakery.lakehouse import Lakehouse
from bakery.tables import PRODUCTS, source_silver

log = logging.getLogger(__name__)
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


def _override_row(raw: dict[str, str]) -> dict[str, object]:
    """One landed override row, typed; ValueError naming the column that is wrong."""
    row: dict[str, object] = {c: (raw.get(c) or "").strip() for c in OVERRIDE_COLUMNS}
    for column in ("override_id", "store_id", "product_id", "username"):
        if not row[column]:
            raise ValueError(f"{column} is empty")
    if row["reason_code"] not in REASON_CODES:
        raise ValueError(f"reason_code {row['reason_code']!r} is not one of {list(REASON_CODES)}")
    try:
        row["date"] = pd.Timestamp(str(row["date"])).date()
    except ValueError:
        raise ValueError(f"date {row['date']!r} is not a date") from None
    for column in ("quantity", "plan_quantity"):
        try:
            value = float(str(row[column])) if row[column] != "" else None
        except ValueError:
            raise ValueError(f"{column} {row[column]!r} is not a number") from None
        if value is not None and value < 0:
            raise ValueError(f"{column} {value:g} is negative")
        row[column] = value
    if row["quantity"] is None:
        raise ValueError("quantity is empty")
    try:
        row["created_at"] = pd.Timestamp(str(row["created_at"])).tz_convert("UTC").tz_localize(None)
    except (ValueError, TypeError):
        raise ValueError(f"created_at {row['created_at']!r} is not a UTC timestamp") from None
    row["note"] = row["note"] or None
    return row


def read_override_files(folder: Path, landing_dir: Path) -> pd.DataFrame:
    """Every override the app landed in `folder` (CSV files, hidden ones skipped) with its source_file relative
    to landing_dir. A row that cannot be right (an unknown reason, a negative quantity, no id) is left out and
    logged naming the file, the row and the column: the rest of the night goes on."""
    rows = []
    files = (
        sorted(p for p in folder.glob("*.csv") if not p.name.startswith((".", "_")))
        if folder.is_dir()
        else []
    )
    for path in files:
        relpath = path.relative_to(landing_dir).as_posix()
        with path.open(encoding="utf-8", newline="") as fh:
            for number, raw in enumerate(csv.DictReader(fh), start=2):
                try:
                    rows.append({**_override_row(raw), "source_file": relpath})
                except ValueError as exc:
                    log.warning("override %s row %d left out: %s", relpath, number, exc)
    return pd.DataFrame(rows, columns=[*OVERRIDE_COLUMNS, "source_file"])
