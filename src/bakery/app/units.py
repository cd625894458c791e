"""Each product's selling unit (pieces, kilograms, portions), so that no figure adds products sold in different units.

silver.products carries a `unit` only when its source has one (the products source of conf/sources.yml has none
today); otherwise the unit comes from `units` in conf/app.yml: the product's own entry, else its category's, else the
default. Codes `unit`, `kg` and `portion` are shown in the user's language; any other text is shown as written.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from bakery.app.i18n import t

KNOWN = ("unit", "kg", "portion")


def resolve_units(products: pd.DataFrame, conf: dict[str, Any] | None) -> dict[str, str]:
    """product_id -> unit code for every product of `products` (product_id, category and, optionally, unit)."""
    conf = conf or {}
    default = str(conf.get("default") or "unit")
    by_category = {str(k): str(v) for k, v in (conf.get("categories") or {}).items()}
    by_product = {str(k): str(v) for k, v in (conf.get("products") or {}).items()}
    own = products["unit"] if "unit" in products.columns else pd.Series([None] * len(products), dtype=object)
    categories = (
        products["category"]
        if "category" in products.columns
        else pd.Series([None] * len(products), dtype=object)
    )
    out = {}
    for pid, unit, category in zip(products["product_id"], own, categories, strict=True):
        if isinstance(unit, str) and unit.strip():
            out[pid] = unit.strip()
        else:
            out[pid] = by_product.get(pid) or by_category.get(str(category)) or default
    return out


def unit_label(code: str | None, lang: str) -> str:
    """How a unit reads after a quantity: "uds.", "kg", "porciones" (English: "units", "kg", "portions")."""
    if not code:
        return t("common.units", lang)
    key = code.strip().lower()
    return t(f"unit.{key}", lang) if key in KNOWN else code


def same_unit(units: list[str | None]) -> bool:
    """Whether quantities in these units may be added up: one unit, named the same way (case and spaces aside)."""
    return len({(u or "").strip().lower() for u in units}) == 1 and all(units)
