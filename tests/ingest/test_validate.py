"""Pure-pandas template validation and column auto-mapping (what import and the upload page rely on)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from bakery.ingest.mapping import load_synonyms, map_columns, normalize_header
from bakery.ingest.validate import validate_frame

TODAY = dt.date(2026, 5, 1)


def _frame(columns: dict[str, list]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.Index(range(1, n + 1), name="row"), dtype=object)


def test_headers_match_ignoring_case_spaces_accents_and_punctuation():
    assert normalize_header(" Store ID ") == normalize_header("store_id") == "store_id"
    assert (
        normalize_header("Stück") == "stuck" and normalize_header("\ufeffFecha de venta") == "fecha_de_venta"
    )


@pytest.mark.parametrize(
    "headers",
    [
        ["Datum", "Filiale", "Artikel", "Menge"],
        ["Fecha", "Tienda", "Producto", "Cantidad"],
        ["DATE", "Store Id", "product-id", "Quantity Sold"],
    ],
)
def test_german_spanish_and_english_headers_auto_map(settings, headers):
    cm = map_columns(headers, settings.source("sales"), load_synonyms(settings))
    assert cm.source_names() == dict(
        zip(["date", "store_id", "product_id", "quantity_sold"], headers, strict=True)
    )
    assert cm.missing_required == []


def test_explicit_mapping_wins_and_bad_mappings_are_named(settings):
    spec, syn = settings.source("sales"), load_synonyms(settings)
    cm = map_columns(["Datum", "Menge", "Umsatz"], spec, syn, {"quantity_sold": "umsatz", "revenue": None})
    assert cm.source_names() == {"date": "Datum", "quantity_sold": "Umsatz"}
    assert [cm.headers[i] for i in cm.unmapped] == ["Menge"]
    cm = map_columns(["Datum"], spec, syn, {"quantity": "Datum", "store_id": "Filiale"})
    assert "'quantity', which is not a column of the sales template" in cm.problems[0]
    assert "store_id <- 'Filiale', but the file has no such column" in cm.problems[1]


def test_errors_name_row_column_and_reason(settings):
    df = _frame(
        {
            "Datum": ["2026-01-01", "01.02.2026", "2026-01-03", "2026-06-01", "2026-01-05", None],
            "Filiale": ["S01", "S01", "S01", "S01", "S01", "S01"],
            "Artikel": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "Menge": ["1,5", "2", "-3", "4", "1.234,5", "2"],
            "Kommentar": ["x", "", "", "", "", ""],
        }
    )
    report = validate_frame(df, settings.source("sales"), today=TODAY)
    got = [(e.row, e.column, e.rule) for e in report.errors]
    assert got == [
        (2, "date", "type:date"),
        (3, "quantity_sold", "range:quantity_sold"),
        (4, "date", "future_date:date"),
        (5, "quantity_sold", "type:quantity_sold"),
        (6, "date", "not_null:date"),
    ]
    assert "'01.02.2026' is not a date as YYYY-MM-DD" in report.errors[0].reason
    assert report.ignored_columns == ["Kommentar"]
    assert report.invalid_rows == [2, 3, 4, 5, 6] and report.error_rate == pytest.approx(5 / 6)
    assert report.rows.to_dict("records") == [
        {
            "date": "2026-01-01",
            "store_id": "S01",
            "product_id": "P1",
            "quantity_sold": "1.5",
            "revenue": None,
            "promotion_id": None,
        }
    ]


def test_events_may_lie_ahead_up_to_max_future_days(settings):
    df = _frame(
        {
            "event_date_start": ["2027-06-01", "2029-01-01"],
            "event_date_end": ["2027-06-02", "2029-01-02"],
            "event_name": ["Fiesta", "Far"],
            "event_type": ["festival", "festival"],
            "scope": ["national", "S01"],
        }
    )
    report = validate_frame(df, settings.source("events"), today=TODAY)
    assert [(e.row, e.rule) for e in report.errors] == [(2, "future_date:event_date_start")]


def test_timestamps_patterns_and_enumerations(settings):
    df = _frame(
        {
            "store_id": ["S01", "S02", "S03"],
            "name": ["a", "b", "c"],
            "city": ["M", "M", "M"],
            "country": ["ES", "es", "DE"],
            "timezone": ["Europe/Madrid"] * 3,
            "store_type": ["Urban", "mall", "village"],
        }
    )
    report = validate_frame(df, settings.source("stores"), today=TODAY)
    assert [(e.row, e.rule) for e in report.errors] == [(2, "pattern:country"), (3, "values:store_type")]
    assert report.rows.loc[1, "store_type"] == "urban"
    ts = _frame(
        {
            "timestamp": ["2026-01-01T08:00:00+01:00", "2026-01-01 08:00", "yesterday"],
            "store_id": ["S01"] * 3,
            "foot_traffic_count": ["3", "4", "5"],
        }
    )
    report = validate_frame(ts, settings.source("traffic"), today=TODAY)
    assert [(e.row, e.rule) for e in report.errors] == [(3, "type:timestamp")]
    assert report.rows["timestamp"].tolist() == ["2026-01-01T08:00:00+01:00", "2026-01-01T08:00:00"]


@pytest.mark.parametrize(
    "mode,kept,skipped",
    [("skip", [1, 3], {2: "row 1", 4: "stored data"}), ("overwrite", [2, 3, 4], {1: "row 2"})],
)
def test_duplicates_in_file_and_against_stored_keys(settings, mode, kept, skipped):
    df = _frame(
        {
            "date": ["2026-01-01", "2026-01-01", "2026-01-02", "2026-01-03"],
            "store_id": ["S01"] * 4,
            "product_id": ["P1"] * 4,
            "quantity_sold": ["1", "1.0", "3", "4"],
        }
    )
    stored = {(dt.date(2026, 1, 3), "S01", "P1")}
    report = validate_frame(
        df, settings.source("sales"), today=TODAY, existing_keys=stored, on_duplicate=mode
    )
    assert report.rows.index.tolist() == kept
    assert {d.row: d.duplicate_of for d in report.duplicates if d.action == "skipped"} == skipped
    assert report.invalid_rows == []


def test_store_local_timestamps_compare_with_stored_utc_keys(settings):
    df = _frame(
        {
            "timestamp": ["2026-01-01T09:00:00", "2026-01-01T08:00:00Z"],
            "store_id": ["S01", "S01"],
            "foot_traffic_count": ["1", "1"],
        }
    )
    stored = {(dt.datetime(2026, 1, 1, 8, 0), "S01")}
    report = validate_frame(
        df,
        settings.source("traffic"),
        today=TODAY,
        existing_keys=stored,
        store_timezones={"S01": "Europe/Madrid"},
    )
    assert sorted(d.row for d in report.duplicates) == [1, 2]
    assert report.rows.empty


def test_missing_required_column_is_fatal_and_names_the_columns(settings):
    report = validate_frame(
        _frame({"Datum": ["2026-01-01"], "foo": ["1"]}), settings.source("sales"), today=TODAY
    )
    assert report.fatal.startswith("missing required column(s) store_id, product_id, quantity_sold")
    assert "'Datum', 'foo'" in report.fatal and report.error_rate == 1.0


@pytest.mark.parametrize(
    "text,number",
    [
        ("3,465", "3.465"),
        ("12,250", "12.25"),
        ("52,0", "52.0"),
        ("0,5", "0.5"),
        ("1,000", "1.0"),
        ("7.25", "7.25"),
    ],
)
def test_one_comma_between_digits_is_a_decimal_comma(settings, text, number):
    """No thousands separators are allowed, so `3,465` (kilograms to the gram) is 3.465, as `52,0` is 52."""
    df = _frame({"date": ["2026-01-01"], "store_id": ["S01"], "product_id": ["P1"], "quantity_sold": [text]})
    report = validate_frame(df, settings.source("sales"), today=TODAY)
    assert report.errors == [] and report.rows["quantity_sold"].tolist() == [number]


@pytest.mark.parametrize(
    "text,number",
    [
        ("0,90 €", "0.9"),
        ("€1.20", "1.2"),
        ("$ 3.5", "3.5"),
        ("1.20 EUR", "1.2"),
        ("12,5\u00a0€", "12.5"),
        ("₩4500", "4500.0"),
    ],
)
def test_a_price_with_a_currency_sign_or_code_is_a_number(settings, text, number):
    """Shops export prices as `0,90 €` (the French bakery data): the sign is dropped, the decimal comma read."""
    df = _frame(
        {
            "date": ["2026-01-01"],
            "store_id": ["S01"],
            "product_id": ["P1"],
            "quantity_sold": ["2"],
            "revenue": [text],
        }
    )
    report = validate_frame(df, settings.source("sales"), today=TODAY)
    assert report.errors == [] and report.rows["revenue"].tolist() == [number]


def test_a_currency_sign_without_a_number_is_still_refused(settings):
    df = _frame(
        {
            "date": ["2026-01-01"] * 2,
            "store_id": ["S01"] * 2,
            "product_id": ["P1", "P2"],
            "quantity_sold": ["2", "2"],
            "revenue": ["€", "1,20 € 3"],
        }
    )
    report = validate_frame(df, settings.source("sales"), today=TODAY)
    assert [(e.row, e.column) for e in report.errors] == [(1, "revenue"), (2, "revenue")]


@pytest.mark.parametrize(
    "values,bad",
    [
        (["1.234,5", "1,234,567", "1.2.3", "1,", ",5", "3,465"], [1, 2, 3, 4, 5]),
        (["2.5", "1,000", "1,25"], [2]),  # '.' decimals in the column: 1,000 may be a thousand
    ],
)
def test_malformed_or_ambiguous_numbers_are_named_with_the_rule(settings, values, bad):
    n = len(values)
    df = _frame(
        {
            "date": ["2026-01-01"] * n,
            "store_id": ["S01"] * n,
            "product_id": [f"P{i}" for i in range(n)],
            "quantity_sold": values,
        }
    )
    report = validate_frame(df, settings.source("sales"), today=TODAY)
    assert [(e.row, e.column, e.rule) for e in report.errors] == [
        (r, "quantity_sold", "type:quantity_sold") for r in bad
    ]
    assert report.errors[0].reason == (
        f"{values[bad[0] - 1]!r} is not a number ('.' or ',' decimals, no thousands separator)"
    )


def test_a_whole_number_column_refuses_a_comma_thousands_group(settings):
    df = _frame(
        {
            "product_id": ["P1", "P2"],
            "name": ["a", "b"],
            "category": ["bread"] * 2,
            "shelf_life_days": ["1,000", "3,0"],
        }
    )
    report = validate_frame(df, settings.source("products"), today=TODAY)
    assert [(e.row, e.rule) for e in report.errors] == [(1, "type:shelf_life_days")]
    assert "'1,000' is not a whole number (no thousands separator)" in report.errors[0].reason
    assert report.rows["shelf_life_days"].tolist() == ["3"]


def test_store_timezone_and_subdivision_are_checked_at_import(settings):
    df = _frame(
        {
            "store_id": ["TZ", "FR", "BAD", "US", "MD", "XK", "IE", "NS", "IDF"],
            "name": ["n"] * 9,
            "city": ["c"] * 9,
            "country": ["ES", "FR", "ES", "US", "ES", "XK", "IE", "ES", "FR"],
            "subdivision": ["ES-MD", "ES-MD", "MD", "US-CA", "ES-MD", "XK-01", "IE-D", None, "FR-IDF"],
            "timezone": [
                "Europe/Madird",
                "Europe/Paris",
                "Europe/Madrid",
                "America/Los_Angeles",
                "Europe/Madrid",
                "Europe/Belgrade",
                "Europe/Dublin",
                "Europe/Madrid",
                "Europe/Paris",
            ],
        }
    )
    report = validate_frame(df, settings.source("stores"), today=TODAY)
    got = {(e.row, e.column, e.rule): e.reason for e in report.errors}
    assert list(got) == [
        (1, "timezone", "timezone:timezone"),
        (2, "subdivision", "subdivision:subdivision"),
        (3, "subdivision", "pattern:subdivision"),
    ]
    assert (
        got[1, "timezone", "timezone:timezone"]
        == "'Europe/Madird' is not an IANA timezone (e.g. Europe/Madrid)"
    )
    assert "'ES-MD' is not a subdivision of country 'FR'" in got[2, "subdivision", "subdivision:subdivision"]
    assert (3, "subdivision", "pattern:subdivision") in got
    # Valid ISO 3166-2 codes pass whether or not the holidays package has regional holidays for them (FR-IDF).
    assert report.rows.index.tolist() == [4, 5, 6, 7, 8, 9]


def test_store_rules_skip_cells_that_already_failed(settings):
    df = _frame(
        {
            "store_id": ["S1"],
            "name": ["n"],
            "city": ["c"],
            "country": ["es"],
            "subdivision": ["ES-MD"],
            "timezone": ["Europe/Madrid"],
        }
    )
    report = validate_frame(df, settings.source("stores"), today=TODAY)
    assert [(e.row, e.rule) for e in report.errors] == [(1, "pattern:country")]


def test_an_event_may_not_end_before_it_starts(settings):
    df = _frame(
        {
            "event_date_start": ["2026-05-10", "2026-05-10", "2026-05-10"],
            "event_date_end": ["2026-05-08", "2026-05-10", "2026-05-12"],
            "event_name": ["Backwards", "One day", "Three days"],
            "event_type": ["festival"] * 3,
            "scope": ["S01", "national", "S01"],
        }
    )
    report = validate_frame(df, settings.source("events"), today=TODAY)
    assert [(e.row, e.column, e.rule, e.reason) for e in report.errors] == [
        (
            1,
            "event_date_end",
            "date_order:event_date_end",
            "'2026-05-08' is before event_date_start '2026-05-10'",
        )
    ]
    assert report.rows.index.tolist() == [2, 3]


@pytest.mark.parametrize("mode", ["skip", "overwrite"])
def test_rows_repeating_a_key_with_other_values_are_invalid_and_name_each_other(settings, mode):
    df = _frame(
        {
            "date": ["2026-04-01"] * 5,
            "store_id": ["LON1"] * 5,
            "product_id": ["SCONE", "SCONE", "BAGUETTE", "BUN", "BUN"],
            "quantity_sold": ["10", "12", "80", "3", "3,0"],
            "revenue": ["20", "20", None, "6", "6"],
        }
    )
    report = validate_frame(df, settings.source("sales"), today=TODAY, on_duplicate=mode)
    assert [(e.row, e.column, e.rule) for e in report.errors] == [
        (1, "quantity_sold", "duplicate_conflict"),
        (2, "quantity_sold", "duplicate_conflict"),
    ]
    assert report.errors[1].reason == (
        "same key (date '2026-04-01', store_id 'LON1', product_id 'SCONE') as row 1 "
        "with different values: quantity_sold '12' here, '10' in row 1"
    )
    assert report.invalid_rows == [1, 2] and report.error_rate == pytest.approx(2 / 5)
    # identical values (3 and 3,0 are both 3.0) are a duplicate, skipped as before
    assert [(d.row, d.action) for d in report.duplicates] == [
        (5, "skipped") if mode == "skip" else (4, "skipped")
    ]
    assert report.rows.index.tolist() == [3, 4 if mode == "skip" else 5]


def test_a_conflict_names_every_differing_column_and_the_other_rows(settings):
    df = _frame(
        {
            "date": ["2026-04-01"] * 3,
            "store_id": ["S01"] * 3,
            "product_id": ["P1"] * 3,
            "quantity_sold": ["1", "2", "2"],
            "revenue": ["1", "2", "3"],
        }
    )
    report = validate_frame(df, settings.source("sales"), today=TODAY)
    assert report.errors[0].reason.endswith(
        "as rows 2, 3 with different values: quantity_sold '1' here, '2' in "
        "row 2, '2' in row 3; revenue '1' here, '2' in row 2, '3' in row 3"
    )


def test_a_fatal_file_reports_no_row_as_valid(settings):
    df = _frame(
        {"Datum": ["2026-01-01"] * 3, "Filiale": ["S01"] * 3, "Artikel": ["P1"] * 3, "Menge": ["1"] * 3}
    )
    report = validate_frame(df, settings.source("sales"), {"quantity_sold": "Mengex"}, today=TODAY)
    assert "mapping says quantity_sold <- 'Mengex', but the file has no such column" in report.fatal
    totals = report.totals()
    assert (totals["rows"], totals["valid_rows"], totals["invalid_rows"], totals["error_rate"]) == (
        3,
        0,
        0,
        None,
    )


def test_a_cell_longer_than_the_limit_is_refused_by_row_and_column_before_any_pattern_reads_it(settings):
    """The attack: a quantity of `1`, 2,000 spaces and `x` took 8.9 s to reject (cubic backtracking)."""
    from bakery.ingest.readers import read_bytes
    from bakery.ingest.validate import validate_raw

    data = (
        f"date,store_id,product_id,quantity_sold\n2026-03-01,S01,P1,2\n2026-03-01,S01,P2,1{' ' * 2000}x\n"
    ).encode()
    report = validate_raw(read_bytes(data, "csv"), settings.source("sales"), today=TODAY)
    [error] = report.errors
    assert (error.row, error.line, error.column) == (2, 3, "quantity_sold")
    assert error.rule == "too_long:quantity_sold"
    assert "2002 characters" in error.reason and "ingest.max_cell_chars" in error.reason
    assert list(report.rows["product_id"]) == ["P1"]


def test_prices_with_a_currency_parse_in_linear_time_whatever_the_padding():
    from bakery.ingest.validate import parse_numbers, strip_currency

    assert strip_currency("\u00a0 EUR  12,50 ") == "12,50" and strip_currency("1 € €") == "1 €"
    cells = ["1" + " " * 200_000 + "x", "€" + " " * 200_000 + "2", " " * 200_000]
    assert parse_numbers(pd.Series(cells, dtype=object)) == [None, 2.0, None]


@pytest.mark.parametrize("store", ["S001\n", "S0\t01", "S001\r"])
def test_an_id_holding_a_control_character_is_refused(settings, store):
    df = _frame(
        {
            "store_id": [store, "S002"],
            "name": ["a", "b"],
            "city": ["Madrid"] * 2,
            "country": ["ES"] * 2,
            "timezone": ["Europe/Madrid"] * 2,
        }
    )
    report = validate_frame(df, settings.source("stores"), today=TODAY)
    assert [(e.row, e.column, e.rule) for e in report.errors] == [(1, "store_id", "id:store_id")]
    assert list(report.rows["store_id"]) == ["S002"]


def test_a_long_value_in_a_mapping_problem_is_cut_short(settings):
    cm = map_columns(
        ["Datum"],
        settings.source("sales"),
        load_synonyms(settings),
        {"x" * 10_000: "Datum", "store_id": "y" * 10_000},
    )
    assert all(len(p) < 400 for p in cm.problems) and len(cm.problems) == 2
