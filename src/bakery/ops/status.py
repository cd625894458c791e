"""`bakery status`: what the lakehouse holds, how fresh it is and how the last runs went, in one fast pass."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import reduce
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bakery.config import Settings
from bakery.lakehouse import Lakehouse, TableInfo
from bakery.logs import mlflow_migrations_quiet
from bakery.tables import DAILY_SALES, DQ_RESULTS, FORECASTS, QUARANTINE, RUNS, STORES

log = logging.getLogger(__name__)

DATE_TYPES = ("date", "timestamp", "timestamp_ntz")
RUNS_SHOWN = 20
MODEL_VERSIONS_SHOWN = 10
DQ_FAILURES_SHOWN = 20
SEVERITIES = ("CRITICAL", "WARNING", "INFO")
NULL_FORECASTS = {"latest_as_of": None, "series": None, "horizon_days": None}


@dataclass(frozen=True)
class TableProfile:
    """One table's size, Delta version and date range, measured by its date column (see `date_column`)."""

    layer: str
    name: str
    date_column: str | None
    rows: int
    version: int | None
    first_date: date | None
    latest_date: date | None
    columns: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.layer}.{self.name}"


# ---- which column dates a table (shared with retention) ------------------------------------------
def _derived_candidates(settings: Settings, layer: str, name: str) -> list[str]:
    if layer == "bronze":
        return ["_ingested_at"]  # raw rows are dated by arrival: their event text is not parsed yet
    specs = {spec.table: spec for spec in settings.sources.values()}
    if layer == "silver" and name in specs:
        return [specs[name].event_time] if specs[name].event_time else []
    return list(settings.get("retention.date_column_candidates") or [])


def date_column(settings: Settings, layer: str, name: str, dtypes: dict[str, str]) -> str | None:
    """The date or timestamp column a table's age is measured by, or None (the table is never trimmed).

    Order: `retention.date_columns["layer.name"]` (null exempts the table); bronze -> `_ingested_at`;
    silver source tables -> the source's `event_time` in conf/sources.yml; otherwise the first of
    `retention.date_column_candidates` the table has.
    """
    explicit = settings.get("retention.date_columns") or {}
    key = f"{layer}.{name}"
    if key in explicit:
        column = explicit[key]
        if column is not None and dtypes.get(column) not in DATE_TYPES:
            raise ValueError(
                f"conf retention.date_columns[{key!r}] = {column!r}, but {key} has no date or timestamp "
                f"column of that name (columns: {', '.join(f'{c} {t}' for c, t in dtypes.items())})"
            )
        return column
    return next((c for c in _derived_candidates(settings, layer, name) if dtypes.get(c) in DATE_TYPES), None)


# ---- table profiles: the Delta log where it can tell, else one aggregation ------------------------
def _day(value: date | datetime | None) -> date | None:
    """A date-column statistic as a date; timestamps by their UTC day, as the Spark session reads them."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    return value


def _scan_profiles(
    lh: Lakehouse, settings: Settings, tables: dict[int, TableInfo]
) -> dict[int, TableProfile]:
    """Profiles by reading the tables: ONE aggregation over a union of their date columns (two Spark
    stages however many tables, where one query per table costs a job each)."""
    columns, names, parts = {}, {}, []
    for i, table in tables.items():
        df = lh.read(table.layer, table.name)
        names[i] = tuple(df.columns)
        columns[i] = date_column(settings, table.layer, table.name, dict(df.dtypes))
        day = F.col(columns[i]).cast("date") if columns[i] else F.lit(None).cast("date")
        parts.append(df.select(F.lit(i).alias("i"), day.alias("day")))
    stats = {
        r["i"]: r
        for r in reduce(DataFrame.unionByName, parts)
        .groupBy("i")
        .agg(F.count(F.lit(1)).alias("rows"), F.min("day").alias("lo"), F.max("day").alias("hi"))
        .collect()
    }
    empty = {"rows": 0, "lo": None, "hi": None}
    out = {}
    for i, t in tables.items():
        row = stats.get(i, empty)
        out[i] = TableProfile(
            t.layer,
            t.name,
            columns[i],
            int(row["rows"]),
            lh.version(t.layer, t.name),
            row["lo"],
            row["hi"],
            names[i],
        )
    return out


def profile_tables(
    lh: Lakehouse, settings: Settings, tables: list[TableInfo] | None = None
) -> list[TableProfile]:
    """Rows, version and first/latest date of each table (default: every table in every layer).

    Locally the Delta log's file statistics answer without reading data (milliseconds per table, no
    Spark job); tables whose log cannot (missing statistics) and Unity Catalog tables are scanned.
    """
    tables = lh.list_tables() if tables is None else tables
    profiles: dict[int, TableProfile] = {}
    to_scan: dict[int, TableInfo] = {}
    for i, table in enumerate(tables):
        stats = lh.log_stats(table.layer, table.name)
        column = date_column(settings, table.layer, table.name, stats.dtypes) if stats else None
        if stats is None or (column and stats.rows and column not in stats.low):
            to_scan[i] = table
            continue
        profiles[i] = TableProfile(
            table.layer,
            table.name,
            column,
            stats.rows,
            stats.version,
            _day(stats.low.get(column)),
            _day(stats.high.get(column)),
            tuple(stats.dtypes),
        )
    if to_scan:
        profiles.update(_scan_profiles(lh, settings, to_scan))
    return [profiles[i] for i in range(len(tables))]


# ---- the other sections: small Arrow reads (delta-rs locally, no Spark job) ------------------------
def _iso_utc(value: datetime | None) -> str | None:
    """A UTC instant as ISO 8601 with an explicit +00:00 (naive values are UTC, as ops tables store them)."""
    if value is None:
        return None
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.replace(microsecond=0).isoformat()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _arrow(lh: Lakehouse, layer: str, name: str, columns: list[str], filters=()) -> pa.Table | None:
    return lh.read_arrow(layer, name, columns, filters) if lh.exists(layer, name) else None


def _series(lh: Lakehouse) -> int:
    sold = _arrow(lh, *DAILY_SALES, ["store_id", "product_id"], [("quantity_sold", ">", 0.0)])
    return 0 if sold is None else sold.group_by(["store_id", "product_id"]).aggregate([]).num_rows


def _first_present(columns: tuple[str, ...], names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in columns), None)


def _forecasts(lh: Lakehouse, profile: TableProfile | None) -> dict[str, Any]:
    """The newest forecast run: its as-of date, how many series it covers and how far ahead it reaches."""
    if profile is None:
        return dict(NULL_FORECASTS)
    cols = profile.columns
    as_of, target = _first_present(cols, ("as_of", "cutoff")), _first_present(cols, ("date", "ds"))
    keys = ["store_id", "product_id"] if {"store_id", "product_id"} <= set(cols) else ["unique_id"]
    if not (as_of and target and set(keys) <= set(cols)):
        log.warning("gold.forecasts has no as_of/date/series columns (%s); forecast status unknown", cols)
        return dict(NULL_FORECASTS)
    latest = pc.max(lh.read_arrow(*FORECASTS, [as_of])[as_of]).as_py()
    if latest is None:
        return dict(NULL_FORECASTS)
    run = lh.read_arrow(*FORECASTS, [*keys, target], [(as_of, "=", latest)])
    ahead = max(
        ((_day(d) - _day(latest)).days for d in run[target].to_pylist() if d is not None), default=None
    )
    return {
        "latest_as_of": _day(latest).isoformat(),
        "series": run.group_by(keys).aggregate([]).num_rows,
        "horizon_days": ahead,
    }


def registry_uri(settings: Settings) -> str | None:
    """The MLflow registry of this home, or None when nothing was ever registered (no MLflow import then)."""
    configured = settings.get("mlflow.tracking_uri")
    if configured:
        return str(configured)
    root = settings.mlflow_dir
    if (root / "mlflow.db").is_file():
        return f"sqlite:///{root / 'mlflow.db'}"
    if (root / "models").is_dir():
        return root.as_uri()
    return None


def _models(settings: Settings) -> list[dict[str, Any]]:
    uri = registry_uri(settings)
    if uri is None:
        return []
    from mlflow.tracking import MlflowClient

    out: list[dict[str, Any]] = []
    with mlflow_migrations_quiet():  # opening the stores runs (or checks) their migrations
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        found = [
            (m, client.search_model_versions(f"name='{m.name}'")) for m in client.search_registered_models()
        ]
    for model, all_versions in found:
        versions = sorted(all_versions, key=lambda v: -int(v.version))
        # search_model_versions leaves aliases empty; the registered model carries {alias: version}.
        aliases: dict[str, list[str]] = {}
        for alias, version in (model.aliases or {}).items():
            aliases.setdefault(str(version), []).append(alias)
        out.extend(
            {
                "name": model.name,
                "version": str(v.version),
                "aliases": sorted(aliases.get(str(v.version), [])),
                "created": _iso_utc(datetime.fromtimestamp(v.creation_timestamp / 1000, UTC)),
                "run_id": v.run_id,
                "status": v.status,
            }
            for v in versions[:MODEL_VERSIONS_SHOWN]
        )
    return out


def _runs(lh: Lakehouse) -> list[dict[str, Any]]:
    runs = _arrow(lh, *RUNS, ["job", "started", "status", "seconds", "message"])
    if runs is None:
        return []
    newest = runs.sort_by([("started", "descending")]).slice(0, RUNS_SHOWN).to_pylist()
    return [
        {
            "job": r["job"],
            "started": _iso_utc(r["started"]),
            "status": r["status"],
            "seconds": None if r["seconds"] is None else round(r["seconds"], 1),
            "message": r["message"] or "",
        }
        for r in newest
    ]


def _sources(settings: Settings, profiles: dict[str, TableProfile], today: date) -> list[dict[str, Any]]:
    """Latest silver date per dated source against its freshness window (conf/sources.yml)."""
    out = []
    for kind, spec in sorted(settings.sources.items()):
        if not spec.event_time:
            continue
        profile = profiles.get(f"silver.{spec.table}")
        latest = profile.latest_date if profile else None
        age = (today - latest).days if latest else None
        if spec.freshness_days is None:
            state = "n/a"
        elif latest is None:
            state = "missing"
        else:
            state = "late" if age > spec.freshness_days else "fresh"
        out.append(
            {
                "source": kind,
                "table": f"silver.{spec.table}",
                "latest_date": _iso(latest),
                "age_days": age,
                "freshness_days": spec.freshness_days,
                "status": state,
            }
        )
    return out


def quarantine_summary(lh: Lakehouse) -> dict[str, Any]:
    """Rows in ops.quarantine: the total and the count per (source, rule), largest first."""
    rejected = _arrow(lh, *QUARANTINE, ["source", "rule"])
    if rejected is None:
        return {"total": 0, "by_rule": []}
    counts = rejected.group_by(["source", "rule"]).aggregate([([], "count_all")]).to_pylist()
    counts.sort(key=lambda r: (-r["count_all"], r["source"], r["rule"]))
    return {
        "total": rejected.num_rows,
        "by_rule": [{"source": r["source"], "rule": r["rule"], "rows": r["count_all"]} for r in counts],
    }


def _data_quality(lh: Lakehouse) -> dict[str, Any]:
    """Failed expectations of the most recent batch checked, counted by severity."""
    results = _arrow(
        lh,
        *DQ_RESULTS,
        ["batch_id", "checked_at", "source", "expectation", "column", "severity", "success", "observed"],
    )
    if results is None or results.num_rows == 0:
        return {
            "batch_id": None,
            "checked_at": None,
            "expectations": 0,
            "failed": dict.fromkeys(SEVERITIES, 0),
            "failures": [],
        }
    last = results.sort_by([("checked_at", "descending")]).slice(0, 1).to_pylist()[0]
    rows = [r for r in results.to_pylist() if r["batch_id"] == last["batch_id"]]
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    failed = sorted(
        (r for r in rows if not r["success"]), key=lambda r: (rank.get(r["severity"], 9), r["source"])
    )
    counts = dict.fromkeys(SEVERITIES, 0)
    for r in failed:
        counts[r["severity"]] = counts.get(r["severity"], 0) + 1
    return {
        "batch_id": last["batch_id"],
        "checked_at": _iso_utc(last["checked_at"]),
        "expectations": len(rows),
        "failed": counts,
        "failures": [
            {
                **{k: r[k] for k in ("source", "expectation", "column", "severity")},
                "observed": None if r["observed"] is None else str(r["observed"]),
            }
            for r in failed[:DQ_FAILURES_SHOWN]
        ],
    }


def collect_status(lh: Lakehouse, settings: Settings, today: date | None = None) -> dict[str, Any]:
    """Everything `bakery status` reports, as one JSON-able dict (the shape is in docs/contract.md)."""
    today = today or date.today()
    profiles = {p.key: p for p in profile_tables(lh, settings)}
    stores = profiles.get(str(STORES))
    return {
        "home": str(settings.home),
        "generated_at": _iso_utc(datetime.now(UTC)),
        "tables": [
            {
                "layer": p.layer,
                "name": p.name,
                "rows": p.rows,
                "version": p.version,
                "latest_date": _iso(p.latest_date),
                "date_column": p.date_column,
            }
            for p in profiles.values()
        ],
        "stores": stores.rows if stores else 0,
        "series": _series(lh),
        "forecasts": _forecasts(lh, profiles.get(str(FORECASTS))),
        "models": _models(settings),
        "runs": _runs(lh),
        "sources": _sources(settings, profiles, today),
        "quarantine": quarantine_summary(lh),
        "data_quality": _data_quality(lh),
    }


# ---- terminal rendering ---------------------------------------------------------------------------
def _grid(headers: list[str], rows: list[list[Any]], indent: str = "  ") -> list[str]:
    """A plain fixed-width table; numbers right-aligned, None shown as '-'."""

    def cell(v: Any) -> str:
        if v is None:
            return "-"
        return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)

    text = [[cell(v) for v in row] for row in rows]
    numeric = [all(isinstance(r[i], int | float) or r[i] is None for r in rows) for i in range(len(headers))]
    widths = [max([len(h)] + [len(r[i]) for r in text]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return (
            indent
            + "  ".join(
                v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
            ).rstrip()
        )

    return [line(headers)] + [line(r) for r in text]


def _section(title: str, headers: list[str], rows: list[list[Any]], empty: str | None = None) -> list[str]:
    if not rows:
        return [] if empty is None else ["", f"{title}: {empty}"]
    return ["", title, *_grid(headers, rows)]


def _quality_lines(dq: dict[str, Any]) -> list[str]:
    if dq.get("batch_id") is None and not dq.get("expectations"):
        return []
    failed = ", ".join(f"{n} {severity.lower()}" for severity, n in dq["failed"].items())
    lines = ["", f"Data quality, batch {dq['batch_id']}: {dq['expectations']} expectations, failed: {failed}"]
    for f in dq["failures"]:
        column = f"({f['column']})" if f["column"] else ""
        lines.append(
            f"  {f['severity']:<8} {f['source']}: {f['expectation']}{column} observed {str(f['observed'])[:60]}"
        )
    return lines


def render_status(status: dict[str, Any]) -> str:
    """The status dict as a readable terminal report."""
    fc = status["forecasts"]
    quarantine = status.get("quarantine") or {"total": 0, "by_rule": []}
    lines = [f"Lakehouse {status.get('home', '')}  (status at {status.get('generated_at', '')})"]
    lines += _section(
        "Tables",
        ["layer", "table", "rows", "version", "latest date"],
        [[t["layer"], t["name"], t["rows"], t["version"], t["latest_date"]] for t in status["tables"]],
        empty="none yet; run `bakery ingest` (or `bakery demo`)",
    )
    lines += [
        "",
        f"Stores: {status['stores']}    series with sales: {status['series']}",
        f"Forecasts: as of {fc['latest_as_of']}, {fc['series']} series, {fc['horizon_days']} days ahead"
        if fc.get("latest_as_of")
        else "Forecasts: none yet",
    ]
    lines += _section(
        "Models",
        ["model", "version", "aliases", "created"],
        [[m["name"], m["version"], ",".join(m["aliases"]), m.get("created")] for m in status["models"]],
    ) or ["Models: none registered"]
    lines += _section(
        "Source freshness (silver)",
        ["source", "latest date", "age (days)", "max age", "status"],
        [
            [s["source"], s["latest_date"], s["age_days"], s["freshness_days"], s["status"]]
            for s in status.get("sources", [])
        ],
    )
    lines += _quality_lines(status.get("data_quality") or {})
    lines += _section(
        f"Quarantine: {quarantine['total']:,} rows or files",
        ["source", "rule", "rows"],
        [[q["source"], q["rule"], q["rows"]] for q in quarantine["by_rule"]],
    )
    lines += _section(
        "Last runs",
        ["started", "job", "status", "seconds", "message"],
        [
            [r["started"], r["job"], r["status"], r["seconds"], (r["message"] or "")[:60]]
            for r in status["runs"]
        ],
        empty="none yet",
    )
    return "\n".join(lines)
