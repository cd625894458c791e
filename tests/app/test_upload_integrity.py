"""Upload batches hold together: a replacement of the right kind only, staged files that cannot pose as the
server's own, a commit that is recorded and landed or neither (also across a SIGKILL), a deletion reported
only once it is recorded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from deltalake import DeltaTable

from bakery.app import audit, uploads
from bakery.app.auth import Principal
from bakery.app.db import UploadBatch
from bakery.ingest.landing import scan_kind
from bakery.ops.retrain import read_retrain_flag

ANA = Principal("ana", "analyst", frozenset(), 2)
SALES = "date,store_id,product_id,quantity_sold\n2026-03-01,S01,P001,12\n2026-03-02,S01,P001,9\n"
PRODUCTS = "product_id,name,category\nP900,Croissant,bollería\n"


def _load(ctx, text: str, kind: str = "sales", name: str = "ventas.csv", replaces: str | None = None) -> dict:
    staged = uploads.stage(ctx, ANA, kind, name, text.encode())
    return uploads.commit(
        ctx, ANA, staged, mapping=None, shape=None, on_duplicate="skip", max_error_rate=0.0, replaces=replaces
    )


def _batches(ctx) -> dict[str, tuple[str, str]]:
    with ctx.db.session() as s:
        return {b.batch_id: (b.kind, b.status) for b in s.query(UploadBatch).all()}


def _landing_names(ctx, kind: str) -> list[str]:
    """Every file in landing/<kind>/, hidden ones included."""
    folder = ctx.settings.landing_dir / kind
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _log(ctx) -> pd.DataFrame:
    return DeltaTable(str(ctx.settings.tables_dir / "ops" / "upload_batches")).to_pandas()


class _Blocked:
    """ops.upload_batches made unwritable for real: a plain file where the Delta table's folder belongs."""

    def __init__(self, ctx, tmp_path: Path) -> None:
        self.table = ctx.settings.tables_dir / "ops" / "upload_batches"
        self.aside = tmp_path / "upload_batches.aside"

    def __enter__(self) -> _Blocked:
        if self.table.exists():
            shutil.move(str(self.table), self.aside)
        self.table.parent.mkdir(parents=True, exist_ok=True)
        self.table.write_text("not a table")
        return self

    def __exit__(self, *exc: object) -> None:
        self.table.unlink()
        if self.aside.exists():
            shutil.move(str(self.aside), self.table)


# ---- a replacement must be of the same kind ------------------------------------------------------------------
def test_a_products_upload_cannot_replace_a_sales_batch_and_nothing_is_written(ctx):
    sales = _load(ctx, SALES)["batch_id"]
    before = (_landing_names(ctx, "sales"), sorted(p.name for p in ctx.settings.reports_dir.iterdir()))
    with pytest.raises(ValueError, match="replaces") as exc:
        _load(ctx, PRODUCTS, kind="products", replaces=sales)
    assert "sales" in str(exc.value) and "products" in str(exc.value)
    assert _batches(ctx) == {sales: ("sales", "accepted")}
    assert (
        _landing_names(ctx, "sales"),
        sorted(p.name for p in ctx.settings.reports_dir.iterdir()),
    ) == before
    assert _landing_names(ctx, "products") == []
    assert _log(ctx)[["batch_id", "status"]].values.tolist() == [[sales, "accepted"]]
    # the dry run refuses it the same way, and a batch already replaced or deleted cannot be replaced again
    staged = uploads.stage(ctx, ANA, "products", "p.csv", PRODUCTS.encode())
    with pytest.raises(ValueError, match="replaces"):
        uploads.validate(ctx, staged, uploads.parse(ctx, staged), None, "skip", replaces=sales)
    newer = _load(ctx, SALES.replace(",12", ",13"), replaces=sales)["batch_id"]
    with pytest.raises(ValueError, match="replaces: .* not an accepted batch"):
        _load(ctx, SALES, replaces=sales)
    uploads.soft_delete(ctx, ANA, newer)
    with pytest.raises(ValueError, match="replaces: .* not an accepted batch"):
        _load(ctx, SALES, replaces=newer)
    assert _batches(ctx) == {sales: ("sales", "replaced"), newer: ("sales", "deleted")}


def test_the_upload_page_names_the_parameter_and_offers_only_batches_of_the_kind(ctx, browser_client):
    sales = _load(ctx, SALES)["batch_id"]
    c = browser_client("ana")
    r = c.call(
        [("uploads-replaces", "options"), ("uploads-replaces", "value")],
        [("uploads-kind", "value", "products")],
    )
    assert r.status_code == 200 and r.get_json()["response"]["uploads-replaces"]["options"] == []
    r = c.call(
        [("uploads-replaces", "options"), ("uploads-replaces", "value")], [("uploads-kind", "value", "sales")]
    )
    assert [o["value"] for o in r.get_json()["response"]["uploads-replaces"]["options"]] == [sales]
    staged = uploads.stage(ctx, ANA, "products", "p.csv", PRODUCTS.encode())
    token = {"token": staged.token, "kind": "products", "name": "p.csv"}
    state = [
        ("uploads-token", "data", token),
        ([], "id", []),
        ([], "value", []),
        ("uploads-dup", "value", "skip"),
        ("uploads-rate", "value", 0.0),
        ("uploads-shape", "value", None),
        ("uploads-replaces", "value", sales),
    ]
    r = c.call(
        [("uploads-report", "children"), ("uploads-batches", "children")],
        [("uploads-load", "submit_n_clicks", 1)],
        state,
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "uploads-load-error" in body
    assert "«Sustituye al lote»: el lote elegido no es un lote aceptado" in json.dumps(
        r.get_json(), ensure_ascii=False
    )
    assert _batches(ctx) == {sales: ("sales", "accepted")}
    r = c.call(
        [("uploads-report", "children"), ("uploads-load-button", "disabled")],
        [("uploads-validate", "n_clicks", 1)],
        state,
    )
    assert r.status_code == 200 and "«Sustituye al lote»" in json.dumps(r.get_json(), ensure_ascii=False)


# ---- the user's file under a fixed name -------------------------------------------------------------------
def test_files_named_like_the_servers_own_are_staged_read_and_loaded_as_themselves(ctx, browser_client):
    rows = [{"date": "2026-03-01", "store_id": "S01", "product_id": "P001", "quantity_sold": 12}]
    staged = uploads.stage(ctx, ANA, "sales", "meta.json", json.dumps(rows).encode())
    again = uploads.load_staged(ctx, ANA, staged.token)
    assert again.original_name == "meta.json" and again.path.name == "upload.json"
    assert uploads.parse(ctx, again).num_rows == 1
    result = uploads.commit(
        ctx, ANA, again, mapping=None, shape=None, on_duplicate="skip", max_error_rate=0.0
    )
    assert result["accepted"] and result["totals"]["rows_written"] == 1
    with ctx.db.session() as s:
        assert s.get(UploadBatch, result["batch_id"]).original_name == "meta.json"
    # a file called bad_rows.csv: validation writes the server's bad rows beside it, not over it
    bad = SALES + "2026-13-01,S01,P001,5\n"
    staged = uploads.stage(ctx, ANA, "sales", "bad_rows.csv", bad.encode())
    c = browser_client("ana")
    token = {"token": staged.token, "kind": "sales", "name": "bad_rows.csv"}
    state = [
        ("uploads-token", "data", token),
        ([], "id", []),
        ([], "value", []),
        ("uploads-dup", "value", "skip"),
        ("uploads-rate", "value", 0.5),
        ("uploads-shape", "value", None),
        ("uploads-replaces", "value", None),
    ]
    r = c.call(
        [("uploads-report", "children"), ("uploads-load-button", "disabled")],
        [("uploads-validate", "n_clicks", 1)],
        state,
    )
    assert r.status_code == 200 and "uploads-bad-rows" in r.get_data(as_text=True)
    assert uploads.load_staged(ctx, ANA, staged.token).path.read_text() == bad
    download = c.client.get(f"/download/staging/{staged.token}/bad_rows.csv")
    assert download.status_code == 200 and "reason" in download.get_data(as_text=True).splitlines()[0]


# ---- recorded and landed, or neither -----------------------------------------------------------------------
def test_a_commit_whose_record_cannot_be_written_lands_nothing(ctx, tmp_path):
    with _Blocked(ctx, tmp_path), pytest.raises(uploads.RecordFailed):
        _load(ctx, SALES)
    assert _landing_names(ctx, "sales") == [] and _batches(ctx) == {}
    assert not ctx.conf.uploads_dir.exists() or not any(ctx.conf.uploads_dir.iterdir())
    assert read_retrain_flag(ctx.settings) is None
    assert audit.query(ctx.db, audit.AuditQuery(action="upload"))[1] == 0
    # a replacement that fails leaves the batch it would replace as it was
    first = _load(ctx, SALES)["batch_id"]
    landed = _landing_names(ctx, "sales")
    with _Blocked(ctx, tmp_path), pytest.raises(uploads.RecordFailed):
        _load(ctx, SALES.replace(",12", ",13"), replaces=first)
    assert _batches(ctx) == {first: ("sales", "accepted")} and _landing_names(ctx, "sales") == landed
    assert _log(ctx)[["batch_id", "status"]].values.tolist() == [[first, "accepted"]]
    second = _load(ctx, SALES.replace(",12", ",13"), replaces=first)["batch_id"]
    assert _batches(ctx) == {first: ("sales", "replaced"), second: ("sales", "accepted")}


def test_a_deletion_whose_record_cannot_be_written_is_not_reported_done(ctx, browser_client, tmp_path):
    batch = _load(ctx, SALES)["batch_id"]
    landed = _landing_names(ctx, "sales")
    outputs = [("uploads-batch-message", "children"), ("uploads-batches", "children")]
    c = browser_client("ana")
    with _Blocked(ctx, tmp_path):
        with pytest.raises(uploads.RecordFailed):
            uploads.soft_delete(ctx, ANA, batch)
        r = c.call(
            outputs, [("uploads-delete", "submit_n_clicks", 1)], [("uploads-delete-id", "value", batch)]
        )
        body = r.get_data(as_text=True)
        assert r.status_code == 200 and "uploads-delete-error" in body and "uploads-deleted" not in body
    assert _batches(ctx) == {batch: ("sales", "accepted")} and _landing_names(ctx, "sales") == landed
    assert _log(ctx)["status"].tolist() == ["accepted"]
    r = c.call(outputs, [("uploads-delete", "submit_n_clicks", 1)], [("uploads-delete-id", "value", batch)])
    assert "uploads-deleted" in r.get_data(as_text=True)
    assert _batches(ctx) == {batch: ("sales", "deleted")} and _landing_names(ctx, "sales") == []
    assert _log(ctx).sort_values("changed_at")["status"].tolist() == ["accepted", "deleted"]


_CHILD = """
import sys
from pathlib import Path
from bakery.app import uploads
from bakery.app.app import build_context
from bakery.app.auth import Principal
from bakery.config import load_settings

ctx = build_context(load_settings(home=Path(sys.argv[1])))
ana = Principal("ana", "analyst", frozenset(), 2)
staged = uploads.stage(ctx, ana, "sales", "ventas.csv", sys.argv[2].encode())
uploads.commit(ctx, ana, staged, mapping=None, shape=None, on_duplicate="skip", max_error_rate=0.0)
print("committed")
"""


def _killed_commit(ctx, point: str) -> None:
    env = {**os.environ, "BAKERY_FAULT_POINT": point}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ctx.settings.home), SALES],
        env=env,
        timeout=300,
        capture_output=True,
        text=True,
    )
    assert done.returncode == -9 and "committed" not in done.stdout, done.stderr[-2000:]


def test_a_commit_killed_after_its_record_is_landed_by_the_next_settle(ctx):
    _killed_commit(ctx, "upload_before_landing")
    ((batch_id, (_, status)),) = _batches(ctx).items()
    assert status == "accepted" and scan_kind(ctx.settings, "sales") == []  # the pipeline sees nothing yet
    uploads.settle(ctx)
    files = scan_kind(ctx.settings, "sales")
    with ctx.db.session() as s:
        assert [f.relpath for f in files] == [s.get(UploadBatch, batch_id).path]
    assert _landing_names(ctx, "sales") == [files[0].path.name]


def test_a_settle_does_not_land_a_batch_whose_record_is_still_being_written(ctx):
    """Another worker's settle may run while a commit sits between its database row and its log entry: the
    commit may still be taken back, so its held file stays hidden until the record is whole or old."""
    _killed_commit(ctx, "upload_before_log")
    ((batch_id, (_, status)),) = _batches(ctx).items()
    log_table = ctx.settings.tables_dir / "ops" / "upload_batches"
    assert status == "accepted" and (not log_table.exists() or _log(ctx).empty)
    uploads.settle(ctx)
    assert scan_kind(ctx.settings, "sales") == []
    held = [ctx.settings.landing_dir / "sales" / n for n in _landing_names(ctx, "sales")]
    assert len(held) == 1 and held[0].name.startswith(".import_")
    old = time.time() - 2 * float(ctx.conf.get("uploads.settle_after_seconds"))
    os.utime(held[0], (old, old))
    uploads.settle(ctx)  # interrupted long ago: the record is completed and the file lands
    with ctx.db.session() as s:
        assert [f.relpath for f in scan_kind(ctx.settings, "sales")] == [s.get(UploadBatch, batch_id).path]
    assert _log(ctx)["status"].tolist() == ["accepted"]


def test_a_commit_killed_before_its_record_leaves_nothing_once_settled(ctx):
    _killed_commit(ctx, "upload_before_record")
    assert _batches(ctx) == {} and scan_kind(ctx.settings, "sales") == []
    held = [ctx.settings.landing_dir / "sales" / n for n in _landing_names(ctx, "sales")]
    kept = list(ctx.conf.uploads_dir.iterdir())
    assert len(held) == 1 and held[0].name.startswith(".import_") and len(kept) == 1
    uploads.settle(ctx)  # younger than uploads.settle_after_seconds: maybe a commit in progress, kept
    assert held[0].exists() and kept[0].exists()
    old = time.time() - 2 * float(ctx.conf.get("uploads.settle_after_seconds"))
    for path in (held[0], kept[0]):
        os.utime(path, (old, old))
    uploads.settle(ctx)
    assert _landing_names(ctx, "sales") == [] and not kept[0].exists() and _batches(ctx) == {}
