"""Downloadable templates: header plus one typed example row that itself passes validation."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook

from bakery.ingest.importer import import_file
from bakery.ingest.readers import read_file
from bakery.ingest.templates import write_template
from bakery.ingest.validate import validate_raw

TODAY = dt.date(2026, 5, 1)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_every_template_has_the_spec_header_and_a_valid_example(settings, tmp_path, suffix):
    for kind, spec in settings.sources.items():
        path = write_template(kind, tmp_path / f"{kind}{suffix}", settings, today=TODAY)
        raw = read_file(path, exact=True)
        assert raw.headers == spec.column_names
        report = validate_raw(raw, spec, today=TODAY)
        assert report.fatal is None and report.errors == [], (kind, report.errors)
        assert len(report.rows) == 1


def test_xlsx_template_has_typed_cells_and_a_column_guide(settings, tmp_path):
    path = write_template("sales", tmp_path / "sales.xlsx", settings, today=TODAY)
    wb = load_workbook(path)
    sheet = wb["sales"]
    assert isinstance(sheet["A2"].value, dt.datetime) and sheet["A2"].number_format == "yyyy-mm-dd"
    assert isinstance(sheet["D2"].value, int | float)
    assert [c.value for c in wb["columns"][3]][:3] == ["store_id", "string", "yes"]


def test_filled_template_imports(settings, tmp_path):
    path = write_template("weather", tmp_path / "weather.csv", settings, today=TODAY)
    assert import_file(settings, "weather", path, today=TODAY).accepted


def test_template_needs_csv_or_xlsx(settings, tmp_path):
    with pytest.raises(ValueError, match=r"\.csv or \.xlsx"):
        write_template("sales", tmp_path / "sales.txt", settings)
