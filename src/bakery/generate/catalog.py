"""The chain's shops and product catalogue, built from conf/generator.yml."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from bakery.generate.params import stream

STORE_COLUMNS = [
    "store_id",
    "name",
    "city",
    "country",
    "subdivision",
    "timezone",
    "latitude",
    "longitude",
    "store_type",
]
PRODUCT_COLUMNS = ["product_id", "name", "category", "unit_price", "shelf_life_days", "launched_on"]


@dataclass(frozen=True)
class Store:
    """One bakery: identity, location, type and the city it takes its climate and fiestas from."""

    index: int
    store_id: str
    name: str
    city: str
    country: str
    subdivision: str
    timezone: str
    latitude: float
    longitude: float
    store_type: str
    scale: float
    climate: dict[str, float] = field(repr=False)
    fiestas: tuple[dict[str, Any], ...] = field(repr=False)


@dataclass(frozen=True)
class Product:
    """One catalogue item; quantities of products sold by weight are in kg (`unit == "kg"`)."""

    index: int
    product_id: str
    name: str
    category: str
    price: float
    shelf_life_days: int
    base: float
    line_qty: float
    unit: str
    season: tuple[dict[str, Any], ...]
    region_factor: dict[str, float]
    launched_on: date

    @property
    def scale(self) -> int:
        """Quantities are simulated as integers: units, or grams for products sold by weight."""
        return 1000 if self.unit == "kg" else 1


def build_stores(cfg: dict[str, Any], n: int, seed: int) -> list[Store]:
    """Stores S001.. cycling through the configured cities (and store types past the named ones)."""
    cities = cfg["cities"]
    extra_types = cfg["extra_store_types"]
    lo, hi = cfg["extra_scale"]
    stores = []
    for i in range(n):
        city = cities[i % len(cities)]
        lap = i // len(cities)
        rng = stream(seed, "store", i)
        jitter_lat, jitter_lon = rng.uniform(-0.03, 0.03, 2) if lap else (0.0, 0.0)
        base_name = city.get("name") or f"Panadería {city['city']}"
        stores.append(
            Store(
                index=i,
                store_id=f"S{i + 1:03d}",
                name=base_name if lap == 0 else f"{base_name} {lap + 1}",
                city=city["city"],
                country=cfg["country"],
                subdivision=city["subdivision"],
                timezone=city["timezone"],
                latitude=round(city["latitude"] + jitter_lat, 4),
                longitude=round(city["longitude"] + jitter_lon, 4),
                store_type=city.get("store_type")
                if lap == 0 and city.get("store_type")
                else extra_types[i % len(extra_types)],
                scale=float(city["scale"])
                if lap == 0 and "scale" in city
                else round(float(rng.uniform(lo, hi)), 3),
                climate=dict(city["climate"]),
                fiestas=tuple(city.get("fiestas", ())),
            )
        )
    return stores


def build_products(cfg: dict[str, Any], n: int, start: date, end: date) -> list[Product]:
    """The first n products of the catalogue, with launch dates resolved against the period."""
    days = (end - start).days
    products = []
    for i, item in enumerate(cfg["products"][:n]):
        if item.get("launch_at") is not None:
            launched = start + timedelta(days=round(float(item["launch_at"]) * days))
        else:
            launched = start - timedelta(days=int(cfg["launched_before_start_days"]))
        products.append(
            Product(
                index=i,
                product_id=item["id"],
                name=item["name"],
                category=item["category"],
                price=float(item["price"]),
                shelf_life_days=int(item["shelf_life_days"]),
                base=float(item["base"]),
                line_qty=float(item["line_qty"]),
                unit=item.get("unit", "unit"),
                season=tuple(item.get("season") or ()),
                region_factor=dict(item.get("region_factor") or {}),
                launched_on=launched,
            )
        )
    return products


def stores_frame(stores: list[Store]) -> pd.DataFrame:
    """The `stores` source rows."""
    return pd.DataFrame([{c: getattr(s, c) for c in STORE_COLUMNS} for s in stores], columns=STORE_COLUMNS)


def products_records(products: list[Product], prices_at_end: dict[str, float]) -> list[dict[str, Any]]:
    """The `products` source rows, with the list price in force on the last day."""
    return [
        {
            "product_id": p.product_id,
            "name": p.name,
            "category": p.category,
            "unit_price": prices_at_end[p.product_id],
            "shelf_life_days": p.shelf_life_days,
            "launched_on": p.launched_on.isoformat(),
        }
        for p in products
    ]
