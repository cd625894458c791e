"""The SQL warehouse reader against a local stand-in of the Statement Execution API run by local Spark SQL:
the app's queries answer as over local Delta, slow statements are polled (or cancelled), every chunk is read,
errors are clear, appends land, and values never enter the SQL text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, Unauthenticated
from deltalake import DeltaTable, write_deltalake
from pandas.testing import assert_frame_equal

from bakery.app.serving import DatabricksSqlReader, LocalDeltaReader, ServingData
from bakery.config import Settings
from bakery.ops import upload_batches
from bakery.tables import UPLOAD_BATCHES
from tests.app.conftest import make_home
from tests.app.statement_standin import PREFIX, Statement, StatementStandIn

EVIL = "S01' OR '1'='1"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The app's sample tables, shared by the module's read-only tests (Spark keeps their Delta logs cached)."""
    return make_home(tmp_path_factory.mktemp("warehouse"))


@pytest.fixture
def own_home(tmp_path) -> Settings:
    """A private copy of the sample tables, for tests that commit to them."""
    return make_home(tmp_path)


def _serve(spark, settings: Settings) -> StatementStandIn:
    return StatementStandIn(
        spark,
        settings.tables_dir,
        catalog=settings.get("storage.catalog"),
        schemas=settings.get("storage.schemas"),
    )


@pytest.fixture
def standin(spark, home: Settings) -> Iterator[StatementStandIn]:
    with _serve(spark, home) as server:
        yield server


def _reader(
    home: Settings,
    standin: StatementStandIn,
    token: str | None = None,
    warehouse: str | None = None,
    **kwargs,
) -> DatabricksSqlReader:
    client = WorkspaceClient(host=standin.host, token=token or standin.token)
    return DatabricksSqlReader(
        home.get("storage.catalog"),
        home.get("storage.schemas"),
        warehouse or standin.warehouse_id,
        client,
        **kwargs,
    )


def _statement(standin: StatementStandIn, sql_start: str) -> Statement:
    (st,) = [s for s in standin.statements.values() if s.sql.startswith(sql_start)]
    return st


def test_the_app_queries_answer_as_over_local_delta(home, standin):
    local = ServingData(LocalDeltaReader(home.tables_dir), version_check_seconds=60)
    remote = ServingData(_reader(home, standin), version_check_seconds=60)
    snap, want = remote.forecast_snapshot(), local.forecast_snapshot()
    assert (snap.as_of, snap.store_ids) == (want.as_of, want.store_ids) == (date(2026, 4, 30), ["S01", "S02"])
    for store in want.store_ids:
        assert_frame_equal(snap.by_store[store], want.by_store[store])
    assert_frame_equal(snap.roles, want.roles)
    queries = {  # one of each filter shape and column type the app's pages use (each table costs statements)
        "store scope": lambda d: d.forecasts(["S02"]),
        "stores, one horizon, every role": lambda d: d.forecasts(["S01", "S02"], horizon=7, role=None),
        "history (date range, in)": lambda d: d.past_forecasts(
            "S02", "P003", date(2026, 4, 20), date(2026, 5, 2)
        ),
        "sales (in, date range)": lambda d: d.sales(["S01", "S02"], date(2026, 4, 1), date(2026, 4, 10)),
        "metrics (timestamps, null store)": lambda d: d.metrics(),
        "events (no table)": lambda d: d.events(None),
    }
    for what, query in queries.items():
        got, expected = query(remote), query(local)
        assert len(got) or what == "events (no table)", what
        assert_frame_equal(got, expected, obj=what)


def test_versions_counts_and_missing_tables(home, standin):
    reader, local = _reader(home, standin), LocalDeltaReader(home.tables_dir)
    assert reader.version("gold", "forecasts") == local.version("gold", "forecasts") == 0
    assert reader.version("gold", "no_such_table") is None
    assert reader.count("gold", "daily_sales", 0) == local.count("gold", "daily_sales", 0)


def test_a_new_commit_is_seen(spark, own_home):
    table = own_home.tables_dir / "gold" / "backtest_metrics"
    with _serve(spark, own_home) as standin:
        remote = ServingData(_reader(own_home, standin), version_check_seconds=0)
        first = remote.metrics()
        assert remote.metrics() is first  # cached while the version is unchanged
        later = first.head(1).assign(
            evaluated_at=first["evaluated_at"].max() + pd.Timedelta(days=7), wmape=9.5
        )
        schema = pa.schema(DeltaTable(str(table)).schema().to_arrow())
        write_deltalake(
            str(table), pa.Table.from_pandas(later, schema=schema, preserve_index=False), mode="append"
        )
        now = remote.metrics()
    assert now[now["model"] == "prophet"]["wmape"].tolist() == [9.5]


def test_slow_statements_are_polled_and_every_chunk_is_read(home, standin):
    standin.pending_polls, standin.chunk_rows = 2, 25
    args = (
        "gold",
        "daily_sales",
        0,
        ["store_id", "product_id", "date", "quantity_sold", "stockout"],
        [("store_id", "in", ["S01"]), ("date", ">=", date(2026, 4, 1)), ("promo", "=", False)],
    )
    got = _reader(home, standin).read(*args)
    assert_frame_equal(got, LocalDeltaReader(home.tables_dir).read(*args))
    assert len(got) == 4 * 30
    st = _statement(standin, "SELECT `store_id`")
    gets = [path for method, path in standin.requests if method == "GET"]
    assert gets.count(f"{PREFIX}/{st.id}") == 3  # RUNNING, RUNNING, then the result with chunk 0
    assert [p for p in gets if p.startswith(f"{PREFIX}/{st.id}/result/")] == [
        f"{PREFIX}/{st.id}/result/chunks/{i}" for i in range(1, 5)
    ]


def test_a_statement_that_never_finishes_is_cancelled(home, standin):
    standin.pending_polls = 10**6
    with pytest.raises(TimeoutError, match="cancelled") as raised:
        _reader(home, standin, timeout_seconds=0.5).count("gold", "forecasts", 0)
    (st,) = standin.statements.values()
    assert st.id in str(raised.value) and st.state == "CANCELED"
    assert ("POST", f"{PREFIX}/{st.id}/cancel") in standin.requests


def test_a_bad_token_or_warehouse_is_a_clear_error_not_a_missing_table(home, standin):
    with pytest.raises(Unauthenticated, match="Invalid access token"):
        _reader(home, standin, token="not-the-token").version("gold", "forecasts")
    with pytest.raises(NotFound, match="no-such-warehouse"):
        _reader(home, standin, warehouse="no-such-warehouse").version("gold", "forecasts")
    assert not standin.statements


def test_a_failed_statement_names_the_statement_and_the_cause(home, standin):
    with pytest.raises(RuntimeError, match=r"FAILED .*UNRESOLVED_COLUMN") as raised:
        _reader(home, standin).read("gold", "forecasts", 0, filters=[("no_such_column", "=", 1)])
    assert _statement(standin, "SELECT *").id in str(raised.value)


def test_empty_results_keep_the_local_dtypes(home, standin):
    args = ("gold", "forecasts", 0, None, [("store_id", "=", "S99")])
    got = _reader(home, standin).read(*args)
    assert got.empty
    assert_frame_equal(got, LocalDeltaReader(home.tables_dir).read(*args))


def test_every_column_type_reads_as_delta_rs_reads_it(spark, own_home):
    table = pa.table(
        {
            "i8": pa.array([1, None, -3], pa.int8()),
            "i16": pa.array([300, 2, None], pa.int16()),
            "f32": pa.array([1.5, None, -0.25], pa.float32()),
            "x": [1e-05, float("nan"), float("inf")],
            "n": pa.array([2**40, None, 0], pa.int64()),
            "dec": pa.array([None, Decimal("12.50"), Decimal("-0.01")], pa.decimal128(10, 2)),
            "b": [True, None, False],
            "d": pa.array([date(2026, 4, 30), None, date(1999, 12, 31)], pa.date32()),
            "ts": pa.array(
                [
                    pd.Timestamp("2026-04-30 04:00:00.123456", tz="UTC"),
                    None,
                    pd.Timestamp("2026-03-29 01:30", tz="Europe/Madrid"),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "s": ["Panadería ñ", None, 'it\'s "quoted"\nand multi-line'],
        }
    )
    write_deltalake(str(own_home.tables_dir / "ops" / "types"), table)
    with _serve(spark, own_home) as standin:
        got = _reader(own_home, standin).read("ops", "types", 0)
    assert_frame_equal(got, LocalDeltaReader(own_home.tables_dir).read("ops", "types", 0))


def test_append_inserts_rows_a_later_read_returns(spark, own_home):
    first = pd.DataFrame(
        {
            "batch_id": ["b1", "b2"],
            "kind": "pos",
            "source_file": "pos/pos_S01.csv",
            "original_name": ["ventas.csv", "x'); DROP TABLE x; --.csv"],
            "file_hash": "abc",
            "uploaded_by": "mgr",
            "status": ["accepted", "rejected"],
            "rows_loaded": [12, None],
            "replaces": None,
            "changed_at": pd.Timestamp("2026-05-01 09:30:00.123456", tz="UTC"),
        }
    )
    second = first.head(1).assign(
        batch_id="b3",
        status="accepted",
        rows_loaded=7,
        replaces="b1",
        changed_at=pd.Timestamp("2026-05-02 10:00", tz="UTC"),
    )
    assert first["rows_loaded"].dtype == "float64"  # how pandas holds an integer column with a null
    with _serve(spark, own_home) as standin:
        remote = ServingData(_reader(own_home, standin), version_check_seconds=0)
        upload_batches.append_events(remote.reader, first)  # no table yet: created, as delta-rs does locally
        upload_batches.append_events(remote.reader, second)
        version = remote.version(UPLOAD_BATCHES)
        assert version == 2  # CREATE TABLE, then one INSERT commit per append
        got = remote.reader.read(*UPLOAD_BATCHES, version=version).sort_values("batch_id", ignore_index=True)
    sent = pa.Table.from_pandas(
        pd.concat([first, second], ignore_index=True), schema=upload_batches.SCHEMA, preserve_index=False
    ).to_pandas()
    assert_frame_equal(got, sent)
    local = LocalDeltaReader(own_home.tables_dir).read(*UPLOAD_BATCHES, version=version)  # what delta-rs sees
    assert_frame_equal(local.sort_values("batch_id", ignore_index=True), sent)


def test_values_are_parameters_never_sql_text(home, standin):
    reader = _reader(home, standin)
    assert reader.read("gold", "daily_sales", 0, filters=[("store_id", "=", EVIL)]).empty
    assert reader.read("gold", "daily_sales", 0, filters=[("store_id", "in", [EVIL, "S99"])]).empty
    both = reader.read("gold", "daily_sales", 0, ["store_id"], [("store_id", "in", ["S02", EVIL])])
    assert both["store_id"].unique().tolist() == ["S02"] and len(both) == 4 * 70
    assert any(EVIL in args.values() for _, args in standin.spark_sql)
    assert not any(EVIL in sql for sql, _ in standin.spark_sql)
