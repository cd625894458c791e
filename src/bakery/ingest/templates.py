"""Import templates: the header of a kind plus one typed example row, as CSV or XLSX, generated from sources.yml."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from bakery.config import ColumnSpec, Settings, SourceSpec, load_settings
from bakery.ingest.landing import write_atomically

# Example values by column name ("kind.column" overrides "column"); other columns get one from their type.
EXAMPLES: dict[str, Any] = {
    "store_id": "S01",
    "product_id": "P001",
    "stores.name": "Panadería Centro",
    "products.name": "Baguette",
    "city": "Madrid",
    "country": "ES",
    "subdivision": "ES-MD",
    "timezone": "Europe/Madrid",
    "latitude": 40.4168,
    "longitude": -3.7038,
    "store_type": "urban",
    "category": "bread",
    "unit_price": 1.2,
    "shelf_life_days": 2,
    "quantity_sold": 12,
    "revenue": 14.4,
    "promotion_id": "PROMO-2X1",
    "transaction_id": "T000001",
    "price_unit": 1.2,
    "total_amount": 2.4,
    "pos.quantity_sold": 2,
    "promotion_applied_id": None,
    "current_stock": 25,
    "stock_unit": "units",
    "quantity_delivered": 40,
    "temperature": 14.5,
    "precipitation": 0.2,
    "humidity": 71,
    "wind_speed": 12.3,
    "weather_condition_code": 3,
    "foot_traffic_count": 132,
    "event_name": "San Isidro",
    "event_type": "festival",
    "scope": "national",
    "ingredient_id": "ING-FLOUR",
    "ingredient_name": "Wheat flour T55",
    "supplier_id": "SUP01",
    "price_per_unit": 0.85,
    "stock_level": 500,
}


def example_value(spec: SourceSpec, col: ColumnSpec, today: dt.date) -> Any:
    """A value that passes validation: the example for the column, or one derived from its type and range."""
    for key in (f"{spec.kind}.{col.name}", col.name):
        if key in EXAMPLES:
            return EXAMPLES[key]
    day = today - dt.timedelta(days=1)
    if col.type == "date":
        return day
    if col.type == "timestamp":
        return f"{day.isoformat()}T08:15:00"
    if col.values:
        return col.values[0]
    if col.type in ("double", "long"):
        value = col.min if col.min is not None else 1
        return int(value) if col.type == "long" else float(value)
    return "true" if col.type == "boolean" else "example"


def template_rows(spec: SourceSpec, today: dt.date | None = None) -> tuple[list[str], list[Any]]:
    today = today or dt.date.today()
    return spec.column_names, [example_value(spec, c, today) for c in spec.columns]


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _write_csv(path: Path, header: list[str], row: list[Any]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerow([_csv_text(v) for v in row])


def _write_xlsx(path: Path, spec: SourceSpec, header: list[str], row: list[Any]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = spec.kind
    ws.append(header)
    ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for cell in ws[2]:
        if isinstance(cell.value, dt.date):
            cell.number_format = "yyyy-mm-dd"
    for i, name in enumerate(header, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(name) + 4)
    ws.freeze_panes = "A2"
    info = wb.create_sheet("columns")
    info.append(["column", "type", "required", "allowed"])
    for c in spec.columns:
        allowed = (
            ", ".join(c.values)
            if c.values
            else (f"{c.min} .. {c.max}" if c.min is not None or c.max is not None else (c.pattern or ""))
        )
        info.append([c.name, c.type, "yes" if c.required else "no", allowed])
    wb.save(path)


def write_template(
    kind: str, path: Path, settings: Settings | None = None, today: dt.date | None = None
) -> Path:
    """Write the template of `kind` to `path` (.csv or .xlsx): header plus one example row, ISO dates."""
    spec = (settings or load_settings()).source(kind)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"template path must end in .csv or .xlsx, got {path.name!r}")
    header, row = template_rows(spec, today)
    if suffix == ".csv":
        return write_atomically(path, lambda tmp: _write_csv(tmp, header, row))
    return write_atomically(path, lambda tmp: _write_xlsx(tmp, spec, header, row))
