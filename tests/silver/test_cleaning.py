"""Typed casting and row rules on tiny bronze frames: each bad row is quarantined with its rule and column."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bakery.silver.cleaning import References, check_rows, split_checked
from tests.silver.conftest import STORES, bronze_frame, pos_row

AS_OF = date(2026, 3, 10)


@pytest.fixture
def refs(spark):
    stores = spark.createDataFrame(
        [(s["store_id"], s["timezone"]) for s in STORES], "store_id string, timezone string"
    )
    products = spark.createDataFrame([("P01",), ("P02",)], "product_id string")
    return References(stores=stores, products=products)


def _split(spark, settings, kind, rows, refs):
    spec = settings.source(kind)
    good, rejected = split_checked(check_rows(bronze_frame(spark, spec, rows), spec, AS_OF, refs), spec)
    return good.collect(), {(r.row_number, r.rule, r.column) for r in rejected.collect()}, rejected


def test_each_rule_quarantines_the_row_with_its_rule_and_column(spark, settings, refs):
    rows = [
        pos_row("T1", "2026-03-01T08:15:00+01:00"),  # 1 good
        {"transaction_id": "T2", "_malformed": "expected 8 fields, found 5"},  # 2
        pos_row("T3", "2026-03-01T08:15:00", qty=None),  # 3
        pos_row("T4", "2026-03-32T08:15:00+01:00"),  # 4
        pos_row("T5", "2026-03-01T08:15:00", qty="-2", total="-2.4"),  # 5
        pos_row("T6", "2026-03-01T08:15:00", qty="N/A"),  # 6
        pos_row("T7", "2026-04-01T08:15:00"),  # 7 future
        pos_row("T8", "2026-03-01T08:15:00", store="S99"),  # 8
        pos_row("T9", "2026-03-01T08:15:00", product="P99"),  # 9
        pos_row("T10", "2026-03-01T08:15:00", qty="5000", total="6000"),  # 10
    ]
    good, found, rejected = _split(spark, settings, "pos", rows, refs)
    assert [r.transaction_id for r in good] == ["T1"]
    assert found == {
        (2, "malformed_row", None),
        (3, "not_null:quantity_sold", "quantity_sold"),
        (4, "type:timestamp", "timestamp"),
        (5, "range:quantity_sold", "quantity_sold"),
        (5, "range:total_amount", "total_amount"),
        (6, "type:quantity_sold", "quantity_sold"),
        (7, "future_date:timestamp", "timestamp"),
        (8, "unknown_store", "store_id"),
        (9, "unknown_product", "product_id"),
        (10, "range:quantity_sold", "quantity_sold"),
    }
    r5 = rejected.filter("row_number = 5 AND rule = 'range:quantity_sold'").first()
    assert "-2.0 is below the minimum 0" in r5.reason
    assert '"quantity_sold":"-2"' in r5.raw and r5.source_file == "pos/pos_b1.csv" and r5.batch_id == "b1"
    assert r5.source == "pos"


def test_dimension_rules_enum_pattern_timezone_and_types(spark, settings, refs):
    good_store = dict(STORES[0])
    rows = [
        good_store,
        {**good_store, "store_id": "S03", "country": "Spain"},
        {**good_store, "store_id": "S04", "store_type": "kiosk"},
        {**good_store, "store_id": "S05", "timezone": "Mars/Olympus"},
        {**good_store, "store_id": "S06", "latitude": "91"},
        {**good_store, "store_id": "S07", "name": "  "},
    ]
    good, found, _ = _split(spark, settings, "stores", rows, refs)
    assert [r.store_id for r in good] == ["S01"]
    assert found == {
        (2, "pattern:country", "country"),
        (3, "values:store_type", "store_type"),
        (4, "timezone:timezone", "timezone"),
        (5, "range:latitude", "latitude"),
        (6, "not_null:name", "name"),
    }
    products = [
        {
            "product_id": "P1",
            "name": "a",
            "category": "c",
            "shelf_life_days": "3.0",
            "launched_on": "2025-01-02",
        },
        {"product_id": "P2", "name": "b", "category": "c", "shelf_life_days": "1.5"},
        {"product_id": "P3", "name": "c", "category": "c", "launched_on": "02/01/2025"},
        {"product_id": "P4", "name": "d", "category": "c", "unit_price": "1,20"},
    ]
    good, found, _ = _split(spark, settings, "products", products, refs)
    assert [(r.product_id, r.shelf_life_days, r.launched_on) for r in good] == [("P1", 3, date(2025, 1, 2))]
    assert found == {
        (2, "type:shelf_life_days", "shelf_life_days"),
        (3, "type:launched_on", "launched_on"),
        (4, "type:unit_price", "unit_price"),
    }


def test_canary_and_madrid_local_dates_around_midnight(spark, settings, refs):
    """Atlantic/Canary is UTC+0 in winter and UTC+1 in summer, one hour behind Madrid all year."""
    rows = [
        pos_row("W1", "2026-01-15T23:59:00Z", store="S02"),  # Canary winter: still the 15th
        pos_row("W2", "2026-01-15T23:59:00Z", store="S01"),  # Madrid: already 00:59 on the 16th
        pos_row("S1", "2026-07-01T00:30:00", store="S02"),  # store-local, no offset: summer UTC+1
        pos_row("S2", "2026-06-30T23:30:00+00:00", store="S02"),  # same instant written with an offset
        pos_row("S3", "2026-06-30T23:29:59Z", store="S02"),  # one second before Canary midnight... +1h
        pos_row("S4", "2026-06-30T22:59:59Z", store="S02"),  # 23:59:59 local on the 30th
    ]
    spec = settings.source("pos")
    checked = check_rows(bronze_frame(spark, spec, rows), spec, date(2026, 7, 2), refs)
    got = {r.transaction_id: (r.timestamp, r.local_date) for r in checked.collect()}
    assert got["W1"] == (datetime(2026, 1, 15, 23, 59), date(2026, 1, 15))
    assert got["W2"] == (datetime(2026, 1, 15, 23, 59), date(2026, 1, 16))
    assert got["S1"] == (datetime(2026, 6, 30, 23, 30), date(2026, 7, 1))
    assert got["S2"] == got["S1"]
    assert got["S3"][1] == date(2026, 7, 1)
    assert got["S4"][1] == date(2026, 6, 30)


def test_an_event_scope_is_a_store_national_or_the_country_or_subdivision_of_a_store(spark, settings, refs):
    """gold.calendar applies an event to the stores of its scope: a store, `national`, or a store's country or
    subdivision (an event for the Canary Islands only, in a chain across regions or countries)."""
    regions = References(stores=refs.stores, products=refs.products, regions=("ES", "ES-CN", "ES-MD"))
    event = {
        "event_date_start": "2026-03-01",
        "event_date_end": "2026-03-03",
        "event_name": "Carnaval",
        "event_type": "local_fiesta",
    }
    rows = [{**event, "scope": s} for s in ("S01", "national", "ES-CN", "es-md", "ES", "FR", "ES-AN", "S99")]
    good, found, rejected = _split(spark, settings, "events", rows, regions)
    assert [r.scope for r in good] == ["S01", "national", "ES-CN", "es-md", "ES"]
    assert found == {(n, "unknown_store", "scope") for n in (6, 7, 8)}
    reason = rejected.filter("row_number = 6").first().reason
    assert (
        reason
        == "scope 'FR' is not a store in silver.stores, 'national', nor the country or subdivision of one"
    )
