"""Reshape files that do not have one row per record into the `sales` template before validation.

Two shapes occur in real bakery exports:
- `items`: one row per item sold (e.g. Bread Basket: Date, Time, Transaction, Item). Items are counted per
  day and product: {"shape": "items", "date": "Date", "item": "Item", "store_id": "EDI01",
  "exclude": ["NONE"]}. Where each row is a ticket line with a quantity (e.g. the French bakery export: date,
  time, ticket_number, article, Quantity, unit_price), `quantity` names that column and the quantities are
  summed instead (returns, negative lines, net out); `price` (unit price, with `quantity`) or `amount` (line
  total) adds the day's revenue. Numbers may use a decimal comma and a currency sign (`0,90 €`).
- `wide`: one row per order with one column per product holding counts (e.g. the Korean bakery):
  {"shape": "wide", "date": "datetime", "store_id": "KR01", "ignore": ["day of week", "total", "place"]}.
  Blank cells count as 0; every product column gets a row for each day that has orders.
Either may name a `store` column instead of a constant `store_id`, and a `date_format` (strptime, e.g.
"%d-%m-%Y %H:%M") for dates that are not ISO. The result is text in the sales template's columns, which
the template validation then checks like any other file. A key the shape does not know, a value of the wrong
type, or a cell of a column it reads longer than `ingest.max_cell_chars` is a ReshapeError naming it.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pyarrow as pa

from bakery.ingest.limits import IngestLimits, ingest_limits
from bakery.ingest.readers import RawTable
from bakery.ingest.validate import parse_numbers

SHAPES = ("items", "wide")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # with fullmatch: `S01\n` is not an id
# key -> what its value is: a column name or constant (text), or a list of them.
_TEXT_KEYS = ("shape", "date", "item", "quantity", "price", "amount", "store", "store_id", "date_format")
_LIST_KEYS = ("exclude", "ignore", "items")


class ReshapeError(ValueError):
    """The reshape spec does not fit the file; the message names the key, column or row at fault."""


def _column(df: pd.DataFrame, spec: dict[str, Any], key: str, required: bool = True) -> str | None:
    name = spec.get(key)
    if name is None:
        if required:
            raise ReshapeError(f"shape: {key!r} is required (the file column holding it)")
        return None
    if name not in df.columns:
        raise ReshapeError(
            f"shape: {key} column {name!r} is not in the file (columns: {', '.join(map(repr, df.columns))})"
        )
    return str(name)


def _dates(df: pd.DataFrame, col: str, fmt: str | None) -> pd.Series:
    text = df[col].astype("string").str.strip()
    try:
        parsed = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce")
    except (ValueError, TypeError) as exc:
        raise ReshapeError(f"shape: date_format {fmt!r} cannot read column {col!r}: {exc}") from None
    bad = parsed.isna() & text.notna()
    if bad.any():
        rows = ", ".join(f"row {r} ({text[r]!r})" for r in list(bad[bad].index)[:10])
        raise ReshapeError(
            f"shape: column {col!r} has values that are not dates{f' in format {fmt}' if fmt else ''}: {rows}"
        )
    return parsed.dt.strftime("%Y-%m-%d")


def _stores(df: pd.DataFrame, spec: dict[str, Any]) -> pd.Series:
    if spec.get("store"):
        col = _column(df, spec, "store")
        return df[col].astype("string").str.strip()
    store_id = str(spec.get("store_id") or "")
    if not _ID.fullmatch(store_id):
        raise ReshapeError("shape: give store_id (a constant store id) or store (the file column holding it)")
    return pd.Series(store_id, index=df.index, dtype="string")


def _numbers(df: pd.DataFrame, spec: dict[str, Any], key: str) -> pd.Series:
    """The numbers of the column spec[key]; a blank or non-numeric cell is an error naming its rows."""
    col = _column(df, spec, key)
    text = df[col].astype("string").str.strip()
    num = pd.Series(parse_numbers(text), index=df.index, dtype="float64")
    bad = num.isna()
    if bad.any():
        rows = ", ".join(f"row {r} ({text[r]!r})" for r in list(bad[bad].index)[:10])
        raise ReshapeError(f"shape: {key} column {col!r} holds values that are not numbers: {rows}")
    return num


def _items(df: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    date_col, item_col = _column(df, spec, "date"), _column(df, spec, "item")
    if spec.get("price") and spec.get("amount"):
        raise ReshapeError("shape: give price (unit price) or amount (line total), not both")
    if spec.get("price") and not spec.get("quantity"):
        raise ReshapeError("shape: price needs quantity (the column of units on each line)")
    items = df[item_col].astype("string").str.strip()
    keep = items.notna() & (items != "") & ~items.isin([str(x) for x in spec.get("exclude", [])])
    lines = df[keep]
    frame = pd.DataFrame(
        {
            "date": _dates(lines, date_col, spec.get("date_format")),
            "store_id": _stores(lines, spec),
            "product_id": items[keep],
        }
    )
    # One item a line unless the file says how many.
    frame["quantity_sold"] = _numbers(lines, spec, "quantity") if spec.get("quantity") else 1.0
    if spec.get("price"):
        frame["revenue"] = frame["quantity_sold"] * _numbers(lines, spec, "price")
    elif spec.get("amount"):
        frame["revenue"] = _numbers(lines, spec, "amount")
    # Summed to the cent and the gram, so that float sums print as the file's own figures.
    return frame.groupby(["date", "store_id", "product_id"], dropna=False).sum().round(6).reset_index()


def _wide(df: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    date_col = _column(df, spec, "date")
    ignore = {str(c) for c in spec.get("ignore", [])} | {date_col, str(spec.get("store") or "")}
    missing = [c for c in spec.get("ignore", []) if c not in df.columns]
    if missing:
        raise ReshapeError(f"shape: ignore names columns not in the file: {', '.join(map(repr, missing))}")
    products = [c for c in (spec.get("items") or df.columns) if c not in ignore]
    if not products:
        raise ReshapeError("shape: no product columns left after `ignore`")
    base = pd.DataFrame(
        {"date": _dates(df, date_col, spec.get("date_format")), "store_id": _stores(df, spec)}
    )
    counts = {}
    for col in products:
        text = df[col].astype("string").str.strip().replace("", pd.NA)
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() & text.notna()
        if bad.any():
            rows = ", ".join(f"row {r} ({text[r]!r})" for r in list(bad[bad].index)[:10])
            raise ReshapeError(f"shape: product column {col!r} holds values that are not counts: {rows}")
        counts[col] = num.fillna(0)
    long = pd.concat([base, pd.DataFrame(counts, index=df.index)], axis=1).melt(
        id_vars=["date", "store_id"], var_name="product_id", value_name="quantity_sold"
    )
    out = long.groupby(["date", "store_id", "product_id"], as_index=False)["quantity_sold"].sum()
    out["product_id"] = out["product_id"].str.strip()
    return out


def _check_spec(spec: dict[str, Any]) -> None:
    """Every key known and of its type: text, or a list of text (checked before any column is read)."""
    if not isinstance(spec, dict):
        raise ReshapeError('shape: give a JSON object such as {"shape": "items", ...}')
    for key, value in spec.items():
        if key in _TEXT_KEYS:
            if value is not None and not isinstance(value, str):
                raise ReshapeError(f"shape: {key} must be text (a column name or value), got {value!r:.80}")
        elif key in _LIST_KEYS:
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ReshapeError(
                    f"shape: {key} must be a list of column names or values, got {value!r:.80}"
                )
        else:
            raise ReshapeError(
                f"shape: unknown key {str(key)!r:.80}; the keys are {', '.join(_TEXT_KEYS + _LIST_KEYS)}"
            )


def _check_cells(df: pd.DataFrame, spec: dict[str, Any], max_chars: int) -> None:
    """No cell of a column the shape reads longer than max_chars (before a date or number parser sees it)."""
    if spec.get("shape") == "items":
        used = [spec[k] for k in ("date", "item", "quantity", "price", "amount", "store") if spec.get(k)]
    else:
        used = [c for c in df.columns if c not in set(spec.get("ignore") or [])]
    for col in dict.fromkeys(c for c in used if c in df.columns):
        lengths = df[col].map(lambda v: len(v) if isinstance(v, str) else 0)
        if (lengths > max_chars).any():
            row = lengths.idxmax()
            raise ReshapeError(
                f"row {row}, column {col!r}: a value of {lengths[row]} characters is longer "
                f"than the limit of {max_chars} (ingest.max_cell_chars)"
            )


def reshape(df: pd.DataFrame, spec: dict[str, Any], limits: IngestLimits | None = None) -> pd.DataFrame:
    """A file's rows (text, index = row number) as daily `sales` rows of text, index 1..n."""
    _check_spec(spec)
    shape = spec.get("shape")
    if shape not in SHAPES:
        raise ReshapeError(f"shape: 'shape' must be one of {', '.join(SHAPES)}")
    _check_cells(df, spec, (limits or ingest_limits()).max_cell_chars)
    out = _items(df, spec) if shape == "items" else _wide(df, spec)
    for col in ("quantity_sold", "revenue"):
        if col in out:
            out[col] = out[col].map(lambda v: f"{float(v):.15g}")
    out = out.sort_values(["date", "store_id", "product_id"]).reset_index(drop=True).astype(object)
    out.index = pd.RangeIndex(1, len(out) + 1, name="row")
    return out


def reshape_raw(raw: RawTable, spec: dict[str, Any], limits: IngestLimits | None = None) -> RawTable:
    """A file read as text (readers.read_file / read_bytes) reshaped into `sales` rows, numbered 1..n."""
    df = reshape(raw.frame(), spec, limits)
    n = len(df)
    data = pa.table(
        {
            f"c{i}": pa.array([None if v is None else str(v) for v in df[c]], pa.string())
            for i, c in enumerate(df.columns)
        }
    )
    return RawTable(
        [str(c) for c in df.columns],
        data,
        pa.array(range(1, n + 1), pa.int64()),
        pa.nulls(n, pa.string()),
        pa.nulls(n, pa.string()),
        pa.nulls(n, pa.int64()),
        "csv",
    )
