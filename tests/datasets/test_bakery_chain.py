"""The real ddop bakery chain as landing files: valid templates, no row on closed days, counts and values kept."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bakery.config import load_settings
from bakery.datasets.bakery_chain import DATA_DIR, day_status, read_compact, read_ddop, write_landing
from bakery.ingest.readers import read_file
from bakery.ingest.validate import validate_raw

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ddop_bakery_chain"
AS_OF = date(2019, 5, 1)
# The ingested part: a store that opened mid-2018 (closed most of the time) and one with a fractional
# value (2018-12-03), over Christmas, New Year and Epiphany.
PART_STORES, PART_START, PART_END = [22, 36], date(2018, 11, 1), date(2019, 1, 31)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return read_compact()


@pytest.fixture(scope="module")
def landing(data, tmp_path_factory):
    return write_landing(tmp_path_factory.mktemp("chain") / "landing", data=data)


def _read(landing, kind: str) -> pd.DataFrame:
    files = sorted(p for p in landing.files if p.parent.name == kind)
    return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in files], ignore_index=True)


@pytest.fixture(scope="module")
def sales(landing) -> pd.DataFrame:
    out = _read(landing, "sales")
    out["date"] = pd.to_datetime(out["date"])
    out["quantity"] = out["quantity_sold"].astype(float)
    return out


def test_the_shipped_copy_is_small_licensed_and_is_the_ddop_data(data):
    assert (DATA_DIR / "bakery_chain.parquet").stat().st_size < 400_000
    notice = (DATA_DIR / "LICENSE").read_text()
    assert (
        "BSD 3-Clause" in notice
        and "The ddop developers" in notice
        and "ddop" in (DATA_DIR / "README.md").read_text()
    )
    assert len(data) == 127_575 and data["store"].nunique() == 35 and data["product"].nunique() == 3
    assert (data["date"].min(), data["date"].max()) == (
        pd.Timestamp("2016-01-02"),
        pd.Timestamp("2019-04-30"),
    )
    if not (SHARED / "bakery_data.csv").exists():
        pytest.skip(f"original ddop files not found at {SHARED}")
    pd.testing.assert_frame_equal(data, read_ddop(SHARED))


def test_every_landing_file_passes_import_validation(landing):
    specs = load_settings(home=landing.out.parent).sources
    assert {p.parent.name for p in landing.files} == {"stores", "products", "sales", "weather", "events"}
    for path in landing.files:
        raw = read_file(path)
        report = validate_raw(raw, specs[path.parent.name], today=AS_OF)
        assert report.fatal is None and not report.errors and not report.duplicates, (
            path.name,
            report.errors[:3],
        )
        assert not report.ignored_columns and len(report.rows) == raw.num_rows > 0


def test_row_counts_match_the_source(data, landing, sales):
    closed, not_offered = day_status(data)
    assert landing.rows["sales"] == len(sales) == len(data) - closed.sum() - not_offered.sum()
    assert (landing.closed, landing.not_offered) == (closed.sum(), not_offered.sum()) == (14_788, 14)
    assert landing.rows["weather"] == len(data.drop_duplicates(["store", "date"])) == 35 * 1215
    assert (landing.rows["stores"], landing.rows["products"]) == (35, 3)
    kept = data[~(closed | not_offered)].assign(
        store_id=lambda d: d["store"].astype(str), product_id=lambda d: d["product"].astype(str)
    )
    both = kept.merge(sales, on=["date", "store_id", "product_id"], validate="one_to_one")
    assert len(both) == len(sales) and (both["demand"] == both["quantity"]).all()
    stores = _read(landing, "stores")
    assert set(stores[["country", "subdivision", "timezone"]].itertuples(index=False)) == {
        ("DE", "DE-BY", "Europe/Berlin")
    }
    assert stores.loc[stores["store_id"] == "2", "name"].item() == "Filiale 02"


def test_closed_sundays_and_holidays_have_no_sales_row_but_open_zeros_do(data, sales):
    key = ["date", "store_id", "product_id"]
    have = set(sales[key].itertuples(index=False, name=None))
    rows = data.assign(store_id=data["store"].astype(str), product_id=data["product"].astype(str))
    sunday_zero = rows[(rows["demand"] == 0) & (rows["date"].dt.dayofweek == 6)]
    assert len(sunday_zero) > 5000 and not set(sunday_zero[key].itertuples(index=False, name=None)) & have
    # The weekday column is off by one: 2016-01-03 is a Sunday (labelled SAT); 2016-01-02 a Saturday.
    assert (sales["date"] == "2016-01-02").sum() > 90
    assert {d.strftime("%m-%d") for d in sales["date"]}.isdisjoint({"12-25", "12-26", "01-01"})
    # Stores 5 and 22 open in mid-2018: no rows before, none of their closed days padded with zeros.
    late = sales[sales["store_id"].isin(["5", "22"])]
    assert late["date"].min() >= pd.Timestamp("2018-05-01") and (late["quantity"] > 0).mean() > 0.9
    zeros = sales[sales["quantity"] == 0]
    assert len(zeros) == 597 and (zeros["date"].dt.dayofweek != 6).all()  # offered, sold nothing


def test_fractional_demand_survives_exactly(data, sales):
    fractional = sales[sales["quantity"] % 1 != 0]
    assert len(fractional) == (data["demand"] % 1 != 0).sum() == 42
    assert {"1155.5", "56.063", "219.004"} <= set(fractional["quantity_sold"])
    assert "254" in set(sales["quantity_sold"])  # whole units without a trailing .0


def test_promotions_ride_on_sales_rows_and_school_holidays_are_store_events(data, landing, sales):
    promo = sales[sales["promotion_id"] != ""]
    assert promo["promotion_id"].str.fullmatch(r"PROMO-(101|109|110)-\d{4}-\d{2}-\d{2}").all()
    flagged = data[data["promotion_currentweek"] == 1].assign(
        store_id=lambda d: d["store"].astype(str), product_id=lambda d: d["product"].astype(str)
    )
    assert len(promo) == len(flagged.merge(sales, on=["date", "store_id", "product_id"]))
    events = _read(landing, "events")
    school = events[events["event_type"] == "school_holiday"]
    days = {
        (row.scope, d)
        for row in school.itertuples()
        for d in pd.date_range(row.event_date_start, row.event_date_end)
    }
    store_days = data.drop_duplicates(["store", "date"])
    expected = store_days[store_days["is_schoolholiday"] == 1]
    assert days == set(zip(expected["store"].astype(str), expected["date"], strict=True))
    assert set(events.loc[events["event_type"] == "national_holiday", "event_name"]) == {
        "Ostersonntag",
        "Pfingstsonntag",
    }


@pytest.mark.slow  # one full ETL run: its fixed cost (every source's silver and quality step) dominates
def test_a_part_of_the_chain_ingests_into_gold_with_closed_days_and_fractions(spark, data, tmp_path):
    from bakery.etl import run_etl
    from bakery.lakehouse import Lakehouse

    settings = load_settings(home=tmp_path / "home")
    part = write_landing(settings.landing_dir, data=data, stores=PART_STORES, start=PART_START, end=PART_END)
    assert part.rows["stores"] == 2 and (part.start, part.end) == (PART_START, PART_END)
    lh = Lakehouse(spark, settings)
    report = run_etl(lh, settings, as_of=PART_END + timedelta(days=1))
    assert report.ok, report.render()
    assert not lh.exists("ops", "quarantine") or lh.read("ops", "quarantine").count() == 0
    gold = lh.read("gold", "daily_sales").toPandas()
    gold["date"] = pd.to_datetime(gold["date"])
    observed = gold[gold["status"].isin(["sold", "zero"])]
    assert len(observed) == part.rows["sales"]
    # Daily totals and nothing about stock: no day is a stock-out, so the models learn from every sold day.
    assert not gold["stockout"].any()
    day = gold.set_index(["store_id", "product_id", "date"])
    assert day.loc[("36", "110", pd.Timestamp("2018-12-03")), "quantity_sold"] == 65.5
    assert day.loc[("22", "101", pd.Timestamp("2018-12-25")), "status"] == "closed"
    # Gold's closed store-days are the source's (all products closed) within each store's observed range.
    closed, _ = day_status(data)
    inside = data["store"].isin(PART_STORES) & data["date"].between(
        pd.Timestamp(PART_START), pd.Timestamp(PART_END)
    )
    all_closed = closed[inside].groupby([data["store"][inside].astype(str), data["date"][inside]]).all()
    span = observed.groupby("store_id")["date"].agg(["min", "max"])
    expected = {
        (st, d)
        for (st, d), shut in all_closed.items()
        if shut and span.loc[st, "min"] < d < span.loc[st, "max"]
    }
    got = set(gold.loc[gold["status"] == "closed", ["store_id", "date"]].itertuples(index=False, name=None))
    assert got == expected and sum(d.dayofweek == 6 for _, d in got) > 10
