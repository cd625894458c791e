"""Landing -> bronze: raw text rows with lineage, each file taken once, bad files quarantined, crash-safe."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from bakery.ingest.bronze import ingest_landing
from bakery.ingest.pseudonymise import is_pseudonym, load_pseudonym_key, pseudonym

STORES_CSV = (
    "\ufeffStore_ID,Name,City,Country,Timezone,Manager\r\n"
    "S01,Centro,Madrid,ES,Europe/Madrid,Ana\r\n\r\n"
    "S02,Norte,Madrid,ES\r\n"
    'S03,"Sur, Plaza",Sevilla,ES,Europe/Madrid,\r\n'
).encode()


def _put(settings, rel: str, data: bytes) -> Path:
    path = settings.landing_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _rows(lh, table: str) -> list[dict]:
    return [r.asDict() for r in lh.read("bronze", table).orderBy("_source_file", "_row_number").collect()]


def _table_versions(lh) -> dict[str, int | None]:
    return lh.versions((t.layer, t.name) for t in lh.list_tables())


def test_every_format_lands_as_raw_text_with_lineage_and_a_rerun_commits_nothing(lh, settings):
    _put(settings, "stores/stores.csv", STORES_CSV)
    _put(
        settings,
        "products/products.json",
        b'{"product_id": "P1", "name": "Baguette", "category": "bread", "unit_price": 1.2}\n'
        b'{"product_id": "P2", "name": "Croissant", "category": "pastry", "shelf_life_days": 2}\n',
    )
    _put(
        settings,
        "traffic/2026/traffic_01.parquet",
        _parquet(
            pa.table(
                {
                    "timestamp": pa.array([dt.datetime(2026, 1, 2, 9)], pa.timestamp("us", tz="UTC")),
                    "store_id": ["S01"],
                    "foot_traffic_count": [12],
                }
            )
        ),
    )
    _put(
        settings,
        "ingredients/ingredients.xlsx",
        _xlsx(
            [
                ["timestamp", "ingredient_id", "ingredient_name", "price_per_unit"],
                ["2026-01-02T08:00:00", "ING01", "Harina", 0.85],
            ]
        ),
    )
    result = ingest_landing(lh, settings, "batch-1")
    assert result.ok and not result.rejected
    assert {k: (s.files_ingested, s.rows) for k, s in result.sources.items()} == {
        "stores": (1, 3),
        "products": (1, 2),
        "traffic": (1, 1),
        "ingredients": (1, 1),
    }

    stores = _rows(lh, "stores")
    assert [(r["store_id"], r["name"], r["timezone"]) for r in stores] == [
        ("S01", "Centro", "Europe/Madrid"),
        ("S02", "Norte", None),
        ("S03", "Sur, Plaza", "Europe/Madrid"),
    ]
    assert [r["_row_number"] for r in stores] == [1, 2, 3]
    # an unknown column is rescued; a manager's name is personal, so only its pseudonym is kept
    key = load_pseudonym_key(settings)
    assert json.loads(stores[0]["_rescued_data"]) == {"Manager": pseudonym("Ana", key)}
    assert stores[2]["_rescued_data"] is None
    assert stores[1]["_malformed"] == "expected 6 fields, found 4"
    assert json.loads(stores[1]["_rescued_data"]) == {"_raw": "S02,Norte,Madrid,ES"}
    assert stores[0]["_source_file"] == "stores/stores.csv"
    assert stores[0]["_file_hash"] == hashlib.sha256(STORES_CSV).hexdigest()
    assert stores[0]["_batch_id"] == "batch-1" and isinstance(stores[0]["_ingested_at"], dt.datetime)
    assert all(
        f.dataType.simpleString() == "string"
        for f in lh.read("bronze", "stores").schema.fields
        if f.name not in ("_row_number", "_ingested_at")
    )

    products = _rows(lh, "products")
    assert [(r["product_id"], r["unit_price"], r["shelf_life_days"]) for r in products] == [
        ("P1", "1.2", None),
        ("P2", None, "2"),
    ]
    [traffic] = _rows(lh, "foot_traffic")
    assert (traffic["timestamp"], traffic["foot_traffic_count"]) == ("2026-01-02T09:00:00+00:00", "12")
    assert traffic["_source_file"] == "traffic/2026/traffic_01.parquet"
    [ingredient] = _rows(lh, "ingredients")
    assert (ingredient["ingredient_name"], ingredient["price_per_unit"], ingredient["store_id"]) == (
        "Harina",
        "0.85",
        None,
    )

    files = {r.source_file: r for r in lh.read("ops", "ingested_files").collect()}
    assert files["stores/stores.csv"].status == "ingested" and files["stores/stores.csv"].rows == 3
    assert files["stores/stores.csv"].size_bytes == len(STORES_CSV)

    before = _table_versions(lh)  # a rerun takes nothing and commits nothing
    again = ingest_landing(lh, settings, "batch-2")
    assert again.rows == 0 and _table_versions(lh) == before


def test_bad_files_are_quarantined_with_a_reason_while_the_rest_flows(lh, settings):
    xlsx = _xlsx([["date", "store_id"], ["2026-01-01", "S01"]])
    good = _parquet(pa.table({"date": ["2026-01-01"], "store_id": ["S01"]}))
    bad = {
        "weather/empty.csv": (b"", "file:empty"),
        "weather/photo.csv": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "file:binary"),
        "weather/mangled.csv": (b"date,store_id\n2026-01-01,S\x81\x8d1\n", "file:encoding"),
        "weather/cut.xlsx": (xlsx[: len(xlsx) // 2], "file:unreadable"),
        "weather/cut.parquet": (good[:-20], "file:unreadable"),
        "weather/nocols.csv": (b"fecha_x,tienda_y\n2026-01-01,S01\n", "file:missing_columns"),
        "weather/old.xls": (b"\xd0\xcf\x11\xe0", "file:unsupported_format"),
    }
    for rel, (data, _) in bad.items():
        _put(settings, rel, data)
    _put(settings, "weather/good.csv", b"Fecha;Tienda;Temperatura\n2026-01-01;S01;12,5\n")
    _put(settings, "weather/_late/late.csv", b"date,store_id\n2026-01-02,S01\n")
    _put(settings, "weather/.partial.csv.tmp", b"date,store_id\n")
    result = ingest_landing(lh, settings, "b1")
    assert result.ok
    assert {r["source_file"]: r["rule"] for r in result.rejected} == {k: v[1] for k, v in bad.items()}
    [row] = _rows(lh, "weather")
    assert (row["date"], row["store_id"], row["temperature"]) == ("2026-01-01", "S01", "12,5")
    quarantined = {r.source_file: r for r in lh.read("ops", "quarantine").collect()}
    assert {k: r.rule for k, r in quarantined.items()} == {k: v[1] for k, v in bad.items()}
    assert "missing required column(s) date, store_id" in quarantined["weather/nocols.csv"].reason
    statuses = {r.source_file: r.status for r in lh.read("ops", "ingested_files").collect()}
    assert statuses == {**dict.fromkeys(bad, "rejected"), "weather/good.csv": "ingested"}
    assert any("REJECTED" in line for line in result.summary_lines())


def test_changed_file_is_a_new_version_and_a_renamed_copy_is_a_new_file(lh, settings):
    path = _put(settings, "stores/stores.csv", STORES_CSV)
    _put(settings, "weather/empty.csv", b"")
    ingest_landing(lh, settings, "b1")
    path.write_bytes(STORES_CSV.replace(b"Centro", b"Centro Historico"))
    _put(settings, "stores/stores_copy.csv", STORES_CSV)
    result = ingest_landing(lh, settings, "b2")
    assert result.sources["stores"].files_ingested == 2 and result.rows == 6
    assert not result.rejected  # the rejected empty file is not retried while it stays the same
    rows = lh.read("bronze", "stores").where("_row_number = 1").collect()
    assert sorted((r._source_file, r.name, r._batch_id) for r in rows) == [
        ("stores/stores.csv", "Centro", "b1"),
        ("stores/stores.csv", "Centro Historico", "b2"),
        ("stores/stores_copy.csv", "Centro", "b2"),
    ]


def test_crash_between_bronze_commit_and_file_record_adds_no_duplicates(lh, settings):
    """The bronze append commits, then the run dies before ops.ingested_files is written."""
    from bakery.ingest import bronze
    from bakery.ingest.landing import scan_kind
    from bakery.ingest.mapping import load_synonyms

    _put(settings, "stores/stores.csv", STORES_CSV)
    staging = settings.landing_dir / "_staging" / "b1"
    staging.mkdir(parents=True)
    files = scan_kind(settings, "stores")
    batch = bronze._stage_source(
        lh, settings, files, settings.source("stores"), "b1", staging, set(), load_synonyms(settings)
    )
    bronze._append_bronze(lh, batch, "b1")  # step 1 done; step 2 (the record) never happens
    assert not lh.exists("ops", "ingested_files")

    result = ingest_landing(lh, settings, "b2")
    assert result.rows == 0 and result.sources["stores"].files_recovered == 1
    assert lh.read("bronze", "stores").count() == 3
    [record] = lh.read("ops", "ingested_files").collect()
    assert (record.status, record.rows) == ("ingested", 3) and record.reason.startswith("recovered")
    assert not (settings.landing_dir / "_staging").exists()


@pytest.mark.slow
def test_sigkill_before_the_file_records_then_rerun_matches_a_clean_run(lh, settings):
    _put(settings, "stores/stores.csv", STORES_CSV)
    _put(settings, "products/p.csv", b"product_id,name,category\nP1,Pan,bread\nP2,Bollo,pastry\n")
    _put(settings, "weather/empty.csv", b"")
    script = textwrap.dedent(f"""
        from bakery.config import load_settings
        from bakery.lakehouse import Lakehouse
        from bakery.spark import get_spark
        from bakery.ingest.bronze import ingest_landing
        s = load_settings(home={str(settings.home)!r}, overrides={{"spark": {{"shuffle_partitions": 2}}}})
        ingest_landing(Lakehouse(get_spark(s), s), s, "killed")
    """)
    env = {**os.environ, "BAKERY_FAULT_POINT": "bronze_before_records"}
    killed = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert lh.read("bronze", "stores").count() == 3 and not lh.exists("ops", "ingested_files")

    result = ingest_landing(lh, settings, "rerun")
    assert result.rows == 0 and result.sources["stores"].files_recovered == 1
    assert lh.read("bronze", "stores").count() == 3 and lh.read("bronze", "products").count() == 2
    statuses = sorted((r.source_file, r.status) for r in lh.read("ops", "ingested_files").collect())
    assert statuses == [
        ("products/p.csv", "ingested"),
        ("stores/stores.csv", "ingested"),
        ("weather/empty.csv", "rejected"),
    ]


def test_imported_file_is_taken_by_the_next_ingest(lh, settings, tmp_path):
    from bakery.ingest.importer import import_file

    src = tmp_path / "ventas.csv"
    src.write_text("fecha,tienda,producto,cantidad\n2026-03-01,S01,P1,2,5\n2026-03-01,S01,P2,3\n")
    result = import_file(settings, "sales", src, max_error_rate=0.5, today=dt.date(2026, 5, 1))
    assert result.accepted
    ingest_landing(lh, settings, "b1")
    [row] = _rows(lh, "daily_sales_uploads")
    assert (row["product_id"], row["quantity_sold"], row["_malformed"]) == ("P2", "3.0", None)
    assert row["_source_file"] == f"sales/{result.landing_path.name}"


@pytest.mark.slow
def test_small_demo_lands_every_source_and_finds_each_malformed_line(lh, small_home, small_demo):
    import pandas as pd

    result = ingest_landing(lh, small_home, "demo")
    assert not result.rejected, result.rejected
    for kind, spec in small_home.sources.items():
        if kind != "sales":  # uploads only arrive through `bakery import`
            assert (
                result.sources[kind].rows > 0
                and lh.read("bronze", spec.table).count() == result.sources[kind].rows
            )
    defects = pd.read_csv(small_demo.defects_path)
    expected = defects[(defects.defect == "malformed_field_count") & ~defects.file.str.startswith("_")]
    found = (
        lh.read("bronze", "pos_transactions")
        .where("_malformed IS NOT NULL")
        .select("_source_file", "_row_number")
    )
    assert sorted(map(tuple, found.collect())) == sorted(
        zip(expected.file, expected.row_number.astype(int), strict=True)
    )


# ---- poisoned files: refused before they are decoded, quarantined once -----------------------------------
def _dictionary_parquet(rows: int, value: str, columns: tuple[str, ...]) -> bytes:
    """`rows` identical rows, dictionary-encoded: a few KB that decode to rows x len(value) bytes a column."""
    import numpy as np

    column = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), pa.array([value]))
    return _parquet(pa.table({c: column for c in columns}))


def _broken_xlsx() -> bytes:
    import zipfile

    good = _xlsx([["timestamp", "ingredient_id", "ingredient_name"], ["2026-01-02T08:00:00", "I1", "Harina"]])
    src, buf = zipfile.ZipFile(io.BytesIO(good)), io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            body = src.read(info)
            out.writestr(info, body[: len(body) // 2] if info.filename == "xl/workbook.xml" else body)
    return buf.getvalue()


def test_a_poisoned_landing_file_is_quarantined_once_and_the_rest_of_the_landing_zone_flows(lh, tmp_path):
    from bakery.config import load_settings

    settings = load_settings(
        home=tmp_path / "home", overrides={"ingest": {"max_rows": 100, "max_decoded_bytes": 2**20}}
    )
    columns = ("timestamp", "store_id", "foot_traffic_count")
    poisoned = {
        "traffic/rows_bomb.parquet": (_dictionary_parquet(5000, "1", columns), "file:too_many_rows"),
        "traffic/text_bomb.parquet": (
            _dictionary_parquet(90, "x" * 20_000, columns),
            "file:too_large_decoded",
        ),
        "ingredients/broken.xlsx": (_broken_xlsx(), "file:unreadable"),
    }
    for rel, (data, _) in poisoned.items():
        _put(settings, rel, data)
    header = b"timestamp,store_id,foot_traffic_count\n"
    _put(settings, "traffic/good.csv", header + b"2026-01-02T09:00:00Z,S01,12\n")
    first = ingest_landing(lh, settings, "b1")
    assert first.ok
    assert {r["source_file"]: r["rule"] for r in first.rejected} == {k: v[1] for k, v in poisoned.items()}
    assert "5000 rows (Parquet metadata)" in next(
        r["reason"] for r in first.rejected if r["source_file"] == "traffic/rows_bomb.parquet"
    )
    assert lh.read("bronze", "foot_traffic").count() == 1

    _put(settings, "traffic/good2.csv", header + b"2026-01-03T09:00:00Z,S01,7\n")
    second = ingest_landing(lh, settings, "b2")  # the next night: the poisoned files are not read again
    assert second.ok and second.rejected == [] and second.sources["traffic"].files_ingested == 1
    assert second.sources["traffic"].files_rejected == second.sources["ingredients"].files_rejected == 0
    assert lh.read("bronze", "foot_traffic").count() == 2
    quarantined = [(r.source_file, r.rule, r.batch_id) for r in lh.read("ops", "quarantine").collect()]
    assert sorted(quarantined) == sorted((k, v[1], "b1") for k, v in poisoned.items())
    records = [(r.source_file, r.status) for r in lh.read("ops", "ingested_files").collect()]
    assert sorted(records) == sorted(
        [
            *((k, "rejected") for k in poisoned),
            ("traffic/good.csv", "ingested"),
            ("traffic/good2.csv", "ingested"),
        ]
    )


# ---- personal data: pseudonymised before it is written ---------------------------------------------------
POS_HEADER = (
    "transaction_id,timestamp,store_id,product_id,quantity_sold,price_unit,total_amount,cashier_id,"
    "customer_email,Loyalty Card,note\n"
)


def test_personal_columns_of_a_pos_export_reach_bronze_only_as_stable_pseudonyms(lh, settings, monkeypatch):
    monkeypatch.delenv("BAKERY_PSEUDONYM_KEY", raising=False)
    first = (
        POS_HEADER
        + "T1,2026-01-02T08:00:00+01:00,S01,P1,1,1.2,1.2,CASH-017,ana.garcia@example.com,LC-99001,hola\n"
        + "T2,2026-01-02T08:05:00+01:00,S01,P2,2,0.9,1.8,CASH-018,bob@example.org,LC-99002,"
        + "llamar al +34 612 345 678\n"
        + "T3,2026-01-02T08:09:00+01:00,S01,P1,1,1.2,1.2,CASH-017,ana.garcia@example.com,LC-99001,x,"
        + "carla@example.net\n"
    )
    second = (
        POS_HEADER
        + "T4,2026-01-03T08:00:00+01:00,S01,P1,1,1.2,1.2,CASH-017,ana.garcia@example.com,LC-99001,\n"
    )
    _put(settings, "pos/pos_day1.csv", first.encode())
    _put(settings, "pos/pos_day2.csv", second.encode())
    result = ingest_landing(lh, settings, "b1")
    assert result.ok and not result.rejected and result.sources["pos"].rows == 4

    personal = [
        "CASH-017",
        "CASH-018",
        "ana.garcia@example.com",
        "bob@example.org",
        "LC-99001",
        "LC-99002",
        "612 345 678",
        "carla@example.net",
        "hola",
    ]
    rows = _rows(lh, "pos_transactions")
    text = json.dumps(rows, default=str)
    assert [value for value in personal if value in text] == []
    key = load_pseudonym_key(settings)
    rescued = [json.loads(r["_rescued_data"]) for r in rows]
    assert rescued[0] == {
        "cashier_id": pseudonym("CASH-017", key),
        "customer_email": pseudonym("ana.garcia@example.com", key),
        "Loyalty Card": pseudonym("LC-99001", key),
        "note": pseudonym("hola", key),
    }
    # the same person gets the same pseudonym in both files, so counts and joins still work
    assert rescued[3]["cashier_id"] == rescued[0]["cashier_id"] == rescued[2]["cashier_id"]
    assert rescued[3]["customer_email"] == rescued[0]["customer_email"] != rescued[1]["customer_email"]
    assert all(is_pseudonym(v) for r in rescued for k, v in r.items() if k != "_raw")
    # the malformed row keeps its raw text for diagnosis, with the personal fields replaced
    assert rows[2]["_malformed"] == "expected 11 fields, found 12"
    assert rescued[2]["_raw"].startswith("T3,2026-01-02T08:09:00+01:00,S01,P1,1,1.2,1.2,")
    assert pseudonym("carla@example.net", key) in rescued[2]["_raw"]
    kept = [(r["transaction_id"], r["product_id"], r["quantity_sold"]) for r in rows[:2]]
    assert kept == [("T1", "P1", "1"), ("T2", "P2", "2")]
    key_file = settings.home / "secrets" / "pseudonym_key"
    assert key_file.is_file() and (key_file.stat().st_mode & 0o777) == 0o600
