"""The gold step: rebuild gold.daily_sales and gold.features from silver when their inputs changed.

Each gold table is rewritten whole in one atomic commit that records the silver versions, settings and
code it was built from (Delta userMetadata). A rerun over unchanged silver therefore commits nothing, and a
table whose sources were blocked by data quality keeps its previous version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from bakery.config import Settings
from bakery.gold.calendar import CalendarConfig, build_calendar, calendar_fields, calendar_schema
from bakery.gold.daily_sales import build_daily_sales, daily_sales_table, observed_sales
from bakery.gold.dictionary import load_dictionary, with_comments, write_dictionary
from bakery.gold.features import FeatureConfig, build_features
from bakery.lakehouse import Lakehouse, struct_type
from bakery.tables import INVENTORY_DAILY

log = logging.getLogger(__name__)

# Source kinds each gold table depends on (deliveries feed silver.inventory_daily).
DAILY_SALES_SOURCES = ("pos", "sales", "inventory", "deliveries", "products")
FEATURE_SOURCES = (*DAILY_SALES_SOURCES, "stores", "weather", "events")
GOLD_TABLES = {"daily_sales": DAILY_SALES_SOURCES, "features": FEATURE_SOURCES}
# Commits that change a table's metadata but not its rows; they do not make gold stale.
_METADATA_OPERATIONS = {
    "SET TBLPROPERTIES",
    "UNSET TBLPROPERTIES",
    "CHANGE COLUMN",
    "CHANGE COLUMNS",
    "VACUUM START",
    "VACUUM END",
    "OPTIMIZE",
    "ADD CONSTRAINT",
    "DROP CONSTRAINT",
    "UPGRADE PROTOCOL",
}
_HISTORY_DEPTH = 25
# The columns of silver.inventory_daily gold reads (an empty frame of them stands in before the table exists).
_INVENTORY_READ = ("store_id", "product_id", "date", "stockout")
_SPARK_TYPES = {
    "string": T.StringType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "double": T.DoubleType(),
    "long": T.LongType(),
    "boolean": T.BooleanType(),
}


KEPT = "kept"  # a gold table left as it was: sources it reads were blocked by data quality


@dataclass
class GoldTable:
    """What happened to one gold table: built, unchanged, kept (sources blocked) or skipped (no data)."""

    name: str
    action: str
    reason: str = ""
    rows: int | None = None
    version: int | None = None


@dataclass
class GoldResult:
    """The gold step's report."""

    ok: bool = True
    tables: list[GoldTable] = field(default_factory=list)
    blocked_sources: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dictionary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def summary_lines(self) -> list[str]:
        return [line for _, line in self.summary()]

    def summary(self) -> list[tuple[int, str]]:
        """(logging level, line): a table kept as it was because its sources were blocked is an error, a warning
        a warning, the rest information."""
        lines = []
        for t in self.tables:
            rows = f" {t.rows:,} rows" if t.rows is not None else ""
            version = f" (v{t.version})" if t.version is not None else ""
            reason = f": {t.reason}" if t.reason else ""
            level = logging.ERROR if t.action == KEPT else logging.INFO
            lines.append((level, f"gold.{t.name}: {t.action}{rows}{version}{reason}"))
        if self.dictionary:
            d = self.dictionary
            gaps = f", {len(d['undocumented'])} undocumented" if d.get("undocumented") else ""
            lines.append(
                (
                    logging.INFO,
                    f"data dictionary: {d['tables']} tables, {len(d['commented'])} re-commented{gaps} "
                    f"-> {d['path']}",
                )
            )
        lines.extend((logging.WARNING, f"warning: {w}") for w in self.warnings)
        return lines

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- inputs -------------------------------------------------------------------------------------
def _blocked_kinds(settings: Settings, blocked: set[str] | frozenset[str] | None) -> set[str]:
    """Blocked sources as kinds, whether silver reported kinds (pos) or table names (pos_transactions)."""
    names = {str(b) for b in blocked or ()}
    return {kind for kind, spec in settings.sources.items() if kind in names or spec.table in names}


def _silver_tables(settings: Settings) -> dict[str, str]:
    """Source kind -> the silver table gold reads for it."""
    tables = {
        kind: settings.source(kind).table
        for kind in ("pos", "sales", "products", "stores", "weather", "events")
    }
    return {**tables, "inventory": INVENTORY_DAILY.name}


def _empty_schema(settings: Settings, kind: str) -> T.StructType:
    if kind == "inventory":
        return T.StructType(
            [
                T.StructField(f.name, f.dataType)
                for f in struct_type(INVENTORY_DAILY)
                if f.name in _INVENTORY_READ
            ]
        )
    spec = settings.source(kind)
    fields = [T.StructField(c.name, _SPARK_TYPES[c.type]) for c in spec.columns]
    if spec.event_time and spec.column(spec.event_time).type == "timestamp":
        fields.append(T.StructField("local_date", T.DateType()))
    return T.StructType(fields)


def _read_silver(lh: Lakehouse, settings: Settings, kind: str) -> DataFrame:
    """A silver table, or an empty one of the contract's shape when it does not exist (yet)."""
    table = _silver_tables(settings)[kind]
    if lh.exists("silver", table):
        return lh.read("silver", table)
    return lh.spark.createDataFrame([], _empty_schema(settings, kind))


def _last_data_commit(lh: Lakehouse, layer: str, name: str) -> tuple[int, str | None] | None:
    """(version, userMetadata) of the table's latest commit that changed rows; None if it does not exist."""
    if not lh.exists(layer, name):
        return None
    commits = lh.history(layer, name, limit=_HISTORY_DEPTH)
    for commit in commits:
        if commit["operation"] not in _METADATA_OPERATIONS:
            return commit["version"], commit["user_metadata"]
    return commits[-1]["version"], None


def _code_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _lineage(settings: Settings, inputs: dict[str, int | None], kinds: tuple[str, ...]) -> str:
    """The userMetadata a gold table is written with: its silver input versions plus a fingerprint."""
    tables = _silver_tables(settings)
    used = {f"silver.{tables[k]}": inputs[k] for k in kinds if k in tables}
    basis = json.dumps(
        {"inputs": used, "gold": settings.get("gold", {}), "code": _code_hash()}, sort_keys=True, default=str
    )
    return json.dumps(
        {"bakery_gold": hashlib.sha256(basis.encode()).hexdigest()[:24], "inputs": used}, sort_keys=True
    )


def _fingerprint(user_metadata: str | None) -> str | None:
    try:
        return json.loads(user_metadata or "").get("bakery_gold")
    except (ValueError, AttributeError):
        return None


# ---- build --------------------------------------------------------------------------------------
def _offered_window(settings: Settings) -> int:
    window = settings.get("gold.offered_window_days", 14)
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise ValueError(f"gold.offered_window_days must be a whole number of days >= 1, got {window!r}")
    return window


def _calendar(lh: Lakehouse, settings: Settings, sales: DataFrame, warnings: list[str]) -> DataFrame:
    cfg = CalendarConfig.from_settings(settings)
    bounds = sales.agg(F.min("date").alias("lo"), F.max("date").alias("hi")).first()
    stores = _read_silver(lh, settings, "stores").toPandas()
    events = _read_silver(lh, settings, "events").toPandas()
    pdf = build_calendar(stores, events, bounds.lo, bounds.hi, cfg, warnings=warnings)
    return lh.spark.createDataFrame(pdf, calendar_schema(cfg))


def _write(lh: Lakehouse, df: DataFrame, name: str, lineage: str, rows: int, settings: Settings) -> GoldTable:
    lh.overwrite(
        with_comments(df, load_dictionary(settings), "gold", name), "gold", name, user_metadata=lineage
    )
    return GoldTable(name, "built", rows=rows, version=lh.version("gold", name))


def _build(lh: Lakehouse, settings: Settings, todo: dict[str, str], result: GoldResult) -> list[GoldTable]:
    """Compute the daily sales once and write the tables in `todo` (name -> lineage)."""
    window = _offered_window(settings)
    observed = observed_sales(
        _read_silver(lh, settings, "pos"), _read_silver(lh, settings, "sales")
    ).persist()
    sales = build_daily_sales(
        observed, _read_silver(lh, settings, "inventory"), _read_silver(lh, settings, "products"), window
    ).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        rows = sales.count()
        out = []
        if "daily_sales" in todo:
            out.append(
                _write(lh, daily_sales_table(sales), "daily_sales", todo["daily_sales"], rows, settings)
            )
        if "features" in todo:
            cfg = CalendarConfig.from_settings(settings)
            features = build_features(
                sales,
                _calendar(lh, settings, sales, result.warnings),
                _read_silver(lh, settings, "weather"),
                _read_silver(lh, settings, "stores"),
                _read_silver(lh, settings, "products"),
                FeatureConfig.from_settings(settings),
                [name for name, _ in calendar_fields(cfg)],
            )
            out.append(_write(lh, features, "features", todo["features"], rows, settings))
        return out
    finally:
        observed.unpersist()
        sales.unpersist()


def build_gold(lh: Lakehouse, settings: Settings, blocked_sources: set[str] | None = None) -> GoldResult:
    """Bring gold.daily_sales and gold.features up to date with silver, then refresh the data dictionary."""
    t0 = time.perf_counter()
    _offered_window(settings)
    FeatureConfig.from_settings(settings)
    CalendarConfig.from_settings(settings)
    result = GoldResult(blocked_sources=sorted(_blocked_kinds(settings, blocked_sources)))
    blocked = set(result.blocked_sources)
    inputs = {
        kind: (c[0] if (c := _last_data_commit(lh, "silver", table)) else None)
        for kind, table in _silver_tables(settings).items()
    }
    todo: dict[str, str] = {}
    for name, kinds in GOLD_TABLES.items():
        hit = sorted(blocked & set(kinds))
        previous = _last_data_commit(lh, "gold", name)
        if hit:
            kept = f"kept v{previous[0]}" if previous else "not built yet"
            result.tables.append(
                GoldTable(
                    name,
                    KEPT,
                    f"source(s) {', '.join(hit)} blocked by data quality; previous gold {kept}",
                    version=previous[0] if previous else None,
                )
            )
        elif inputs["pos"] is None and inputs["sales"] is None:
            result.tables.append(GoldTable(name, "skipped", "no sales in silver yet (pos or sales)"))
        else:
            lineage = _lineage(settings, inputs, kinds)
            if previous and _fingerprint(previous[1]) == _fingerprint(lineage):
                result.tables.append(
                    GoldTable(name, "unchanged", "silver inputs unchanged", version=previous[0])
                )
            else:
                todo[name] = lineage
    if todo:
        result.tables.extend(_build(lh, settings, todo, result))
        result.tables.sort(key=lambda t: list(GOLD_TABLES).index(t.name))
    result.dictionary = asdict(write_dictionary(lh, settings))
    result.seconds = round(time.perf_counter() - t0, 2)
    for level, line in result.summary():
        log.log(level, "%s", line)
    return result
