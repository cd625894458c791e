"""The upload module on top of bakery.ingest: mapping, preview, validation, threshold, batches, bad input, real files."""

from __future__ import annotations

import base64
import codecs
import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from werkzeug.exceptions import Forbidden

from bakery.app import audit, uploads
from bakery.app.auth import Principal
from bakery.app.db import UploadBatch
from bakery.ingest.readers import FileRejected
from bakery.ingest.reshape import ReshapeError, reshape
from bakery.ops.retrain import read_retrain_flag

ANA = Principal("ana", "analyst", frozenset(), 2)
MGR = Principal("mgr", "manager", frozenset({"S01"}), 3)
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
if not DATA.is_dir():
    DATA = Path("/work/shared/data")

GOOD = "date,store_id,product_id,quantity_sold\n2026-03-01,S01,P001,12\n2026-03-02,S01,P001,9\n"


def landed(settings, kind="sales") -> list[Path]:
    return (
        sorted((settings.landing_dir / kind).glob("import_*.parquet"))
        if (settings.landing_dir / kind).is_dir()
        else []
    )


def stage(ctx, text: str | bytes, name="ventas.csv", kind="sales", who=ANA):
    return uploads.stage(ctx, who, kind, name, text.encode() if isinstance(text, str) else text)


def load(ctx, staged, rate=0.0, mapping=None, shape=None, on_duplicate="skip", replaces=None):
    return uploads.commit(
        ctx,
        ANA,
        staged,
        mapping=mapping,
        shape=shape,
        on_duplicate=on_duplicate,
        max_error_rate=rate,
        replaces=replaces,
    )


# ---- mapping and preview ---------------------------------------------------------------------------------
def test_auto_mapping_by_synonyms_in_three_languages_and_extra_columns_ignored(ctx):
    text = "Fecha,Tienda,Artikel,Menge,Comentario\n2026-03-01,S01,P001,12,hola\n"
    st = stage(ctx, text)
    raw = uploads.parse(ctx, st)
    cm = uploads.auto_mapping(ctx, raw, "sales")
    assert cm.source_names() == {
        "date": "Fecha",
        "store_id": "Tienda",
        "product_id": "Artikel",
        "quantity_sold": "Menge",
    }
    assert [cm.headers[i] for i in cm.unmapped] == ["Comentario"]
    assert uploads.preview(raw, cm.source_names(), ["date", "quantity_sold"], 5) == [
        {"row": 1, "date": "2026-03-01", "quantity_sold": "12"}
    ]


def test_user_corrects_the_mapping(ctx, app_settings):
    text = "day,shop,item,units,sold_units\n2026-03-01,S01,P001,999,12\n"
    st = stage(ctx, text)
    auto = uploads.auto_mapping(ctx, uploads.parse(ctx, st), "sales").source_names()
    assert auto["quantity_sold"] == "units"
    result = load(ctx, st, mapping={"quantity_sold": "sold_units"})
    assert result["accepted"] and result["mapping"]["quantity_sold"] == "sold_units"
    assert pd.read_parquet(landed(app_settings)[0])["quantity_sold"].tolist() == ["12.0"]


# ---- validation, threshold, bad rows -----------------------------------------------------------------------
BAD = (
    "date,store_id,product_id,quantity_sold\n"
    "2026-03-01,S01,P001,12\n"
    "2026-13-01,S01,P001,5\n"
    "2099-01-01,S01,P002,-4\n"
    '2026-03-02,S01,=HYPERLINK("http://x"),abc\n'
)


def test_error_report_by_row_and_column_and_formula_safe_bad_rows(ctx):
    st = stage(ctx, BAD)
    report = uploads.validate(ctx, st, uploads.parse(ctx, st), None, "skip")
    errs = {(e.row, e.column, e.rule.split(":")[0]) for e in report.errors}
    assert errs == {
        (2, "date", "type"),
        (3, "date", "future_date"),
        (3, "quantity_sold", "range"),
        (4, "quantity_sold", "type"),
    }
    assert report.invalid_rows == [2, 3, 4] and all(e.line for e in report.errors)
    path = uploads.bad_rows_path(ctx, ANA, st.token)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["row"] for r in rows] == ["2", "3", "4"]
    assert rows[2]["product_id"].startswith("'=") and "quantity_sold" in rows[2]["reason"]
    with pytest.raises(Forbidden):
        uploads.bad_rows_path(ctx, Principal("other", "analyst", frozenset(), 9), st.token)


def test_threshold_decides_between_partial_load_and_rejection(ctx, app_settings):
    rejected = load(ctx, stage(ctx, BAD), rate=0.5)
    assert not rejected["accepted"] and landed(app_settings) == []
    assert "more than" in rejected["reason"]
    partial = load(ctx, stage(ctx, BAD), rate=0.8)
    assert partial["accepted"] and partial["totals"]["rows_written"] == 1
    assert pd.read_parquet(landed(app_settings)[0])["date"].tolist() == ["2026-03-01"]
    with ctx.db.session() as s:
        statuses = sorted(b.status for b in s.query(UploadBatch).all())
    assert statuses == ["accepted", "rejected"]


def test_duplicates_against_stored_data_skip_or_overwrite(ctx, app_settings):
    table = pa.table(
        {
            "date": pa.array([date(2026, 3, 1)], pa.date32()),
            "store_id": ["S01"],
            "product_id": ["P001"],
            "quantity_sold": [7.0],
        }
    )
    write_deltalake(str(app_settings.tables_dir / "silver" / "daily_sales_uploads"), table)
    skip = load(ctx, stage(ctx, GOOD), rate=0.0)
    assert (
        skip["accepted"]
        and skip["totals"]["duplicates_of_stored"] == 1
        and skip["totals"]["rows_written"] == 1
    )
    over = load(ctx, stage(ctx, GOOD), rate=0.0, on_duplicate="overwrite")
    assert over["totals"]["rows_written"] == 2


# ---- batches ----------------------------------------------------------------------------------------------
def test_accepted_upload_is_a_batch_with_metadata(ctx, app_settings):
    result = load(ctx, stage(ctx, GOOD, name="Ventas marzo.csv"))
    batch_id = result["batch_id"]
    keep = ctx.conf.uploads_dir / batch_id
    assert (keep / "original.csv").read_text() == GOOD
    meta = json.loads((keep / "batch.json").read_text())
    assert meta["uploaded_by"] == "ana" and meta["original_name"] == "Ventas marzo.csv"
    assert meta["validation"]["totals"]["rows_written"] == 2 and meta["landing_file"].startswith(
        "sales/import_"
    )
    log = DeltaTable(str(app_settings.tables_dir / "ops" / "upload_batches")).to_pandas()
    assert log[["batch_id", "status", "source_file"]].values.tolist() == [
        [batch_id, "accepted", meta["landing_file"]]
    ]
    rows, _ = audit.query(ctx.db, audit.AuditQuery(action="upload"))
    assert rows[0]["action"] == "upload.accepted" and rows[0]["target"] == batch_id


def test_soft_delete_and_replace_are_audited_and_flag_retraining(ctx, app_settings):
    first = load(ctx, stage(ctx, GOOD))["batch_id"]
    landing_file = landed(app_settings)[0]
    second = load(ctx, stage(ctx, GOOD.replace(",12", ",13")), replaces=first)
    assert second["accepted"]
    assert not landing_file.exists() and (ctx.conf.uploads_dir / first / "landed.parquet").exists()
    with pytest.raises(Forbidden):
        uploads.soft_delete(ctx, MGR, second["batch_id"])
    uploads.soft_delete(ctx, ANA, second["batch_id"])
    with pytest.raises(ValueError):
        uploads.soft_delete(ctx, ANA, second["batch_id"])
    statuses = {b["batch_id"]: b["status"] for b in uploads.list_batches(ctx)}
    assert statuses == {first: "replaced", second["batch_id"]: "deleted"}
    log = DeltaTable(str(app_settings.tables_dir / "ops" / "upload_batches")).to_pandas()
    latest = log.sort_values("changed_at").groupby("batch_id")["status"].last().to_dict()
    assert latest == {first: "replaced", second["batch_id"]: "deleted"}
    assert landed(app_settings) == []
    flag = read_retrain_flag(app_settings)
    assert flag and any("deleted" in r["reason"] for r in flag["reasons"])
    actions = [r["action"] for r in audit.query(ctx.db, audit.AuditQuery(action="upload"))[0]]
    assert actions[:2] == ["upload.deleted", "upload.replaced"]


def test_retraining_is_flagged_only_for_large_uploads(ctx, app_settings):
    history = ctx.serving.row_count(("gold", "daily_sales"))
    small = load(ctx, stage(ctx, GOOD))
    assert not small["retrain_flagged"] and read_retrain_flag(app_settings) is None
    n = int(history * 0.1) + 5
    big = "date,store_id,product_id,quantity_sold\n" + "".join(
        f"{(pd.Timestamp('2025-01-01') + pd.Timedelta(days=i % 300)).date()},S09,P{i // 300:03d},1\n"
        for i in range(n)
    )
    result = load(ctx, stage(ctx, big))
    assert result["accepted"] and result["retrain_flagged"]
    assert str(n) in read_retrain_flag(app_settings)["reasons"][0]["reason"]


def test_managers_cannot_load(ctx):
    with pytest.raises(Forbidden):
        uploads.commit(
            ctx,
            MGR,
            stage(ctx, GOOD, who=MGR),
            mapping=None,
            shape=None,
            on_duplicate="skip",
            max_error_rate=0.0,
        )


# ---- bad input -------------------------------------------------------------------------------------------
def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 2**20))  # 60 MiB from ~60 KiB
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("empty.csv", b"", "file:empty"),
        ("blank.csv", b"\r\n\r\n  \n", "file:empty"),
        ("binary.csv", bytes(range(256)) * 10, "file:binary"),
        ("utf16.csv", codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le"), "file:encoding"),
        ("bomb.xlsx", None, "file:zip_bomb"),
        ("fake.xlsx", b"this is not a workbook", "file:unreadable"),
        ("photo.png", b"\x89PNG\r\n\x1a\n", "file:unsupported_format"),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_reason(ctx, app_settings, name, content, rule):
    st = stage(ctx, _zip_bomb() if content is None else content, name=name)
    with pytest.raises(FileRejected) as exc:
        uploads.parse(ctx, st)
    assert exc.value.rule == rule and exc.value.reason
    assert landed(app_settings) == []


def test_files_above_the_size_limit_are_refused_before_staging(ctx):
    with pytest.raises(uploads.UploadTooLarge):
        uploads.read_limited(io.BytesIO(b"x" * 2048), max_bytes=1024)
    ctx.conf.raw["uploads"]["max_bytes"] = 100
    try:
        with pytest.raises(uploads.UploadTooLarge):
            stage(ctx, GOOD * 10)
    finally:
        ctx.conf.raw["uploads"]["max_bytes"] = 52428800


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("fecha,tienda\n2026-03-01,S01\n", "missing required column(s) product_id, quantity_sold"),
        ("date,store_id,product_id,quantity_sold\n", "no data rows"),
        ("date,store_id,product_id,quantity_sold\nx,S01,P1,y\nz,S01,P1,-1\n", "100.0% of rows invalid"),
    ],
)
def test_unusable_content_is_rejected_and_nothing_is_stored(ctx, app_settings, text, expect):
    result = load(ctx, stage(ctx, text), rate=0.99)
    assert not result["accepted"] and expect in result["reason"]
    assert landed(app_settings) == [] and not ctx.conf.uploads_dir.exists()


def test_api_style_upload_handles_rejections_without_errors(ctx, app_settings):
    req = uploads.UploadRequest(kind="sales", filename="bomb.xlsx", data=_zip_bomb())
    result = uploads.handle_api_upload(ctx, ANA, req)
    assert not result["accepted"] and result["reason"].startswith("file:zip_bomb")
    req = uploads.UploadRequest(kind="sales", filename="x.csv", data=b"a\n1\n", shape={"shape": "melt"})
    assert "shape" in uploads.handle_api_upload(ctx, ANA, req)["reason"]


# ---- the upload page's callbacks ---------------------------------------------------------------------------
def test_drag_and_drop_flow_through_dash(browser_client, app_settings):
    c = browser_client("ana")
    contents = (
        "data:text/csv;base64,"
        + base64.b64encode(
            b"Datum,Filiale,Artikel,Menge,Notiz\n2026-03-01,S01,P001,12,x\n2026-03-02,S01,P001,abc,y\n"
        ).decode()
    )
    r = c.call(
        [
            ("uploads-token", "data"),
            ("uploads-file-message", "children"),
            ("uploads-mapping", "children"),
            ("uploads-preview", "children"),
        ],
        [
            ("uploads-file", "contents", contents),
            ("uploads-kind", "value", "sales"),
            ("uploads-shape-apply", "n_clicks", 0),
        ],
        [
            ("uploads-file", "filename", "ventas.csv"),
            ("uploads-shape", "value", None),
            ("uploads-token", "data", None),
        ],
    )
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    resp = r.get_json()["response"]
    token = resp["uploads-token"]["data"]
    body = json.dumps(resp)
    assert token["name"] == "ventas.csv" and "uploads-mapping-table" in body and "Notiz" in body
    ids = [
        {"type": "uploads-map", "col": col}
        for col in ("date", "store_id", "product_id", "quantity_sold", "revenue", "promotion_id")
    ]
    values = ["Datum", "Filiale", "Artikel", "Menge", "__none__", "__none__"]
    state = [
        ("uploads-token", "data", token),
        (ids, "id", ids),
        (ids, "value", values),
        ("uploads-dup", "value", "skip"),
        ("uploads-rate", "value", 0.5),
        ("uploads-shape", "value", None),
    ]
    check_state = state + [("uploads-replaces", "value", None)]
    validate = [("uploads-report", "children"), ("uploads-load-button", "disabled")]
    r = c.call(validate, [("uploads-validate", "n_clicks", 1)], check_state)
    text = r.get_data(as_text=True)
    assert "uploads-check" in text and "uploads-bad-rows" in text and landed(app_settings) == []
    assert r.get_json()["response"]["uploads-load-button"]["disabled"] is False
    assert "50,00" in text and "--max-error-rate" not in text  # Spanish percentages, no command-line flags
    assert "tipo de dato incorrecto" in text  # each bad row's problem in words
    assert c.client.get(f"/download/staging/{token['token']}/bad_rows.csv").status_code == 200
    # the same file against a 10 % limit would be rejected: "Cargar" is disabled until something changes
    strict = [(i, p, 0.1 if i == "uploads-rate" else v) for i, p, v in check_state]
    r = c.call(validate, [("uploads-validate", "n_clicks", 2)], strict)
    assert "la carga sería rechazada" in r.get_data(as_text=True).lower()
    assert r.get_json()["response"]["uploads-load-button"]["disabled"] is True
    r = c.call(
        [("uploads-report", "children"), ("uploads-batches", "children")],
        [("uploads-load", "submit_n_clicks", 1)],
        state + [("uploads-replaces", "value", None)],
    )
    resp = r.get_json()["response"]
    assert "uploads-result-ok" in r.get_data(as_text=True) and len(landed(app_settings)) == 1
    (batch,) = [b["batch_id"] for b in uploads.list_batches(c.app.server.extensions["bakery"])]
    assert batch in json.dumps(resp["uploads-batches"])  # the list is rebuilt, and so is the replace list:
    r = c.call(
        [("uploads-replaces", "options")],
        [("uploads-batches", "children", None)],
        [("uploads-kind", "value", "sales")],
    )
    assert [o["value"] for o in r.get_json()["response"]["uploads-replaces"]["options"]] == [batch]
    assert (
        browser_client("mgr").call(validate, [("uploads-validate", "n_clicks", 1)], check_state).status_code
        == 403
    )


# ---- reshaping and the real files --------------------------------------------------------------------------
def test_reshape_items_and_wide():
    items = pd.DataFrame(
        {
            "Date": ["2026-01-01", "2026-01-01", "2026-01-01", "2026-01-02"],
            "Item": ["Bread", "Bread ", "NONE", "Cake"],
        },
        index=[1, 2, 3, 4],
    )
    out = reshape(
        items, {"shape": "items", "date": "Date", "item": "Item", "store_id": "S1", "exclude": ["NONE"]}
    )
    assert out.values.tolist() == [["2026-01-01", "S1", "Bread", "2"], ["2026-01-02", "S1", "Cake", "1"]]
    wide = pd.DataFrame(
        {
            "when": ["2026-01-01 10:00", "2026-01-01 11:00"],
            "total": ["1", "2"],
            "a": ["1", None],
            "b": [None, "3"],
        },
        index=[1, 2],
    )
    out = reshape(wide, {"shape": "wide", "date": "when", "store_id": "S1", "ignore": ["total"]})
    assert out.values.tolist() == [["2026-01-01", "S1", "a", "1"], ["2026-01-01", "S1", "b", "3"]]
    with pytest.raises(ReshapeError, match="not counts"):
        reshape(
            wide.assign(a=["x", None]),
            {"shape": "wide", "date": "when", "store_id": "S1", "ignore": ["total"]},
        )
    with pytest.raises(ReshapeError, match="not dates"):
        reshape(
            items.assign(Date="31/12/2026"),
            {"shape": "items", "date": "Date", "item": "Item", "store_id": "S1"},
        )
    with pytest.raises(ReshapeError, match="Datum"):
        reshape(items, {"shape": "items", "date": "Datum", "item": "Item", "store_id": "S1"})


needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared/data is not beside the repository")


@needs_data
@pytest.mark.parametrize(
    ("file", "shape"),
    [
        (
            "breadbasket_edinburgh/BreadBasket_DMS.csv",
            {
                "shape": "items",
                "date": "Date",
                "item": "Item",
                "store_id": "EDI01",
                "exclude": ["NONE", "Adjustment"],
            },
        ),
        (
            "breadbasket_edinburgh/bread basket.csv",
            {
                "shape": "items",
                "date": "date_time",
                "date_format": "%d-%m-%Y %H:%M",
                "item": "Item",
                "store_id": "EDI01",
                "exclude": ["NONE", "Adjustment"],
            },
        ),
    ],
)
def test_bread_basket_item_rows_become_daily_sales(ctx, app_settings, file, shape):
    path = DATA / file
    result = load(ctx, stage(ctx, path.read_bytes(), name=path.name), shape=shape)
    assert result["accepted"], result["reason"]
    df = pd.read_parquet(landed(app_settings)[0])
    raw = pd.read_csv(DATA / "breadbasket_edinburgh/BreadBasket_DMS.csv")
    expected = int(((raw["Date"] == "2016-10-30") & (raw["Item"] == "Bread")).sum())
    got = df[(df["date"] == "2016-10-30") & (df["product_id"] == "Bread")]["quantity_sold"]
    assert float(got.iloc[0]) == expected
    assert df["date"].min() == "2016-10-30" and df["date"].max() == "2017-04-09"
    assert "NONE" not in set(df["product_id"]) and df["store_id"].unique().tolist() == ["EDI01"]


@needs_data
def test_korean_wide_orders_with_bom_and_blank_lines(ctx, app_settings):
    path = DATA / "korean_bakery" / "Bakery Sales.csv"
    shape = {
        "shape": "wide",
        "date": "datetime",
        "store_id": "KR01",
        "ignore": ["day of week", "total", "place"],
    }
    result = load(ctx, stage(ctx, path.read_bytes(), name=path.name), shape=shape)
    assert result["accepted"], result["reason"]
    df = pd.read_parquet(landed(app_settings)[0])
    assert df["date"].nunique() == 250 and df["product_id"].nunique() == 23
    day = df[(df["date"] == "2019-07-12") & (df["product_id"] == "tiramisu croissant")]
    assert float(day["quantity_sold"].iloc[0]) >= 14


@needs_data
def test_ddop_chain_weather_and_sales_with_a_mapping(ctx, app_settings, tmp_path):
    data = DATA / "ddop_bakery_chain" / "bakery_data.csv"
    head = b"".join(
        data.read_bytes().splitlines(keepends=True)[:15001]
    )  # the first 15,000 rows keep the test quick
    weather = load(ctx, stage(ctx, head, name=data.name, kind="weather"))
    assert weather["accepted"], weather["reason"]
    assert weather["mapping"] == {
        "date": "date",
        "store_id": "store",
        "temperature": "temperature",
        "precipitation": "rain",
    }
    # one weather row per store and day: the file repeats it for each of the 3 products
    days = pd.read_csv(io.BytesIO(head), usecols=["date", "store"]).drop_duplicates()
    assert weather["totals"]["rows_written"] == len(days)
    assert weather["totals"]["skipped_duplicates"] == 15000 - len(days)
    # the chain ships demand in a row-aligned second file: the analyst pastes it in as a column
    features = pd.read_csv(data, usecols=["date", "store", "product"], dtype=str).head(3000)
    target = pd.read_csv(DATA / "ddop_bakery_chain" / "bakery_target.csv", dtype=str).head(3000)
    combined = pd.concat([features, target], axis=1).to_csv(index=False)
    sales = load(ctx, stage(ctx, combined, name="ddop_sales.csv"), mapping={"product_id": "product"})
    assert sales["accepted"], sales["reason"]
    assert sales["mapping"] == {
        "date": "date",
        "store_id": "store",
        "product_id": "product",
        "quantity_sold": "demand",
    }
    assert sales["totals"]["rows_written"] == 3000


def test_a_deleted_batch_shows_its_retrain_request_and_can_be_restored_once(ctx, app_settings):
    first = load(ctx, stage(ctx, GOOD))["batch_id"]
    uploads.soft_delete(ctx, ANA, first)
    assert landed(app_settings) == []
    listed = {b["batch_id"]: b for b in uploads.list_batches(ctx)}
    assert listed[first]["retrain"] is True and listed[first]["restorable"] is True

    restored = uploads.restore(ctx, ANA, first)
    assert restored.status == "accepted" and restored.retrain_flagged
    files = landed(app_settings)
    assert len(files) == 1 and "restored" in files[0].name
    assert pd.read_parquet(files[0])["quantity_sold"].astype(float).tolist() == [12.0, 9.0]
    listed = {b["batch_id"]: b for b in uploads.list_batches(ctx)}
    assert listed[first]["status"] == "deleted" and listed[first]["replaced_by"] == restored.batch_id
    assert not listed[first]["restorable"] and listed[restored.batch_id]["status"] == "accepted"
    with pytest.raises(ValueError, match="restored"):
        uploads.restore(ctx, ANA, first)
    with pytest.raises(Forbidden):
        uploads.restore(ctx, MGR, restored.batch_id)
    log = DeltaTable(str(app_settings.tables_dir / "ops" / "upload_batches")).to_pandas()
    latest = log.sort_values("changed_at").groupby("batch_id")["status"].last().to_dict()
    assert latest == {first: "deleted", restored.batch_id: "accepted"}
    assert audit.query(ctx.db, audit.AuditQuery(action="upload"))[0][0]["action"] == "upload.restored"


def test_batch_lists_follow_every_load_delete_and_restore_through_dash(browser_client, ctx, app_settings):
    from bakery.app.pages import uploads as page

    kept = load(ctx, stage(ctx, GOOD))["batch_id"]
    load(ctx, stage(ctx, GOOD.replace(",12", ",x").replace(",9", ",y")), rate=0.0)  # rejected
    section = page.batches_section(ctx, "es")

    def text(component) -> str:
        return json.dumps(component, default=lambda o: o.to_plotly_json())

    loaded_table, others = text(section["uploads-batch-table"]), text(section["uploads-other-batches"])
    (rejected,) = [b["batch_id"] for b in uploads.list_batches(ctx) if b["status"] == "rejected"]
    assert kept in loaded_table and rejected not in loaded_table  # "Lotes cargados": loaded batches only
    assert rejected in others and "rechazado" in others  # the rejected one is listed apart
    # a new file clears whatever the report said ("Primero suba un archivo." included) and enables "Cargar"
    assert page.on_change({"token": "t"}, "uploads-token") == (False, "")
    assert page.on_change(None, "uploads-token")[0] is True

    c = browser_client("ana")
    can_delete = [("uploads-delete-button", "disabled")]
    assert c.call(can_delete, [("uploads-delete-id", "value", None)]).get_json()["response"][
        "uploads-delete-button"
    ]["disabled"]
    delete = [("uploads-batch-message", "children"), ("uploads-batches", "children")]
    r = c.call(delete, [("uploads-delete", "submit_n_clicks", 1)], [("uploads-delete-id", "value", None)])
    assert "Elija primero un lote" in r.get_data(as_text=True) and "batch ''" not in r.get_data(as_text=True)
    r = c.call(delete, [("uploads-delete", "submit_n_clicks", 2)], [("uploads-delete-id", "value", kept)])
    body = r.get_data(as_text=True)
    assert "uploads-deleted" in body and "Todavía no hay lotes cargados" in body  # the list refreshed
    assert "uploads-restore-id" in body  # the deleted batch is offered for restoring
    restore = [("uploads-batches", "children"), ("uploads-batch-message", "children")]
    r = c.call(restore, [("uploads-restore", "n_clicks", 1)], [("uploads-restore-id", "value", kept)])
    body = r.get_data(as_text=True)
    assert "uploads-restored" in body and "restaurado como" in body and len(landed(app_settings)) == 1
    r = c.call(restore, [("uploads-restore", "n_clicks", 2)], [("uploads-restore-id", "value", kept)])
    assert "No se puede restaurar" in r.get_data(as_text=True)
