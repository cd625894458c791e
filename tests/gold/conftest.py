"""A small silver layer (one Madrid store, two products, 40 days) and the gold built from it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from bakery.config import Settings, load_settings
from bakery.lakehouse import Lakehouse
from tests.gold.helpers import days, inventory_daily_df, pos_lines, write_silver

D = days(date(2026, 5, 1), 40)
# P1 quantities by day index: D2 the store is closed, D6 and D7 no row (zero), then a steady pattern.
P1 = {0: 1.0, 1: 2.0, 3: 4.0, 4: 5.0, 5: 6.0, **{i: 1.0 + i % 5 for i in range(8, 40)}}


@dataclass
class SilverData:
    """The rows of each silver table, so tests can write variants of them."""

    pos: list[dict]
    weather: list[dict]
    stockouts: list[tuple[str, int]]

    def write(self, lh: Lakehouse) -> None:
        self.write_facts(lh)
        write_silver(
            lh,
            "stores",
            [
                {
                    "store_id": "S1",
                    "name": "Sol",
                    "city": "Madrid",
                    "country": "ES",
                    "subdivision": "ES-MD",
                    "timezone": "Europe/Madrid",
                    "latitude": 40.42,
                    "longitude": -3.70,
                    "store_type": "urban",
                }
            ],
        )
        write_silver(
            lh,
            "products",
            [
                {
                    "product_id": "P1",
                    "name": "Barra",
                    "category": "bread",
                    "unit_price": 1.2,
                    "shelf_life_days": 1,
                },
                {
                    "product_id": "P2",
                    "name": "Napolitana",
                    "category": "pastry",
                    "unit_price": 1.5,
                    "launched_on": date(2026, 4, 1),
                },
            ],
        )
        write_silver(
            lh,
            "events",
            [
                {
                    "event_date_start": date(2026, 5, 20),
                    "event_date_end": date(2026, 5, 22),
                    "event_name": "Book fair",
                    "event_type": "local",
                    "scope": "S1",
                }
            ],
        )

    def write_facts(self, lh: Lakehouse) -> None:
        """The day-by-day silver tables: POS, weather and inventory_daily."""
        write_silver(lh, "pos", self.pos)
        write_silver(lh, "weather", self.weather)
        lh.overwrite(
            inventory_daily_df(
                lh,
                [
                    {"store_id": "S1", "product_id": p, "date": D[i], "stockout": True}
                    for p, i in self.stockouts
                ],
            ),
            "silver",
            "inventory_daily",
        )


def base_silver() -> SilverData:
    pos = [line for i, q in P1.items() for line in pos_lines("S1", "P1", D[i], [q], price=1.2)]
    pos += [
        line
        for i in range(40)
        if i != 2
        for line in pos_lines("S1", "P2", D[i], [1.0], price=1.5, promo="2X1" if i == 10 else None)
    ]
    weather = [
        {
            "date": D[i],
            "store_id": "S1",
            "temperature": 10.0 + i,
            "precipitation": float(i % 3),
            "humidity": 50.0,
            "wind_speed": 5.0,
            "weather_condition_code": 3,
        }
        for i in range(40)
    ]
    return SilverData(pos=pos, weather=weather, stockouts=[("P1", 4)])


def built_home(spark, home, data: SilverData) -> tuple[Lakehouse, Settings]:
    from bakery.gold.build import build_gold

    settings = load_settings(home=home)
    lh = Lakehouse(spark, settings)
    data.write(lh)
    result = build_gold(lh, settings, blocked_sources=set())
    assert result.ok and [t.action for t in result.tables] == ["built", "built"], result.summary_lines()
    return lh, settings


def cloned_home(spark, source: Settings, home) -> tuple[Lakehouse, Settings]:
    """A copy of another home's tables (Delta tables are directories with relative paths)."""
    import shutil

    settings = load_settings(home=home)
    shutil.copytree(source.tables_dir, settings.tables_dir)
    return Lakehouse(spark, settings), settings


@pytest.fixture(scope="package")
def gold_home(spark, tmp_path_factory):
    """Gold built once from base_silver(); tests may rebuild it but must leave its content as it is."""
    return built_home(spark, tmp_path_factory.mktemp("gold") / "home", base_silver())
