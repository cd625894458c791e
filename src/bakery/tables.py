"""The table catalog: every Delta table of a home, with its layer, name, columns, keys and date column.

The one place a table address or schema is spelled. The pipeline, the app and the data dictionary import
their tables from here, so renaming a table or adding a column is one edit, and the app and the pipeline
cannot disagree on a name. No Spark and no Arrow here: schemas are DDL text ("column type [NOT NULL], ..."),
which `bakery.spark_schema` turns into a Spark StructType and `arrow_schema` below into an Arrow schema.

The bronze and silver tables of the sources are declared by conf/sources.yml (one per source, named by
its `table`); `source_tables` turns those specs into catalog entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import pyarrow as pa

    from bakery.config import SourceSpec

LAYERS = ("bronze", "silver", "gold", "ops")
SOURCE_LAYERS = ("bronze", "silver")  # the layers holding one table per source of conf/sources.yml


class Field(NamedTuple):
    name: str
    type: str
    nullable: bool


@dataclass(frozen=True, eq=False)
class Table:
    """One Delta table. It iterates, compares and hashes as its (layer, name) address, so `lh.read(*TABLE)`
    addresses it and it keys a dict wherever an address tuple does."""

    layer: str
    name: str
    schema: str
    keys: tuple[str, ...]
    date_column: str | None = None

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"table {self.name!r}: unknown layer {self.layer!r}; expected one of {LAYERS}")
        missing = [k for k in self.keys if k not in self.columns]
        if missing:
            raise ValueError(f"table {self}: keys {missing} are not columns of its schema")

    def __iter__(self) -> Iterator[str]:
        return iter((self.layer, self.name))

    def __str__(self) -> str:
        return f"{self.layer}.{self.name}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Table):
            return self.address == other.address
        return isinstance(other, tuple) and self.address == other

    def __hash__(self) -> int:
        return hash(self.address)

    @property
    def address(self) -> tuple[str, str]:
        return (self.layer, self.name)

    @property
    def fields(self) -> list[Field]:
        out = []
        for part in self.schema.split(","):
            words = part.split()
            if len(words) not in (2, 4) or (
                len(words) == 4 and [w.upper() for w in words[2:]] != ["NOT", "NULL"]
            ):
                raise ValueError(f"table {self}: bad schema field {part.strip()!r}")
            out.append(Field(words[0], words[1].lower(), len(words) == 2))
        return out

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


# ---- silver tables of sources the app and the forecasting read by name ------------------------------
# Declared by conf/sources.yml like every source table; spelled here too because the app reads them without
# loading the sources. tests/test_tables.py checks they match the shipped sources.yml.
STORES = Table(
    "silver",
    "stores",
    "store_id string, name string, city string, country string, subdivision string, timezone string, "
    "latitude double, longitude double, store_type string",
    keys=("store_id",),
)
PRODUCTS = Table(
    "silver",
    "products",
    "product_id string, name string, category string, unit_price double, shelf_life_days long, launched_on date",
    keys=("product_id",),
)
EVENTS = Table(
    "silver",
    "events",
    "event_date_start date, event_date_end date, event_name string, event_type string, scope string",
    keys=("event_date_start", "event_name", "scope"),
    date_column="event_date_start",
)

# ---- silver tables derived from several sources ------------------------------------------------------
INVENTORY_DAILY = Table(
    "silver",
    "inventory_daily",
    "store_id string NOT NULL, product_id string NOT NULL, date date NOT NULL, opening_stock double NOT NULL, "
    "delivered double NOT NULL, sold double NOT NULL, closing_stock double NOT NULL, snapshot_stock double, "
    "stockout boolean NOT NULL, source string NOT NULL, correction double NOT NULL",
    keys=("store_id", "product_id", "date"),
    date_column="date",
)

# ---- gold -------------------------------------------------------------------------------------------
DAILY_SALES = Table(
    "gold",
    "daily_sales",
    "store_id string NOT NULL, product_id string NOT NULL, date date NOT NULL, quantity_sold double, "
    "revenue double, n_transactions long, is_open boolean NOT NULL, is_offered boolean NOT NULL, "
    "status string NOT NULL, stockout boolean NOT NULL, promo boolean NOT NULL, source string",
    keys=("store_id", "product_id", "date"),
    date_column="date",
)
# Columns are the daily sales' plus calendar, weather, store and product features (bakery.gold.features),
# which follow conf/base.yml; the catalog fixes the series keys and the target.
FEATURES = Table(
    "gold",
    "features",
    "unique_id string, store_id string, product_id string, date date, y double",
    keys=("store_id", "product_id", "date"),
    date_column="date",
)
FORECASTS = Table(
    "gold",
    "forecasts",
    "as_of date, store_id string, product_id string, date date, horizon int, model string, "
    "model_version string, role string, yhat double, yhat_lower double, yhat_upper double, "
    "components string, explanation string, fallback_reason string, reason_code string, launched_on date, "
    "reason_facts string",
    keys=("as_of", "store_id", "product_id", "date", "role"),
    date_column="as_of",
)
STORE_FORECASTS = Table(
    "gold",
    "store_forecasts",
    "as_of date, store_id string, date date, horizon int, role string, model_version string, "
    "yhat double, yhat_lower double, yhat_upper double, products long",
    keys=("as_of", "store_id", "date", "role"),
    date_column="as_of",
)
BACKTEST_METRICS = Table(
    "gold",
    "backtest_metrics",
    "evaluated_at timestamp, source string, run_id string, model string, horizon int, store_id string, "
    "wmape double, mae double, rmse double, mape double, bias double, n long",
    keys=("evaluated_at", "source", "model", "horizon", "store_id"),
    date_column="evaluated_at",
)
BACKTEST_RESULTS = Table(
    "gold",
    "backtest_results",
    "run_id string, unique_id string, store_id string, product_id string, cutoff date, date date, "
    "horizon int, y double, model string, yhat double, yhat_lower double, yhat_upper double",
    keys=("run_id", "unique_id", "cutoff", "date", "model"),
    date_column="cutoff",
)
# Tomorrow's bake quantity per store and product (bakery.decisions): the forecast and the quantile behind it, the
# stock carried over, batches, where the costs came from and whether the plan stands on degraded data.
BAKE_PLAN = Table(
    "gold",
    "bake_plan",
    "store_id string NOT NULL, product_id string NOT NULL, date date NOT NULL, as_of date NOT NULL, "
    "quantity double NOT NULL, forecast double, quantile double, quantile_level double, quantiles string, "
    "batches long, batch_size double, carried_over double, display_min double, unit_price double, "
    "unit_cost double, cost_source string, model_version string, degraded boolean NOT NULL, "
    "degraded_reason string, reason string, cu double, co double",
    keys=("store_id", "product_id", "date"),
    date_column="date",
)
# Managers' overrides of the plan, as the app landed them (bakery.decisions.overrides); one row per override, the
# latest per store, product and date is in force.
BAKE_OVERRIDES = Table(
    "silver",
    "bake_overrides",
    "override_id string NOT NULL, store_id string NOT NULL, product_id string NOT NULL, date date NOT NULL, "
    "plan_quantity double, quantity double NOT NULL, reason_code string NOT NULL, note string, username string, "
    "created_at timestamp NOT NULL, source_file string",
    keys=("override_id",),
    date_column="date",
)
# Each override in force scored against the plan once the day's sales are in (bakery.decisions.overrides).
OVERRIDE_SCORES = Table(
    "gold",
    "override_scores",
    "store_id string NOT NULL, product_id string NOT NULL, date date NOT NULL, override_id string NOT NULL, "
    "username string, reason_code string, plan_quantity double, quantity double, demand double, "
    "demand_censored boolean, cu double, co double, plan_cost double, override_cost double, fva_eur double, "
    "fva_units double",
    keys=("store_id", "product_id", "date"),
    date_column="date",
)
# Baked, sold, wasted and lost sales per store, product and day, in units and euros (bakery.decisions.ledger).
LEDGER = Table(
    "gold",
    "ledger",
    "store_id string NOT NULL, product_id string NOT NULL, date date NOT NULL, baked double, carried_over double, "
    "sold double, carried_forward double, correction double, wasted double, stockout boolean, lost_sales double, "
    "baked_eur double, sold_eur double, wasted_eur double, lost_sales_eur double, cost_source string",
    keys=("store_id", "product_id", "date"),
    date_column="date",
)

# ---- ops --------------------------------------------------------------------------------------------
RUNS = Table(
    "ops",
    "runs",
    "run_id string NOT NULL, job string NOT NULL, started timestamp NOT NULL, finished timestamp, "
    "status string NOT NULL, seconds double, message string, details string",
    keys=("run_id", "status"),
    date_column="started",
)
QUARANTINE = Table(
    "ops",
    "quarantine",
    "source string NOT NULL, source_file string, row_number long, batch_id string, rule string NOT NULL, "
    "column string, reason string NOT NULL, raw string, quarantined_at timestamp NOT NULL",
    keys=("source", "source_file", "row_number", "rule"),
    date_column="quarantined_at",
)
DQ_RESULTS = Table(
    "ops",
    "dq_results",
    "run_id string NOT NULL, batch_id string, source string NOT NULL, suite string NOT NULL, "
    "expectation string NOT NULL, column string, severity string NOT NULL, success boolean NOT NULL, "
    "observed string, checked_at timestamp NOT NULL",
    keys=("run_id", "source", "suite", "expectation", "column"),
    date_column="checked_at",
)
SILVER_PROGRESS = Table(
    "ops",
    "silver_progress",
    "step string NOT NULL, source string NOT NULL, batch_id string NOT NULL, bronze_rows long, "
    "run_batch_id string, processed_at timestamp NOT NULL",
    keys=("step", "source", "batch_id"),
    date_column="processed_at",
)
RECONCILIATION = Table(
    "ops",
    "reconciliation",
    "batch_id string NOT NULL, source string NOT NULL, bronze_rows long NOT NULL, silver_rows long NOT NULL, "
    "quarantined long NOT NULL, duplicates long NOT NULL, held_back long NOT NULL, retired long, "
    "status string NOT NULL, run_batch_id string, checked_at timestamp NOT NULL",
    keys=("batch_id", "source"),
    date_column="checked_at",
)
INGESTED_FILES = Table(
    "ops",
    "ingested_files",
    "source string NOT NULL, source_file string NOT NULL, file_hash string NOT NULL, size_bytes long, "
    "rows long, status string NOT NULL, reason string, batch_id string NOT NULL, ingested_at timestamp NOT NULL",
    keys=("source", "source_file", "file_hash"),
    date_column="ingested_at",
)
# Written by the app's uploads (bakery.ops.upload_batches), read by silver to retire deleted/replaced uploads.
UPLOAD_BATCHES = Table(
    "ops",
    "upload_batches",
    "batch_id string, kind string, source_file string, original_name string, file_hash string, "
    "uploaded_by string, status string, rows_loaded long, replaces string, changed_at timestamp",
    keys=("batch_id", "status", "changed_at"),
    date_column="changed_at",
)
TUNED_PARAMS = Table(
    "ops",
    "tuned_params",
    "tuned_at timestamp, as_of date, unique_id string, params string, loss double, default_loss double, "
    "n_evals int, n_series int, fold_cutoffs string, reason string",
    keys=("tuned_at", "unique_id"),
    date_column="tuned_at",
)

# ---- monitoring -------------------------------------------------------------------------------------
LIVE_ACCURACY = Table(
    "gold",
    "live_accuracy",
    "evaluated_on date, window_days int, level string, store_id string, product_id string, horizon int, "
    "role string, wmape double, mae double, bias double, naive_wmape double, median_daily_wmape double, "
    "n long, expected_wmape double, breach boolean",
    keys=("evaluated_on", "window_days", "level", "store_id", "product_id", "horizon", "role"),
    date_column="evaluated_on",
)
FEATURE_DRIFT = Table(
    "gold",
    "feature_drift",
    "evaluated_on date, store_id string, feature string, psi double, ks_stat double, ks_pvalue double, "
    "reference_mean double, current_mean double, reference_days long, current_days long, drifted boolean",
    keys=("evaluated_on", "store_id", "feature"),
    date_column="evaluated_on",
)
ALERTS = Table(
    "ops",
    "alerts",
    "alert_id string NOT NULL, raised_at timestamp NOT NULL, kind string NOT NULL, severity string NOT NULL, "
    "title string NOT NULL, detail string, stores array<string>, series array<string>, since timestamp, "
    "link string, fingerprint string NOT NULL, status string NOT NULL, deliveries string, run_id string",
    keys=("alert_id",),
    date_column="raised_at",
)

TABLES: tuple[Table, ...] = (
    STORES,
    PRODUCTS,
    EVENTS,
    INVENTORY_DAILY,
    DAILY_SALES,
    FEATURES,
    FORECASTS,
    STORE_FORECASTS,
    BACKTEST_METRICS,
    BACKTEST_RESULTS,
    BAKE_PLAN,
    BAKE_OVERRIDES,
    OVERRIDE_SCORES,
    LEDGER,
    RUNS,
    QUARANTINE,
    DQ_RESULTS,
    SILVER_PROGRESS,
    RECONCILIATION,
    INGESTED_FILES,
    UPLOAD_BATCHES,
    TUNED_PARAMS,
    LIVE_ACCURACY,
    FEATURE_DRIFT,
    ALERTS,
)


def source_table(layer: str, spec: SourceSpec) -> Table:
    """The bronze or silver table of one source of conf/sources.yml (its declared columns and keys)."""
    if layer not in SOURCE_LAYERS:
        raise ValueError(f"source {spec.kind!r}: sources have tables in {SOURCE_LAYERS}, not {layer!r}")
    schema = ", ".join(f"{c.name} {c.type}" for c in spec.columns)  # sources.yml types are DDL type names
    return Table(layer, spec.table, schema, keys=tuple(spec.keys), date_column=spec.event_time)


def source_tables(specs: Iterable[SourceSpec]) -> list[Table]:
    """The bronze and silver tables of the sources, bronze first."""
    specs = list(specs)
    return [source_table(layer, spec) for layer in SOURCE_LAYERS for spec in specs]


def all_tables(specs: Iterable[SourceSpec]) -> list[Table]:
    """Every table of a home: the sources' bronze and silver tables, then the catalog's, in layer order
    (a source table the catalog also spells appears once)."""
    tables = list(dict.fromkeys([*source_tables(specs), *TABLES]))
    return sorted(tables, key=lambda t: LAYERS.index(t.layer))


def find(layer: str, name: str, specs: Iterable[SourceSpec] = ()) -> Table | None:
    """The catalog entry of layer.name, or None."""
    return next((t for t in all_tables(specs) if t.address == (layer, name)), None)


def source_silver(sources: Mapping[str, SourceSpec], kind: str) -> Table | None:
    """The silver table of source `kind` as conf/sources.yml names it (None when the source is not configured)."""
    spec = sources.get(kind)
    return find("silver", spec.table, [spec]) if spec is not None else None


_ARROW_TYPES = {
    "string": "string",
    "long": "int64",
    "int": "int32",
    "double": "float64",
    "boolean": "bool_",
    "date": "date32",
}


def arrow_schema(table: Table) -> pa.Schema:
    """The Arrow schema of a table (timestamps in microseconds, UTC), for writers that bypass Spark."""
    import pyarrow as pa

    def arrow_type(name: str) -> pa.DataType:
        if name == "timestamp":
            return pa.timestamp("us", tz="UTC")
        if name.startswith("array<") and name.endswith(">"):
            return pa.list_(arrow_type(name[len("array<") : -1]))
        return getattr(pa, _ARROW_TYPES[name])()

    return pa.schema([pa.field(f.name, arrow_type(f.type), f.nullable) for f in table.fields])
