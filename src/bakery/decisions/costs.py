"""The newsvendor cost model: what a lost sale and a left-over unit cost, per product, and the critical ratio.

A unit short costs cu = margin + goodwill (price - cost + goodwill); a unit left over costs co = cost - salvage.
The quantity minimising the expected cost cu * E[(D - q)+] + co * E[(q - D)+] is the demand quantile at
cu / (cu + co). Money values come from the product (silver.products' unit_price, conf/bake_plan.yml's products)
where known, else from the category's defaults in conf/bake_plan.yml; each product says which. A unit cost comes,
in this order, from the product's own unit_cost, from its recipe priced with the ingredients source's latest
prices, or from its category's cost share of the price.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bakery.config import conf_file, read_yaml

PRODUCT_KEYS = ("unit_price", "unit_cost", "salvage_value", "goodwill_cost", "batch_size", "display_min")
CATEGORY_KEYS = ("unit_price", "cost_share", "salvage_share", "goodwill_share")
COST_COLUMNS = [
    "product_id",
    "category",
    "unit_price",
    "unit_cost",
    "salvage_value",
    "goodwill_cost",
    "cu",
    "co",
    "critical_ratio",
    "batch_size",
    "display_min",
    "cost_source",
]


class CostError(ValueError):
    """A cost-model value that cannot be right (negative, or a cost far above the price), naming where it is."""


@dataclass(frozen=True)
class CostModel:
    categories: dict[str, dict[str, float]]
    products: dict[str, dict[str, float]]
    batch_size: float
    display_min: float
    max_cost_to_price: float
    ratio_range: tuple[float, float]
    horizon: int
    # Ingredient quantities per unit of product, by category or product id (a product's own recipe wins), and the
    # share of a unit's full cost that its ingredients make (labour, energy and packaging are the rest).
    recipes: dict[str, dict[str, float]] = field(default_factory=dict)
    ingredients_share: float = 0.5

    def recipe(self, product_id: str, category: str | None) -> dict[str, float]:
        return self.recipes.get(product_id) or self.recipes.get(str(category)) or {}

    def category(self, name: str | None) -> dict[str, float]:
        return self.categories.get(str(name), self.categories["default"])


def newsvendor_cost(y, q, ratio) -> np.ndarray:
    """Per pair, in units of demand: ratio * (y - q)+ + (1 - ratio) * (q - y)+ (the decision backtest's cost)."""
    y, q, r = (np.asarray(a, dtype=float) for a in (y, q, ratio))
    return r * np.maximum(y - q, 0.0) + (1 - r) * np.maximum(q - y, 0.0)


def money_cost(y, q, cu, co) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, in euros: (lost margin and goodwill of the units short, cost of the units left over)."""
    y, q, cu, co = (np.asarray(a, dtype=float) for a in (y, q, cu, co))
    return cu * np.maximum(y - q, 0.0), co * np.maximum(q - y, 0.0)


def _number(where: str, key: str, value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise CostError(f"{where}: {key} must be a number, got {value!r}") from None
    if not np.isfinite(out) or out < 0:
        raise CostError(f"{where}: {key} must be a non-negative number, got {value!r}")
    return out


def load_cost_model(conf_dir: str | Path | None = None, raw: dict[str, Any] | None = None) -> CostModel:
    """conf/bake_plan.yml, checked: every money value and share non-negative, shares at most 1, batch sizes
    positive; an error names the file, the entry and the key."""
    path = conf_file(conf_dir, "bake_plan.yml") if raw is None else Path("bake_plan.yml")
    raw = read_yaml(path) if raw is None else raw
    where = path.name
    cats: dict[str, dict[str, float]] = {}
    for name, values in (raw.get("categories") or {}).items():
        values = values or {}
        unknown = sorted(set(values) - set(CATEGORY_KEYS))
        if unknown:
            raise CostError(
                f"{where} categories.{name}: unknown key(s) {unknown}; expected {list(CATEGORY_KEYS)}"
            )
        entry = {k: _number(f"{where} categories.{name}", k, values.get(k, 0.0)) for k in CATEGORY_KEYS}
        for share in ("cost_share", "salvage_share"):
            if entry[share] > 1:
                raise CostError(f"{where} categories.{name}: {share} must lie in 0..1, got {entry[share]}")
        if entry["salvage_share"] > entry["cost_share"]:
            raise CostError(
                f"{where} categories.{name}: salvage_share above cost_share (salvage worth more than cost)"
            )
        cats[str(name)] = entry
    if "default" not in cats:
        raise CostError(
            f"{where}: categories.default is required (the cost of a product of any other category)"
        )
    prods: dict[str, dict[str, float]] = {}
    for pid, values in (raw.get("products") or {}).items():
        values = values or {}
        unknown = sorted(set(values) - set(PRODUCT_KEYS))
        if unknown:
            raise CostError(
                f"{where} products.{pid}: unknown key(s) {unknown}; expected {list(PRODUCT_KEYS)}"
            )
        prods[str(pid)] = {k: _number(f"{where} products.{pid}", k, v) for k, v in values.items()}
    recipes_raw = raw.get("recipes") or {}
    unknown = sorted(set(recipes_raw) - {"ingredients_share", "categories", "products"})
    if unknown:
        raise CostError(
            f"{where} recipes: unknown key(s) {unknown}; expected ingredients_share, categories, products"
        )
    recipes = {
        str(name): {
            str(ing): _number(f"{where} recipes.{part}.{name}", str(ing), qty)
            for ing, qty in (items or {}).items()
        }
        for part in ("categories", "products")
        for name, items in (recipes_raw.get(part) or {}).items()
    }
    share = _number(where, "recipes.ingredients_share", recipes_raw.get("ingredients_share", 0.5))
    if not 0 < share <= 1:
        raise CostError(f"{where}: recipes.ingredients_share must lie in (0, 1], got {share}")
    lo, hi = (float(v) for v in raw.get("ratio_range", [0.05, 0.95]))
    model = CostModel(
        categories=cats,
        products=prods,
        batch_size=_number(where, "batch_size", raw.get("batch_size", 1)),
        display_min=_number(where, "display_min", raw.get("display_min", 0)),
        max_cost_to_price=_number(where, "max_cost_to_price", raw.get("max_cost_to_price", 3.0)),
        ratio_range=(lo, hi),
        horizon=int(raw.get("horizon", 1)),
        recipes=recipes,
        ingredients_share=share,
    )
    if model.batch_size <= 0 or any(p.get("batch_size", 1) <= 0 for p in prods.values()):
        raise CostError(f"{where}: batch_size must be > 0")
    return model


def recipe_cost(recipe: Mapping[str, float], prices: Mapping[str, float], share: float) -> float | None:
    """A unit's full cost from its recipe: the ingredients' cost divided by the share they make of it; None when
    an ingredient has no price (the category's cost share is used then)."""
    if not recipe or any(ing not in prices for ing in recipe):
        return None
    return sum(qty * prices[ing] for ing, qty in recipe.items()) / share


def _cost_source(own_price: bool, own_cost: bool, from_recipe: float | None) -> str:
    """'product' (its own cost, or its own price with no recipe), 'recipe' (its cost from its recipe) or
    'default' (its category's defaults)."""
    if own_cost:
        return "product"
    if from_recipe is not None:
        return "recipe"
    return "product" if own_price else "default"


def product_costs(
    products: pd.DataFrame, model: CostModel, ingredient_prices: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """One row per product (product_id, category, unit_price): its money values, cu, co, critical ratio, batch
    size, display minimum and cost_source ('product' when its price or cost is its own, 'recipe' when its cost
    comes from its recipe and `ingredient_prices` (ingredient_id -> euros per unit), else 'default').

    A negative or absurd value (a cost above max_cost_to_price times the price, a salvage above the cost) is
    refused naming the product: a plan baked from it would be wrong in every store."""
    records = []
    for row in products.itertuples(index=False):
        pid = str(row.product_id)
        cat = model.category(getattr(row, "category", None))
        own = model.products.get(pid, {})
        where = f"product {pid!r} (silver.products / conf bake_plan.yml products.{pid})"
        price = getattr(row, "unit_price", None)
        has_price = price is not None and pd.notna(price)
        if has_price and float(price) < 0:
            raise CostError(f"{where}: unit_price {price} is negative")
        has_price = has_price and float(price) > 0
        price = own.get("unit_price", float(price) if has_price else cat["unit_price"])
        from_recipe = recipe_cost(
            model.recipe(pid, getattr(row, "category", None)),
            ingredient_prices or {},
            model.ingredients_share,
        )
        cost = own.get("unit_cost", from_recipe if from_recipe is not None else price * cat["cost_share"])
        salvage = own.get("salvage_value", price * cat["salvage_share"])
        goodwill = own.get("goodwill_cost", price * cat["goodwill_share"])
        if price > 0 and cost > model.max_cost_to_price * price:
            raise CostError(
                f"{where}: unit_cost {cost:.2f} is more than {model.max_cost_to_price:g} x its unit_price {price:.2f}"
            )
        if salvage > cost:
            raise CostError(f"{where}: salvage_value {salvage:.2f} is above its unit_cost {cost:.2f}")
        cu, co = max(price - cost, 0.0) + goodwill, cost - salvage
        ratio = cu / (cu + co) if cu + co > 0 else 0.5
        records.append(
            {
                "product_id": pid,
                "category": getattr(row, "category", None),
                "unit_price": price,
                "unit_cost": cost,
                "salvage_value": salvage,
                "goodwill_cost": goodwill,
                "cu": cu,
                "co": co,
                "critical_ratio": float(np.clip(ratio, *model.ratio_range)),
                "batch_size": own.get("batch_size", model.batch_size),
                "display_min": own.get("display_min", model.display_min),
                "cost_source": _cost_source(
                    has_price or "unit_price" in own, "unit_cost" in own, from_recipe
                ),
            }
        )
    return pd.DataFrame(records, columns=COST_COLUMNS)
