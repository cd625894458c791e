"""The data dictionary: every column described, comments in Delta, markdown rendered, reruns commit nothing."""

from __future__ import annotations

from pathlib import Path

from bakery.gold.dictionary import load_dictionary, write_dictionary

BRONZE_META = (
    "_rescued_data",
    "_malformed",
    "_source_file",
    "_file_hash",
    "_row_number",
    "_ingested_at",
    "_batch_id",
)
SILVER_LINEAGE = ("_source_file", "_batch_id", "_ingested_at", "local_date")


def _described(lh, layer, name) -> tuple[str | None, dict[str, str | None]]:
    rows = lh.spark.sql(f"DESCRIBE TABLE EXTENDED {lh.identifier(layer, name)}").collect()
    table = next((r.data_type for r in rows if r.col_name == "Comment"), None)
    return table, {f.name: f.metadata.get("comment") for f in lh.read(layer, name).schema.fields}


def test_every_gold_column_is_described_in_delta_and_in_the_markdown(gold_home):
    lh, settings = gold_home
    text = (settings.reports_dir / "data_dictionary.md").read_text()
    for name in ("daily_sales", "features"):
        table, columns = _described(lh, "gold", name)
        assert table, f"gold.{name} has no table comment"
        assert not [c for c, comment in columns.items() if not comment], f"gold.{name}: undescribed columns"
        section = text.split(f"### gold.{name}\n", 1)[1].split("\n### ", 1)[0]
        assert all(f"| `{c}` |" in section for c in columns)
        assert "_undocumented_" not in section


def test_other_layers_are_commented_too(gold_home):
    lh, _ = gold_home
    table, columns = _described(lh, "silver", "pos_transactions")
    assert table.startswith("Point-of-sale transaction lines")
    assert columns["quantity_sold"].startswith("Units of the product") and columns["local_date"]
    assert _described(lh, "silver", "inventory_daily")[1]["stockout"].startswith(
        "True when the day had sales"
    )


def test_every_source_column_is_described_for_bronze_and_silver(settings):
    dictionary = load_dictionary(settings)
    missing = []
    for spec in settings.sources.values():
        for layer, extra in (("bronze", BRONZE_META), ("silver", SILVER_LINEAGE)):
            if not dictionary.table(layer, spec.table):
                missing.append(f"{layer}.{spec.table}")
            missing += [
                f"{layer}.{spec.table}.{c}"
                for c in (*spec.column_names, *extra)
                if not dictionary.column(layer, spec.table, c)
            ]
    assert not missing


def test_configured_lags_windows_and_fourier_orders_are_described(settings):
    dictionary = load_dictionary(settings)
    assert dictionary.column("gold", "features", "lag_14").startswith("Target of day d-14 ")
    assert "d-90..d-1" in dictionary.column("gold", "features", "rmean_90")
    assert "cos(2*pi*10*t/365.25)" in dictionary.column("gold", "features", "yearly_cos_10")
    assert dictionary.column("gold", "features", "temperature").startswith("Mean air temperature")


def test_tables_not_created_yet_are_listed_and_unknown_ones_reported(lh, settings, tmp_path: Path):
    lh.overwrite(lh.spark.createDataFrame([(1, "x")], "a int, store_id string"), "ops", "mystery")
    out = tmp_path / "dictionary.md"
    result = write_dictionary(lh, settings, out=out)
    text = out.read_text()
    assert "### gold.features (not created yet" in text and "### ops.mystery\n" in text
    assert {"ops.mystery", "ops.mystery.a"} <= set(result.undocumented)
    assert "ops.mystery.store_id" not in result.undocumented
    assert write_dictionary(lh, settings, out=out).commented == []
