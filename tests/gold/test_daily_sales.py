"""gold.daily_sales: a missing row is a closed day, a zero or a product not offered, never silently 0."""

from __future__ import annotations

from datetime import date

import pytest

from bakery.gold.daily_sales import DAILY_SALES_SCHEMA, build_daily_sales, daily_sales_table, observed_sales
from tests.gold.helpers import days, inventory_daily_df, pos_lines, silver_df

D = days(date(2026, 3, 1), 12)
WINDOW = 3


def _s1_pos() -> list[dict]:
    lines = []
    for i, day in enumerate(D):
        if i not in (5, 8, 10, 11):  # P1: D5 closed, D8 and D10-11 no row
            lines += pos_lines("S1", "P1", day, [1.0, 1.0], promo="PR1" if i == 3 else None)
        if i in (0, 1, 10, 11):  # P2: seasonal, gone D2..D9
            lines += pos_lines("S1", "P2", day, [3.0])
        if i in (6, 8, 9):  # P3: launched on D6, no row D7
            lines += pos_lines("S1", "P3", day, [0.5])
    return lines


@pytest.fixture(scope="module")
def daily(spark, tmp_path_factory):
    from bakery.config import load_settings
    from bakery.lakehouse import Lakehouse

    lh = Lakehouse(spark, load_settings(home=tmp_path_factory.mktemp("ds")))
    pos = silver_df(lh, "pos", _s1_pos() + [line for d in D[:3] for line in pos_lines("S2", "P1", d, [1.0])])
    uploads = silver_df(
        lh,
        "sales",
        [
            {
                "date": D[2],
                "store_id": "S2",
                "product_id": "P1",
                "quantity_sold": 50.0,
                "revenue": 50.0,
            },  # POS wins
            {"date": D[3], "store_id": "S2", "product_id": "P1", "quantity_sold": 0.0, "revenue": 0.0},
            {
                "date": D[4],
                "store_id": "S2",
                "product_id": "P1",
                "quantity_sold": 5.0,
                "revenue": 4.5,
                "promotion_id": "SPRING",
            },
        ],
    )
    inventory = inventory_daily_df(
        lh, [{"store_id": "S1", "product_id": "P1", "date": D[7], "stockout": True}]
    )
    products = silver_df(
        lh,
        "products",
        [
            {"product_id": "P1", "name": "Baguette", "category": "bread"},
            {"product_id": "P2", "name": "Roscon", "category": "pastry"},
            {"product_id": "P3", "name": "Croissant", "category": "pastry", "launched_on": D[6]},
        ],
    )
    table = daily_sales_table(build_daily_sales(observed_sales(pos, uploads), inventory, products, WINDOW))
    return {(r.store_id, r.product_id, D.index(r.date)): r for r in table.collect()}, table


def _statuses(rows, store, product) -> list[str]:
    return [rows[(store, product, i)].status for i in range(len(D)) if (store, product, i) in rows]


def test_schema_is_the_contract(daily):
    assert daily[1].schema.simpleString() == DAILY_SALES_SCHEMA.simpleString()


def test_a_day_without_any_sale_is_closed_for_every_product(daily):
    rows, _ = daily
    for product in ("P1", "P2", "P3"):
        r = rows[("S1", product, 5)]
        assert (r.status, r.is_open, r.quantity_sold, r.source) == ("closed", False, None, None)


def test_missing_row_on_an_open_day_is_zero_when_offered(daily):
    rows, _ = daily
    assert _statuses(rows, "S1", "P1") == ["sold"] * 5 + [
        "closed",
        "sold",
        "sold",
        "zero",
        "sold",
        "zero",
        "zero",
    ]
    zero = rows[("S1", "P1", 8)]
    assert (
        zero.quantity_sold,
        zero.revenue,
        zero.n_transactions,
        zero.is_open,
        zero.is_offered,
        zero.source,
    ) == (0.0, 0.0, 0, True, True, "pos")


def test_out_of_season_and_before_launch_are_not_offered_not_zero(daily):
    rows, _ = daily
    assert _statuses(rows, "S1", "P2") == (
        ["sold"] * 2 + ["not_offered"] * 3 + ["closed"] + ["not_offered"] * 4 + ["sold"] * 2
    )
    assert _statuses(rows, "S1", "P3") == (
        ["not_offered"] * 5 + ["closed", "sold", "zero", "sold", "sold"] + ["zero"] * 2
    )
    gone = rows[("S1", "P2", 7)]
    assert (gone.quantity_sold, gone.is_open, gone.is_offered, gone.revenue) == (None, True, False, None)


def test_pos_is_summed_per_day_with_promo_and_stockout(daily):
    rows, _ = daily
    r = rows[("S1", "P1", 3)]
    assert (r.quantity_sold, r.revenue, r.n_transactions, r.promo, r.stockout) == (2.0, 2.0, 2, True, False)
    assert rows[("S1", "P1", 7)].stockout is True
    assert rows[("S1", "P1", 6)].stockout is False


def test_uploads_fill_only_store_days_without_pos(daily):
    rows, _ = daily
    assert [(rows[("S2", "P1", i)].quantity_sold, rows[("S2", "P1", i)].source) for i in range(5)] == [
        (1.0, "pos"),
        (1.0, "pos"),
        (1.0, "pos"),
        (0.0, "upload"),
        (5.0, "upload"),
    ]
    explicit_zero, promo = rows[("S2", "P1", 3)], rows[("S2", "P1", 4)]
    assert (explicit_zero.status, explicit_zero.n_transactions) == ("zero", None)
    assert (promo.status, promo.promo, promo.revenue) == ("sold", True, 4.5)


def test_each_store_covers_exactly_its_active_range(daily):
    rows, table = daily
    assert table.count() == len(rows) == 3 * 12 + 5
    assert not [k for k in rows if k[0] == "S2" and k[2] > 4]
