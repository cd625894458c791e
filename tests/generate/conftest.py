"""Fixtures over the session's small demo data set: truth, defect records and the POS lines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.generate._read import csv_rows

POS_FIELDS = [
    "transaction_id",
    "timestamp",
    "store_id",
    "product_id",
    "quantity_sold",
    "price_unit",
    "total_amount",
    "promotion_applied_id",
]


def pos_files(out: Path) -> list[Path]:
    """Every POS file the generator wrote, late ones included, in store then file order."""
    return sorted([*out.glob("pos/*.csv"), *out.glob("_late/pos/*.csv")], key=lambda p: (p.name, str(p)))


@pytest.fixture(scope="session")
def truth(small_demo) -> pd.DataFrame:
    frame = pd.read_parquet(small_demo.truth_path)
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


@pytest.fixture(scope="session")
def defects(small_demo) -> pd.DataFrame:
    return pd.read_csv(small_demo.defects_path, dtype={"row_number": "Int64"})


@pytest.fixture(scope="session")
def clean_pos(small_demo, defects) -> pd.DataFrame:
    """POS lines of all files minus every row the defect record lists, typed."""
    bad = {(f, int(r)) for f, r in zip(defects["file"], defects["row_number"], strict=True) if pd.notna(r)}
    rows = []
    for path in pos_files(small_demo.out):
        rel = path.relative_to(small_demo.out).as_posix()
        rows += [[*fields, rel] for n, fields in enumerate(csv_rows(path), start=1) if (rel, n) not in bad]
    frame = pd.DataFrame(rows, columns=[*POS_FIELDS, "file"])
    for col in ("quantity_sold", "price_unit", "total_amount"):
        frame[col] = frame[col].astype(float)
    frame["local_date"] = pd.to_datetime(frame["timestamp"].str[:10])
    frame["offset"] = frame["timestamp"].str[-6:]
    frame["hour"] = frame["timestamp"].str[11:13].astype(int)
    return frame
