"""`bakery gdpr export` and `bakery gdpr erase` on a home that holds one person in every place it can: the app
database (account, tokens, login counters, audit log, settings, upload batches), the upload folders and a
staged upload, ops.upload_batches, the retrain flag, bronze `_rescued_data` (raw in a table written before
pseudonymisation, keyed-hashed by today's ingest), ops.quarantine, and the log file."""

from __future__ import annotations

import json
import logging
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from bakery.admin.gdpr import SECTIONS
from bakery.app import uploads
from bakery.app.accounts import create_user, update_user
from bakery.app.auth import LoginRefused
from bakery.app.overrides import OverrideRequest, save_override
from bakery.app.privacy import Matcher
from bakery.cli import build_parser, main
from bakery.config import Settings
from bakery.decisions.nightly import land_overrides
from bakery.decisions.overrides import load_override_rules
from bakery.ingest.pseudonymise import pseudonym
from bakery.logs import LOG_FORMAT, EscapingFormatter
from bakery.tables import BAKE_OVERRIDES, OVERRIDE_SCORES
from tests.app.conftest import build_app, make_home
from tests.conftest import copy_home
from tests.ops.helpers import lock_held_by_another_process

PERSON, EMAIL, PASSWORD, IP = "lucia.gdpr", "Lucia.Gdpr@example.org", "lucia-pass-123", "10.1.2.3"
KEYS = {
    "BAKERY_SECRET_KEY": "test-only-signing-key-0123456789",
    "BAKERY_PSEUDONYM_KEY": "test-only-pseudonym-key",
}
SALES = "date,store_id,product_id,quantity_sold,contacto\n2026-03-0{day},S01,P001,{qty},{who}\n"


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


@contextmanager
def _app_log(settings: Settings) -> Iterator[None]:
    """The app's log lines (audit lines included) go to <home>/logs/bakery.log, as under `bakery app`."""
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.logs_dir / "bakery.log", encoding="utf-8")
    handler.setFormatter(EscapingFormatter(LOG_FORMAT))
    root, level = logging.getLogger(), logging.getLogger().level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def _fill_app(settings: Settings) -> None:
    """The person through the app's own functions: account, role change, logins, token, uploads, settings."""
    app = build_app(settings, overrides={"editable": {"retrain_fraction": {"default": 0.0}}})
    ctx = app.server.extensions["bakery"]
    with pytest.raises(LoginRefused):  # before the account exists: kept as unknown:<hash>
        ctx.auth.login(PERSON, "a guess", ip=IP)
    create_user(ctx.db, PERSON, "manager", "S01", PASSWORD, actor="admin")
    update_user(ctx.db, PERSON, actor="admin", role="admin")
    with pytest.raises(LoginRefused):
        ctx.auth.login(PERSON, "wrong-password", ip=IP)
    me = ctx.auth.login(PERSON, PASSWORD, ip=IP)
    ctx.auth.issue_token(me, ip=IP)
    batches = []
    for day, who in ((1, EMAIL), (2, "")):  # the first file names the person in a column the app ignores
        staged = uploads.stage(
            ctx, me, "sales", "ventas.csv", SALES.format(day=day, qty=day + 3, who=who).encode()
        )
        batches.append(
            uploads.commit(
                ctx, me, staged, mapping=None, shape=None, on_duplicate="skip", max_error_rate=0.0, ip=IP
            )["batch_id"]
        )
    uploads.soft_delete(ctx, me, batches[1], ip=IP)  # deleted_by, a second retrain request
    uploads.stage(
        ctx, me, "sales", "borrador.csv", SALES.format(day=5, qty=1, who="").encode()
    )  # never loaded
    ctx.options.set("stock_alert_ratio", 1.5, actor=PERSON, ip=IP)
    change = OverrideRequest("S01", "P001", date(2026, 3, 4), 10.0, 12, "event", "feria")
    save_override(ctx.settings, ctx.db, me, change, load_override_rules(), ip=IP)  # landed for the pipeline
    ctx.db.dispose()


def _fill_lakehouse(lh, settings: Settings) -> None:
    """Bronze rows with the e-mail: raw in a table written before pseudonymisation existed, hashed by today's
    ingest of a file with a `contact` column; a quarantined raw line holding it."""
    from bakery.ingest.bronze import bronze_schema, ingest_landing
    from bakery.ops.quarantine import quarantine_rows

    spec = settings.source("pos")
    schema = bronze_schema(spec)
    when = datetime(2025, 6, 1, 8, tzinfo=UTC)
    rows = []
    for i, rescued in enumerate(
        [json.dumps({"cajero_email": EMAIL, "caja": "3"}), json.dumps({"caja": "4"})]
    ):
        values = {f.name: None for f in schema.fields}
        values.update(
            _rescued_data=rescued,
            _source_file="pos/2025-06-01.csv",
            _file_hash="h0",
            _row_number=i + 1,
            _ingested_at=when,
            _batch_id="b-2025",
        )
        rows.append(tuple(values[f.name] for f in schema.fields))
    lh.append(lh.spark.createDataFrame(rows, schema), "bronze", spec.table)
    folder = settings.landing_dir / "sales"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tienda.csv").write_text(
        f"date,store_id,product_id,quantity_sold,contact\n"
        f"2026-03-03,S01,P001,4,{EMAIL}\n2026-03-03,S01,P002,2,\n",
        encoding="utf-8",
    )
    assert ingest_landing(lh, settings, "b-gdpr").ok
    assert land_overrides(lh, settings) == 1  # silver.bake_overrides names who changed the plan
    [override] = lh.read(*BAKE_OVERRIDES).collect()
    score = {c: None for c in OVERRIDE_SCORES.columns} | {
        k: override[k] for k in ("override_id", "store_id", "product_id", "date", "username", "quantity")
    }
    lh.append(lh.spark.createDataFrame([score], OVERRIDE_SCORES.schema), *OVERRIDE_SCORES)
    late = settings.landing_dir / "sales" / "_late"  # never ingested: rewritten, not removed
    late.mkdir()
    (late / "tarde.csv").write_text(
        f"date,store_id,product_id,quantity_sold,contact\n2026-03-09,S01,P001,1,{EMAIL}\n", encoding="utf-8"
    )
    quarantine_rows(
        lh,
        lh.spark.createDataFrame(
            [
                (
                    "sales",
                    "sales/old.csv",
                    7,
                    "b-2025",
                    "row:bad_date",
                    "date",
                    "bad date",
                    f"2026-13-01;S01;P001;2;{EMAIL}",
                )
            ],
            "source string, source_file string, row_number long, batch_id string, rule string, column string, "
            "reason string, raw string",
        ),
    )


@pytest.fixture(scope="module")
def person_home(spark, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A read-only home holding the person everywhere (tests work on copies)."""
    from bakery.lakehouse import Lakehouse

    with pytest.MonkeyPatch.context() as mp:
        for name, value in KEYS.items():
            mp.setenv(name, value)
        settings = make_home(tmp_path_factory.mktemp("gdpr"))
        with _app_log(settings):
            _fill_app(settings)
        _fill_lakehouse(Lakehouse(spark, settings), settings)
    return settings


def _forbidden() -> list[str]:
    """Every form of the person that may be stored: the name (also inside the e-mail), the e-mail's bronze
    pseudonym and the keyed form of the name typed at login before the account existed."""
    import hashlib
    import hmac

    from bakery.app.auth import name_pseudonym

    key = hmac.new(KEYS["BAKERY_SECRET_KEY"].encode(), b"bakery login names", hashlib.sha256).digest()
    secret = KEYS["BAKERY_PSEUDONYM_KEY"].encode()
    return [PERSON, pseudonym(EMAIL, secret), name_pseudonym(key, PERSON)]


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _export(capsys, home: Path, out: Path) -> tuple[dict, str]:
    code, _, err = _run(
        capsys, "--home", str(home), "gdpr", "export", "--user", PERSON, "--also", EMAIL, "--out", str(out)
    )
    assert code == 0, err
    return json.loads(out.read_text(encoding="utf-8")), err


def test_export_lists_every_place(spark, person_home, tmp_path, capsys):
    settings = copy_home(person_home, tmp_path / "home")
    doc, _ = _export(capsys, settings.home, tmp_path / "lucia.json")

    assert stat.S_IMODE((tmp_path / "lucia.json").stat().st_mode) == 0o600
    assert {s: n for s, n in doc["found"].items() if not n} == {}, "every place holds the person"
    account = doc["accounts"][0]
    assert (account["username"], account["role"]) == (PERSON, "admin") and "password_hash" not in account
    assert all(set(t) == {"created_at", "expires_at", "revoked"} for t in doc["api_tokens"])
    actions = {(r["action"], r["actor"] == PERSON, r["target"] == PERSON) for r in doc["audit_log"]}
    assert {
        ("user.created", False, True),
        ("user.role_changed", False, True),
        ("login.ok", True, False),
        ("token.issued", True, False),
        ("upload.deleted", True, False),
    } <= actions
    assert any(r["actor"].startswith("unknown:") and r["action"] == "login.failed" for r in doc["audit_log"])
    assert {(b["uploaded_by"], b["deleted_by"]) for b in doc["upload_batches"]} == {
        (PERSON, None),
        (PERSON, PERSON),
    }
    assert {r["status"] for r in doc["upload_batch_log"]} == {"accepted", "deleted"}
    assert {r["by"] for r in doc["retrain_requests"]} == {PERSON}
    assert sorted(u["file"] for u in doc["staged_uploads"]) == ["borrador.csv", "ventas.csv", "ventas.csv"]
    assert [Path(f["file"]).name for f in doc["upload_originals"]] == ["original.csv"]
    assert {(f["file"], f["ingested"]) for f in doc["landing_files"]} - {
        ("sales/tienda.csv", True),
        ("sales/_late/tarde.csv", False),
    } == {(f["file"], False) for f in doc["landing_files"] if f["file"].startswith("overrides/")}
    assert [(o["username"], o["quantity"], o["reason_code"]) for o in doc["bake_overrides"]] == [
        (PERSON, 12.0, "event")
    ]
    assert sorted((r["table"], r["username"]) for r in doc["bake_override_records"]) == [
        ("gold.override_scores", PERSON),
        ("silver.bake_overrides", PERSON),
    ]
    rescued = {(r["table"], json.dumps(r["fields"])) for r in doc["bronze_rescued_data"]}
    assert ("bronze.pos_transactions", json.dumps({"cajero_email": EMAIL})) in rescued
    hashed = pseudonym(EMAIL, KEYS["BAKERY_PSEUDONYM_KEY"].encode())
    assert (f"bronze.{settings.source('sales').table}", json.dumps({"contact": hashed})) in rescued
    assert doc["quarantined_rows"][0]["row"] == {
        "source_file": "sales/old.csv",
        "row_number": 7,
        "batch_id": "b-2025",
        "rule": "row:bad_date",
    }
    assert any(f"audit {PERSON} login.ok" in line["line"] for line in doc["log_lines"])


def _app_db_values(settings: Settings) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text value in every table of the app database."""
    if not (settings.home / "app" / "app.db").exists():
        return []
    con = sqlite3.connect(settings.home / "app" / "app.db")
    try:
        out = []
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            cursor = con.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            out += [
                (table, c, v)
                for row in cursor.fetchall()
                for c, v in zip(names, row, strict=True)
                if isinstance(v, str)
            ]
        return out
    finally:
        con.close()


def _leaks(settings: Settings, forms: list[str]) -> list[str]:
    """Where a form of the person is still held: app database values, the values of every Parquet file under
    the home (Delta data files of every version still on disk, and checkpoints), every other file's bytes."""
    lowered = [f.lower() for f in forms]
    found = [
        f"app.db {t}.{c}" for t, c, v in _app_db_values(settings) if any(f in v.lower() for f in lowered)
    ]
    for path in sorted(p for p in settings.home.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            text = str(pq.read_table(path).to_pylist()).lower()
        else:
            text = path.read_bytes().decode("utf-8", "replace").lower()
        found += [f"{path.relative_to(settings.home)}: {f}" for f in lowered if f in text]
    return found


def _erasures(settings: Settings) -> list[sqlite3.Row]:
    con = sqlite3.connect(settings.home / "app" / "app.db")
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT * FROM audit_log WHERE action = 'gdpr.erased'").fetchall()
    finally:
        con.close()


def _versions(lh) -> dict[str, int | None]:
    return lh.versions((t.layer, t.name) for t in lh.list_tables())


def test_erase_leaves_the_person_nowhere_and_a_rerun_changes_nothing(spark, person_home, tmp_path, capsys):
    from bakery.lakehouse import Lakehouse

    settings = copy_home(person_home, tmp_path / "home")
    lh = Lakehouse(spark, settings)
    assert _leaks(settings, _forbidden()), "the home holds the person before the erasure"

    running_app = sqlite3.connect(settings.home / "app" / "app.db")  # keeps the write-ahead log file in use
    running_app.execute("SELECT count(*) FROM users").fetchall()
    code, out, err = _run(
        capsys, "--home", str(settings.home), "gdpr", "erase", "--user", PERSON, "--also", EMAIL
    )
    assert code == 0, err
    report = json.loads(out)
    token = report["pseudonym"]
    assert token.startswith("erased:") and {s for s, n in report["erased"].items() if not n} == set()

    assert _leaks(settings, _forbidden()) == []
    running_app.close()
    assert report["left"] == [] and not (settings.landing_dir / "sales" / "tienda.csv").exists()
    assert token in (settings.landing_dir / "sales" / "_late" / "tarde.csv").read_text(encoding="utf-8")
    for layer, name in (
        ("ops", "upload_batches"),
        ("bronze", settings.source("pos").table),
        ("bronze", settings.source("sales").table),
        ("ops", "quarantine"),
    ):
        assert lh.read(layer, name).count(), f"{layer}.{name} keeps its rows"
    assert {r["uploaded_by"] for r in lh.read("ops", "upload_batches").collect()} == {token}
    [override_id] = [r["override_id"] for r in lh.read(*BAKE_OVERRIDES).collect()]
    for table in (BAKE_OVERRIDES, OVERRIDE_SCORES):  # the change stays, who made it does not
        rows = lh.read(*table).where(F.col("override_id") == override_id).collect()
        assert [(r["username"], r["quantity"]) for r in rows] == [(token, 12.0)]
    flag = json.loads((settings.home / "flags" / "retrain.json").read_text(encoding="utf-8"))
    assert {flag["requested_by"], *(r["by"] for r in flag["reasons"])} == {token}
    [record] = _erasures(settings)
    assert (record["target"], record["actor"].startswith("cli"), record["ip"]) == (token, True, None)
    assert json.loads(record["detail"])["bronze_rescued_data"] == 2

    versions, app_rows = _versions(lh), _app_db_values(settings)
    code, out, err = _run(
        capsys, "--home", str(settings.home), "gdpr", "erase", "--user", PERSON, "--also", EMAIL
    )
    assert code == 0, err
    again = json.loads(out)
    assert again["pseudonym"] is None and set(again["erased"].values()) == {0}
    assert (_versions(lh), _app_db_values(settings), len(_erasures(settings))) == (versions, app_rows, 1)

    doc, warning = _export(capsys, settings.home, tmp_path / "after.json")
    assert set(doc["found"].values()) == {0} and "nothing is held" in warning


def test_an_interrupted_erasure_is_finished_by_the_next_one(spark, tmp_path):
    """A table rewritten by an erasure that stopped before purging its history: the next erasure, of anyone,
    purges it (its old data files and its log entries still hold the person)."""
    import pyarrow as pa
    from deltalake import write_deltalake
    from pyspark.sql import functions as F

    from bakery.admin.gdpr import PENDING, erase_person
    from bakery.config import load_settings
    from bakery.lakehouse import Lakehouse

    settings = load_settings(home=tmp_path / "home")
    lh = Lakehouse(spark, settings)
    path = lh.path("ops", "upload_batches")
    for batch, who in (("b1", PERSON), ("b2", "ana")):
        write_deltalake(path, pa.table({"batch_id": [batch], "uploaded_by": [who]}), mode="append")
    lh.delta_table("ops", "upload_batches").update(
        F.col("batch_id") == "b1", {"uploaded_by": F.lit("erased:0")}
    )
    (settings.home / PENDING).parent.mkdir(parents=True, exist_ok=True)
    (settings.home / PENDING).write_text(json.dumps({"tables": ["ops.upload_batches"]}), encoding="utf-8")
    assert _leaks(settings, [PERSON])

    report = erase_person(lh, settings, "somebody-else", [], "cli:test")
    assert (report["pseudonym"], report["history_purged"]) == (None, ["ops.upload_batches"])
    assert _leaks(settings, [PERSON]) == [] and not (settings.home / PENDING).exists()
    assert sorted(r["uploaded_by"] for r in lh.read_arrow("ops", "upload_batches").to_pylist()) == [
        "ana",
        "erased:0",
    ]


def test_the_audit_log_stays_append_only_for_the_app_after_an_erasure(spark, person_home, tmp_path, capsys):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    from bakery.app.db import Database

    settings = copy_home(person_home, tmp_path / "home")
    assert _run(capsys, "--home", str(settings.home), "gdpr", "erase", "--user", "mgr2")[0] == 0
    db = Database(f"sqlite:///{settings.home / 'app' / 'app.db'}")
    try:
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DatabaseError, match="append-only"), db.session() as s:
                s.execute(text(statement))
    finally:
        db.dispose()


def test_gdpr_commands_hold_the_writer_lock_without_naming_the_person(tmp_path, capsys):
    parser = build_parser()
    for command in (
        ["gdpr", "erase", "--user", PERSON],
        ["gdpr", "export", "--user", PERSON, "--out", "x.json"],
    ):
        args = parser.parse_args(command)
        assert args.writes_home(args) and args.lock_command == f"bakery gdpr {command[1]}"
    home = tmp_path / "home"
    with lock_held_by_another_process(home, tmp_path):
        code, _, err = _run(capsys, "--home", str(home), "gdpr", "erase", "--user", PERSON)
    assert code == 1 and "another command is writing the home" in err


@pytest.mark.parametrize(
    "value, message",
    [("", "--user: expected a user name"), ("ana\nINFO forged", "--user 'ana\\nINFO forged': control")],
)
def test_a_bad_identifier_is_a_usage_error_naming_the_flag(tmp_path, capsys, value, message):
    code, _, err = _run(capsys, "--home", str(tmp_path / "home"), "gdpr", "erase", "--user", value)
    assert code == 2 and message in err


def test_a_person_is_matched_as_a_whole_word_in_any_case_and_short_names_only_as_whole_fields():
    m = Matcher(["ana", "Ana.Ruiz@example.org", "al"])
    assert m.found_in("uploaded by ANA.") and m.found_in('{"mail": "ana.ruiz@EXAMPLE.org"}')
    assert not any(m.found_in(t) for t in ("banana", "ana_b", "ana@example.org", "x.ana", "all", "al dente"))
    assert m.is_one(" AL ") and m.replace({"by": "al", "note": "al dente with ana"}, "erased:1") == {
        "by": "erased:1",
        "note": "al dente with erased:1",
    }
    assert SECTIONS[0] == "accounts"
