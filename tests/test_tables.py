"""The table catalog: every table declared once, with a schema and keys, and spelled nowhere else in src/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bakery import tables
from bakery.config import conf_file, load_settings, parse_sources, read_yaml
from bakery.gold.dictionary import load_dictionary
from bakery.tables import LAYERS, TABLES, Table, all_tables, arrow_schema, source_table

SRC = Path(__file__).resolve().parents[1] / "src" / "bakery"
CATALOG = SRC / "tables.py"
SOURCES = parse_sources(read_yaml(conf_file(None, "sources.yml")))


@pytest.mark.parametrize("table", all_tables(SOURCES.values()), ids=str)
def test_every_table_has_a_schema_keys_and_a_date_column_among_its_columns(table: Table) -> None:
    assert table.layer in LAYERS
    assert table.fields, f"{table} has no columns"
    assert table.keys, f"{table} has no keys"
    assert set(table.keys) <= set(table.columns)
    assert table.date_column is None or table.date_column in table.columns
    assert len(set(table.columns)) == len(table.columns), f"{table} repeats a column"


def test_addresses_are_unique_and_every_source_has_a_bronze_and_a_silver_table() -> None:
    everything = all_tables(SOURCES.values())
    assert len({t.address for t in everything}) == len(everything)
    for spec in SOURCES.values():
        for layer in ("bronze", "silver"):
            assert tables.find(layer, spec.table, SOURCES.values()) is not None


@pytest.mark.parametrize("kind", ["stores", "products", "events"])
def test_source_tables_the_catalog_spells_match_sources_yml(kind: str) -> None:
    declared = source_table("silver", SOURCES[kind])
    spelled = next(t for t in TABLES if t.address == declared.address)
    assert (spelled.schema, spelled.keys, spelled.date_column) == (
        declared.schema,
        declared.keys,
        declared.date_column,
    )


def test_a_table_addresses_like_its_layer_name_pair() -> None:
    layer, name = tables.FORECASTS
    assert (layer, name) == ("gold", "forecasts") == tables.FORECASTS.address
    assert {tables.FORECASTS: 1}[("gold", "forecasts")] == 1
    assert str(tables.FORECASTS) == "gold.forecasts"


def test_schemas_render_for_arrow_with_nullability() -> None:
    schema = arrow_schema(tables.RUNS)
    assert schema.names == tables.RUNS.columns
    assert not schema.field("run_id").nullable and schema.field("finished").nullable


def test_a_bad_declaration_is_refused_naming_the_table() -> None:
    with pytest.raises(ValueError, match="gold.x: keys \\['nope'\\]"):
        Table("gold", "x", "a string", keys=("nope",))
    with pytest.raises(ValueError, match="unknown layer 'platinum'"):
        Table("platinum", "x", "a string", keys=("a",))


def test_the_data_dictionary_describes_only_catalog_tables(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    catalog = {t.address for t in all_tables(settings.sources.values())}
    assert set(load_dictionary(settings).documented_tables()) <= catalog


def _literal_addresses(text: str, where: str) -> list[str]:
    """Table addresses spelled as literals: ("gold", "forecasts") as a tuple or as the first two arguments of
    a call, or the string "gold.forecasts" naming a catalog table."""
    dotted = {str(t) for t in all_tables(SOURCES.values())}
    found = []
    for node in ast.walk(ast.parse(text)):
        pairs = []
        if isinstance(node, ast.Tuple | ast.List):
            pairs.append(node.elts[:2])
        elif isinstance(node, ast.Call):
            pairs.append(node.args[:2])
        for pair in pairs:
            strings = len(pair) == 2 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in pair
            )
            if (
                strings and pair[0].value in LAYERS and pair[1].value not in LAYERS
            ):  # not {"gold": "gold"}.get
                found.append(f"{where}:{node.lineno}: {pair[0].value}.{pair[1].value}")
        if isinstance(node, ast.Constant) and node.value in dotted:
            found.append(f"{where}:{node.lineno}: {node.value!r}")
    return found


def test_no_module_outside_the_catalog_spells_a_table_address() -> None:
    found = [
        hit
        for path in sorted(SRC.rglob("*.py"))
        if path != CATALOG
        for hit in _literal_addresses(path.read_text(encoding="utf-8"), str(path.relative_to(SRC)))
    ]
    assert not found, "table addresses belong in bakery/tables.py:\n" + "\n".join(found)


def test_the_address_check_finds_what_it_looks_for() -> None:
    probe = 'T = ("ops", "runs")\nlh.read("gold", "forecasts")\nx = "silver.stores"\ny = settings.get("gold.window")\n'
    assert [hit.split(": ")[1] for hit in _literal_addresses(probe, "probe")] == [
        "ops.runs",
        "gold.forecasts",
        "'silver.stores'",
    ]
