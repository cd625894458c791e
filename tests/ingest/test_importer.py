"""`bakery import`: validation report by row and column, safe bad-row CSV, threshold, duplicates, landing output."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bakery.cli import EXIT_OK, EXIT_REJECTED, main
from bakery.ingest.importer import import_file, safe_cell

TODAY = dt.date(2026, 5, 1)
BREADBASKET = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "breadbasket_edinburgh" / "BreadBasket_DMS.csv"
)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _landed(settings, kind: str) -> list[Path]:
    root = settings.landing_dir / kind
    return sorted(root.glob("*.parquet")) if root.is_dir() else []


def test_german_semicolon_file_is_auto_mapped_and_landed_as_template_parquet(settings, tmp_path):
    src = _write(
        tmp_path / "Verkäufe März.csv",
        "Datum;Filiale;Artikel;Menge;Umsatz;Bemerkung\r\n2026-03-01;S01;P001;12,5;30,0;ok\r\n"
        "2026-03-01;S01;P002;3;4.5;\r\n",
        "cp1252",
    )
    result = import_file(settings, "sales", src, today=TODAY)
    assert result.accepted, result.render()
    [landed] = _landed(settings, "sales")
    assert landed.name.startswith("import_") and landed.name.endswith("_Verk_ufe_M_rz.parquet")
    table = pq.read_table(landed)
    assert table.column_names == settings.source("sales").column_names
    assert table.to_pylist()[0] == {
        "date": "2026-03-01",
        "store_id": "S01",
        "product_id": "P001",
        "quantity_sold": "12.5",
        "revenue": "30.0",
        "promotion_id": None,
    }
    report = json.loads(result.report_path.read_text())
    assert report["accepted"] and report["totals"]["rows_written"] == 2
    assert report["mapping"]["quantity_sold"] == "Menge" and report["ignored_columns"] == ["Bemerkung"]
    assert str(result.report_path) in result.render()


def test_errors_by_row_and_column_and_a_formula_safe_bad_row_csv(settings, tmp_path):
    src = _write(
        tmp_path / "sales.csv",
        'fecha,tienda,producto,cantidad\n2026-03-01,S01,P001,4\n\n2026-03-01,S01,=HYPERLINK("x"),-5\n'
        "2027-01-01,S01,P003,2\n2026-03-02,S01,P004\n",
    )
    result = import_file(settings, "sales", src, max_error_rate=1.0, today=TODAY)
    report = json.loads(result.report_path.read_text())
    errors = [(e["row"], e["line"], e["column"], e["rule"]) for e in report["errors"]]
    assert errors == [
        (2, 4, "quantity_sold", "range:quantity_sold"),
        (3, 5, "date", "future_date:date"),
        (4, 6, None, "malformed_row"),
    ]
    assert report["totals"]["invalid_rows"] == 3 and report["totals"]["rows"] == 4
    with result.bad_rows_path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["row"] for r in rows] == ["2", "3", "4"]
    assert rows[0]["producto"] == '\'=HYPERLINK("x")' and rows[0]["cantidad"] == "'-5"
    assert (
        "outside the allowed range" in rows[0]["reason"] and "expected 4 fields, found 3" in rows[2]["reason"]
    )
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell("+1") == "'+1" and safe_cell("ok") == "ok"


@pytest.mark.parametrize("limit,accepted", [(0.25, True), (0.2, False)])
def test_error_threshold_accepts_or_rejects_the_whole_file(settings, tmp_path, limit, accepted):
    src = _write(
        tmp_path / "s.csv",
        "date,store_id,product_id,quantity_sold\n2026-03-01,S01,P1,1\n"
        "2026-03-01,S01,P2,x\n2026-03-01,S01,P3,1\n2026-03-01,S01,P4,1\n",
    )
    result = import_file(settings, "sales", src, max_error_rate=limit, today=TODAY)
    assert result.accepted is accepted
    landed = _landed(settings, "sales")
    if accepted:
        assert pq.read_table(landed[0]).num_rows == 3
    else:
        assert landed == [] and "more than --max-error-rate" in result.reason
        assert not (settings.landing_dir / "sales").exists() or not any(
            (settings.landing_dir / "sales").iterdir()
        )


def test_unreadable_or_unmappable_files_are_rejected_with_a_report(settings, tmp_path):
    empty = _write(tmp_path / "empty.csv", "")
    result = import_file(settings, "sales", empty, today=TODAY)
    assert not result.accepted and result.reason.startswith("file:empty")
    assert json.loads(result.report_path.read_text())["fatal"].startswith("file:empty")
    wrong = _write(tmp_path / "w.csv", "date,quantity_sold\n2026-01-01,1\n")
    result = import_file(settings, "sales", wrong, mapping={"store_id": "Filiale"}, today=TODAY)
    assert not result.accepted and "store_id <- 'Filiale'" in result.reason
    assert _landed(settings, "sales") == []


@pytest.mark.skipif(not BREADBASKET.exists(), reason="real data set not present")
def test_real_item_per_row_file_reports_the_missing_template_columns(settings):
    result = import_file(settings, "sales", BREADBASKET, today=TODAY)
    assert not result.accepted
    assert "missing required column(s) store_id, quantity_sold" in result.reason
    assert "'Date', 'Time', 'Transaction', 'Item'" in result.reason


@pytest.mark.skipif(not BREADBASKET.exists(), reason="real data set not present")
def test_cli_import_counts_an_item_per_row_file_into_daily_sales_with_a_shape(settings, tmp_path, capsys):
    home = ["--home", str(settings.home)]
    shape = {
        "shape": "items",
        "date": "Date",
        "item": "Item",
        "store_id": "EDI01",
        "exclude": ["NONE", "Adjustment"],
    }
    assert main([*home, "import", "sales", str(BREADBASKET), "--shape", json.dumps(shape)]) == EXIT_OK, (
        capsys.readouterr()
    )
    [landed] = _landed(settings, "sales")
    rows = pq.read_table(landed).to_pandas()
    coffee = rows[(rows["date"] == "2016-10-30") & (rows["product_id"] == "Coffee")]
    raw = [line.split(",") for line in BREADBASKET.read_text().splitlines()[1:]]
    assert float(coffee["quantity_sold"].iloc[0]) == sum(
        1 for r in raw if r[0] == "2016-10-30" and r[3] == "Coffee"
    )
    assert not rows["product_id"].isin(["NONE", "Adjustment"]).any() and set(rows["store_id"]) == {"EDI01"}
    report = json.loads(sorted(settings.reports_dir.glob("import_sales_*.json"))[-1].read_text())
    assert report["shape"] == shape
    # A shape that does not fit the file is a rejection naming the column; other kinds take no shape.
    bad = json.dumps({**shape, "item": "Artikel"})
    assert main([*home, "import", "sales", str(BREADBASKET), "--shape", bad]) == EXIT_REJECTED
    assert "shape: item column 'Artikel' is not in the file" in capsys.readouterr().out
    with pytest.raises(ValueError, match="it applies to kind 'sales', not 'stores'"):
        import_file(settings, "stores", BREADBASKET, shape=shape)
    assert len(_landed(settings, "sales")) == 1


# The French bakery export (Kaggle "French bakery daily sales"): an unnamed index column, one row per ticket line with
# a quantity (a return is a negative line) and a unit price with a decimal comma and a euro sign.
FRENCH = """,date,time,ticket_number,article,Quantity,unit_price
0,2021-01-02,08:38,150040.0,BAGUETTE,1.0,"0,90 €"
1,2021-01-02,08:38,150040.0,PAIN AU CHOCOLAT,3.0,"1,20 €"
4,2021-01-02,09:14,150041.0,PAIN AU CHOCOLAT,2.0,"1,20 €"
8,2021-01-02,09:25,150042.0,TRADITIONAL BAGUETTE,5.0,"1,20 €"
11,2021-01-03,09:25,150043.0,BAGUETTE,2.0,"0,90 €"
14,2021-01-03,09:27,150044.0,BAGUETTE,-1.0,"0,90 €"
15,2021-01-03,10:27,150045.0,PAIN,-1.0,"1,15 €"
16,2021-01-03,10:30,150046.0,.,1.0,"0,00 €"
"""


def test_cli_sums_ticket_lines_with_quantities_and_prices_into_daily_units_and_revenue(
    settings, tmp_path, capsys
):
    src = _write(tmp_path / "Bakery sales.csv", FRENCH)
    home = ["--home", str(settings.home)]
    shape = {
        "shape": "items",
        "date": "date",
        "item": "article",
        "quantity": "Quantity",
        "price": "unit_price",
        "store_id": "FR01",
        "exclude": ["."],
    }
    code = main([*home, "import", "sales", str(src), "--shape", json.dumps(shape), "--max-error-rate", "0.2"])
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    [landed] = _landed(settings, "sales")
    rows = {
        (r["date"], r["product_id"]): (r["quantity_sold"], r["revenue"])
        for r in pq.read_table(landed).to_pylist()
    }
    # Lines are summed, not counted; the return nets out; revenue is quantity x unit price.
    assert rows == {
        ("2021-01-02", "BAGUETTE"): ("1.0", "0.9"),
        ("2021-01-02", "PAIN AU CHOCOLAT"): ("5.0", "6.0"),
        ("2021-01-02", "TRADITIONAL BAGUETTE"): ("5.0", "6.0"),
        ("2021-01-03", "BAGUETTE"): ("1.0", "0.9"),
    }
    # A day whose returns exceed its sales is refused like any negative quantity, naming the day's row.
    assert "'-1' is outside the allowed range" in out and "row 5 (quantity_sold)" in out
    # A quantity that is not a number names the file rows; price and amount together are ambiguous.
    bad = _write(tmp_path / "bad.csv", FRENCH.replace("5.0,", "cinq,"))
    assert main([*home, "import", "sales", str(bad), "--shape", json.dumps(shape)]) == EXIT_REJECTED
    assert (
        "shape: quantity column 'Quantity' holds values that are not numbers: row 4 ('cinq')"
        in capsys.readouterr().out
    )
    both = json.dumps({**shape, "amount": "unit_price"})
    assert main([*home, "import", "sales", str(src), "--shape", both]) == EXIT_REJECTED
    assert "give price (unit price) or amount (line total), not both" in capsys.readouterr().out
    assert len(_landed(settings, "sales")) == 1


def test_unknown_kind_and_missing_file_raise(settings, tmp_path):
    with pytest.raises(ValueError, match=r"unknown source kind 'sale'.*'sales'"):
        import_file(settings, "sale", tmp_path / "x.csv")
    with pytest.raises(FileNotFoundError):
        import_file(settings, "sales", tmp_path / "nope.csv")


def test_cli_exit_codes_and_mapping_file(settings, tmp_path, capsys):
    src = _write(tmp_path / "s.csv", "Tag,Shop,Sku,Stk\n2026-03-01,S01,P1,2\n")
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps({"date": "Tag", "store_id": "Shop", "product_id": "Sku", "quantity_sold": "Stk"})
    )
    home = ["--home", str(settings.home)]
    assert main([*home, "import", "sales", str(src), "--mapping", str(mapping)]) == EXIT_OK
    assert "report:" in capsys.readouterr().out
    assert main([*home, "import", "sales", str(src)]) == EXIT_REJECTED
    out = capsys.readouterr().out
    assert "REJECTED" in out and "report:" in out


def test_duplicates_against_stored_silver_skip_or_overwrite(lh, settings, tmp_path):
    stored = lh.spark.createDataFrame(
        [(dt.date(2026, 3, 1), "S01", "P1", 5.0)],
        "date date, store_id string, product_id string, quantity_sold double",
    )
    lh.merge(stored, "silver", settings.source("sales").table, keys=["date", "store_id", "product_id"])
    src = _write(
        tmp_path / "s.csv",
        "date,store_id,product_id,quantity_sold\n2026-03-01,S01,P1,7\n"
        "2026-03-02,S01,P1,1\n2026-03-02,S01,P1,1.0\n",
    )
    skip = import_file(settings, "sales", src, today=TODAY)
    assert skip.accepted and skip.totals["skipped_duplicates"] == 2 and skip.totals["rows_written"] == 1
    assert pq.read_table(skip.landing_path).column("quantity_sold").to_pylist() == ["1.0"]
    over = import_file(settings, "sales", src, on_duplicate="overwrite", today=TODAY)
    assert over.totals["duplicates_of_stored"] == 1 and over.totals["rows_written"] == 2
    assert pq.read_table(over.landing_path).column("quantity_sold").to_pylist() == ["7.0", "1.0"]


def test_sales_naming_stores_or_products_not_imported_yet_land_with_a_note_saying_so(settings, tmp_path):
    """Ingest would quarantine those rows (unknown_store): the import says so while the user can still act."""
    sales = _write(
        tmp_path / "sales.csv",
        "date,store_id,product_id,quantity_sold\n2026-03-01,S01,P001,4\n2026-03-01,S02,P001,5\n",
    )
    first = import_file(settings, "sales", sales, today=TODAY)
    assert first.accepted and len(first.notes) == 2, first.render()
    assert "2 store_id value(s) not in any imported stores yet (S01, S02), in 2 row(s)" in first.render()
    assert "unknown_product" in first.notes[1] and "P001" in first.notes[1]
    assert json.loads(first.report_path.read_text())["notes"] == first.notes
    stores = _write(
        tmp_path / "stores.csv",
        "store_id,name,city,country,timezone\n"
        "S01,Centro,Madrid,ES,Europe/Madrid\nS02,Norte,Madrid,ES,Europe/Madrid\n",
    )
    assert import_file(settings, "stores", stores, today=TODAY).accepted
    again = import_file(settings, "sales", sales, on_duplicate="overwrite", today=TODAY)
    assert again.accepted and [n for n in again.notes if "store_id" in n] == [] and len(again.notes) == 1


def test_cli_semicolon_file_reads_a_comma_with_three_fraction_digits_as_decimals(settings, tmp_path, capsys):
    """Kilograms to the gram (3,465) read like 52,0: one comma between digits is the decimal separator."""
    src = _write(
        tmp_path / "ventas.csv",
        "\ufeffdia;tienda;articulo;cantidad;importe\n2026-03-01;S01;CROI;52,0;78,0\n"
        "2026-03-01;S01;EMPANADA_KG;3,465;50,24\n2026-03-01;S01;HOGAZA_KG;12,250;58,80\n",
    )
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps(
            {
                "date": "dia",
                "store_id": "tienda",
                "product_id": "articulo",
                "quantity_sold": "cantidad",
                "revenue": "importe",
            }
        )
    )
    assert (
        main(["--home", str(settings.home), "import", "sales", str(src), "--mapping", str(mapping)])
        == EXIT_OK
    ), capsys.readouterr().out
    rows = pq.read_table(_landed(settings, "sales")[0]).to_pylist()
    assert [(r["quantity_sold"], r["revenue"]) for r in rows] == [
        ("52.0", "78.0"),
        ("3.465", "50.24"),
        ("12.25", "58.8"),
    ]
    bad = _write(tmp_path / "bad.csv", "date;store_id;product_id;quantity_sold\n2026-03-01;S01;P1;1.234,5\n")
    assert main(["--home", str(settings.home), "import", "sales", str(bad)]) == EXIT_REJECTED
    out = capsys.readouterr().out
    assert (
        "row 1 (quantity_sold): '1.234,5' is not a number ('.' or ',' decimals, no thousands separator)"
        in out
    )
    assert "report:" in out


def test_cli_stores_with_a_bad_timezone_or_subdivision_are_rejected_at_import(settings, tmp_path, capsys):
    src = _write(
        tmp_path / "stores.csv",
        "store_id,name,city,country,subdivision,timezone\n"
        "TZBAD,Bad tz,Madrid,ES,ES-MD,Europe/Madird\n"
        "SUBMIS,Mismatch,Lyon,FR,ES-MD,Europe/Paris\n"
        "USCA,Fine,LA,US,US-CA,America/Los_Angeles\n"
        "NOPFX,No country prefix,X,ES,MD,Europe/Madrid\n",
    )
    assert main(["--home", str(settings.home), "import", "stores", str(src)]) == EXIT_REJECTED
    out = capsys.readouterr().out
    assert "row 1 (timezone): 'Europe/Madird' is not an IANA timezone" in out
    assert "row 2 (subdivision): 'ES-MD' is not a subdivision of country 'FR'" in out
    assert "row 4 (subdivision): 'MD'" in out
    assert (
        "rows 4, valid 1, invalid 3 (75.0%)" in out and "report:" in out and _landed(settings, "stores") == []
    )


def test_rows_of_one_file_with_one_key_and_different_values_are_invalid(settings, tmp_path):
    """Not silently one of them: both rows are reported, count toward --max-error-rate, and neither lands."""
    src = _write(
        tmp_path / "dup.csv",
        "date,store_id,product_id,quantity_sold\n2026-03-01,LON1,SCONE,10\n"
        "2026-03-01,LON1,SCONE,12\n2026-03-01,LON1,BAGUETTE,80\n"
        "2026-03-01,LON1,BUN,4\n2026-03-01,LON1,BUN,4\n",
    )
    rejected = import_file(settings, "sales", src, max_error_rate=0.2, today=TODAY)
    assert not rejected.accepted and "40.0% of rows invalid" in rejected.reason
    assert rejected.first_errors == [
        "row 1 (quantity_sold): same key (date '2026-03-01', store_id 'LON1', product_id 'SCONE') as row 2 with "
        "different values: quantity_sold '10' here, '12' in row 2",
        "row 2 (quantity_sold): same key (date '2026-03-01', store_id 'LON1', product_id 'SCONE') as row 1 with "
        "different values: quantity_sold '12' here, '10' in row 1",
    ]
    accepted = import_file(settings, "sales", src, max_error_rate=0.4, today=TODAY)
    assert (
        accepted.accepted
        and accepted.totals["invalid_rows"] == 2
        and accepted.totals["skipped_duplicates"] == 1
    )
    assert [r["product_id"] for r in pq.read_table(accepted.landing_path).to_pylist()] == ["BAGUETTE", "BUN"]
    with accepted.bad_rows_path.open(newline="", encoding="utf-8") as fh:
        reasons = {r["row"]: r["reason"] for r in csv.DictReader(fh)}
    assert "as row 2 with different values" in reasons["1"] and "(skipped)" in reasons["5"]


def test_events_ending_before_they_start_are_rejected_and_unknown_store_scopes_counted(settings, tmp_path):
    stores = _write(
        tmp_path / "stores.csv",
        "store_id,name,city,country,subdivision,timezone\nMAD01,Centro,Madrid,ES,ES-MD,Europe/Madrid\n",
    )
    assert import_file(settings, "stores", stores, today=TODAY).accepted
    src = _write(
        tmp_path / "events.csv",
        "event_date_start,event_date_end,event_name,event_type,scope\n"
        "2026-05-10,2026-05-08,Backwards,festival,MAD01\n"
        "2026-06-01,2026-06-03,Unknown scope,festival,NOWHERE\n"
        "2026-06-05,2026-06-05,Fair,festival,NOWHERE\n"
        "2026-06-01,2026-06-01,Holiday,holiday,national\n"
        "2026-05-02,2026-05-02,Regional holiday,holiday,ES-MD\n",
    )
    rejected = import_file(settings, "events", src, today=TODAY)
    assert not rejected.accepted and rejected.first_errors == [
        "row 1 (event_date_end): '2026-05-08' is before event_date_start '2026-05-10'"
    ]
    accepted = import_file(settings, "events", src, max_error_rate=0.25, today=TODAY)
    assert accepted.accepted and accepted.totals["rows_written"] == 4
    [note] = accepted.notes
    assert note.startswith(
        "1 scope value(s) not in any imported stores yet (NOWHERE), in 2 row(s): import stores"
    )
    assert "quarantine their rows as unknown_store" in note


def test_a_mapping_to_a_missing_column_is_a_clear_rejection_that_checks_no_row(settings, tmp_path, capsys):
    src = _write(
        tmp_path / "s.csv",
        "Datum;Filiale;Artikel;Menge\n2026-03-01;S01;P1;1\n2026-03-01;S01;P2;2\n2026-03-01;S01;P3;3\n",
    )
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"quantity_sold": "Mengex"}))
    assert (
        main(["--home", str(settings.home), "import", "sales", str(src), "--mapping", str(mapping)])
        == EXIT_REJECTED
    )
    out = capsys.readouterr().out
    assert "mapping says quantity_sold <- 'Mengex', but the file has no such column" in out
    assert "rows 3: none checked, the file is rejected as a whole, written 0" in out
    assert "valid 3" not in out and "100.0%" not in out
    report = json.loads(sorted(settings.reports_dir.glob("import_sales_*.json"))[-1].read_text())
    assert report["totals"]["valid_rows"] == 0 and report["totals"]["error_rate"] is None


def test_line_totals_without_quantities_count_one_item_a_line_and_sum_the_revenue():
    import pandas as pd

    from bakery.ingest.reshape import reshape

    lines = pd.DataFrame(
        {
            "Date": ["2021-01-02"] * 3,
            "Item": ["Bread", "Bread", "Scone"],
            "Total": ["1,20 €", "1,30 €", "£2"],
        },
        index=pd.RangeIndex(1, 4),
    )
    out = reshape(
        lines, {"shape": "items", "date": "Date", "item": "Item", "store_id": "EDI01", "amount": "Total"}
    )
    assert out[["product_id", "quantity_sold", "revenue"]].values.tolist() == [
        ["Bread", "2", "2.5"],
        ["Scone", "1", "2"],
    ]


def test_import_refuses_a_parquet_file_over_the_row_limit_from_its_metadata(settings, tmp_path):
    import numpy as np
    import pyarrow as pa

    from bakery.config import load_settings

    small = load_settings(home=settings.home, overrides={"ingest": {"max_rows": 1000}})
    rows = pa.DictionaryArray.from_arrays(pa.array(np.zeros(5000, dtype=np.int32)), pa.array(["1"]))
    bomb = tmp_path / "bomb.parquet"
    pq.write_table(pa.table(dict.fromkeys(("date", "store_id", "product_id", "quantity_sold"), rows)), bomb)
    result = import_file(small, "sales", bomb, today=TODAY)
    assert not result.accepted and result.reason.startswith("file:too_many_rows")
    assert "5000 rows (Parquet metadata)" in result.reason and "ingest.max_rows=1000" in result.reason
    assert json.loads(result.report_path.read_text())["totals"]["rows_written"] == 0
    assert _landed(small, "sales") == []


ITEMS = {"shape": "items", "date": "Date", "item": "Item", "store_id": "S1"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"store_id": "S01\n"}, "give store_id"),
        ({"exclude": 5}, "exclude must be a list"),
        ({"date": ["Date"]}, "date must be text"),
        ({"quantiy": "Qty"}, "unknown key 'quantiy'"),
        ({"date_format": "%Q"}, "date_format"),
    ],
)
def test_a_shape_of_the_wrong_form_is_a_rejection_naming_the_key(settings, tmp_path, change, message):
    src = _write(tmp_path / "items.csv", "Date,Item,Qty\n2026-03-01,Pan,2\n")
    result = import_file(settings, "sales", src, shape={**ITEMS, **change}, today=TODAY)
    assert not result.accepted and result.reason.startswith("file:shape: shape:") and message in result.reason


def test_a_shape_refuses_a_cell_over_the_length_limit_by_row_and_column(settings, tmp_path):
    src = _write(tmp_path / "items.csv", f"Date,Item\n2026-03-01,Pan\n2026-03-01,{'P' * 600}\n")
    shape = {"shape": "items", "date": "Date", "item": "Item", "store_id": "S1"}
    result = import_file(settings, "sales", src, shape=shape, today=TODAY)
    assert not result.accepted and "row 2, column 'Item': a value of 600 characters" in result.reason
