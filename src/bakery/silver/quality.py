"""Data-quality suites (conf/quality/<kind>.yml) run with Great Expectations on each cleaned batch.

A suite file lists expectations by GX type, column (one name or a list: one expectation each), kwargs
and severity (CRITICAL | WARNING | INFO). Kwargs a suite leaves out come from conf/sources.yml, so
ranges and keys are written once: `expect_column_values_to_be_between` takes the column's min/max,
`expect_column_values_to_be_in_set` its values, `expect_column_values_to_be_in_type_list` its type,
`expect_compound_columns_to_be_unique` the natural keys and `expect_table_columns_to_match_set` the
silver columns. `freshness: {severity: ...}` checks, against the silver table, that every store's
latest event date is within the source's `freshness_days` of the as-of date.

Schema expectations (columns, types) always run on GX's Spark engine: they only read the DataFrame's
schema, no Spark job. Value expectations run on GX's pandas engine for small batches (a Spark job per
metric costs far more than converting a few thousand rows) and on its Spark engine for large ones;
`quality.pandas_max_rows` is the switch-over and `quality.engine` (auto | pandas | spark) forces one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bakery.config import Settings, SourceSpec
from bakery.lakehouse import Lakehouse
from bakery.silver.cleaning import event_date_column, silver_columns

log = logging.getLogger(__name__)

SEVERITIES = ("CRITICAL", "WARNING", "INFO")
FRESHNESS = "freshness"
DEFAULT_PANDAS_MAX_ROWS = 200_000
# How a silver column type shows up in GX's Spark type metric.
SPARK_TYPE_NAMES = {
    "string": "StringType",
    "double": "DoubleType",
    "long": "LongType",
    "boolean": "BooleanType",
    "date": "DateType",
    "timestamp": "TimestampType",
}
# Expectations answered from the schema alone.
SCHEMA_EXPECTATIONS = frozenset(
    {
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_column_to_exist",
        "expect_table_column_count_to_equal",
        "expect_column_values_to_be_in_type_list",
        "expect_column_values_to_be_of_type",
    }
)


@dataclass(frozen=True)
class ExpectationSpec:
    """One configured expectation: GX type, column (None for table-level), kwargs, severity."""

    type: str
    column: str | None
    kwargs: dict[str, Any]
    severity: str


@dataclass(frozen=True)
class SuiteConfig:
    """A source's suite as read from conf/quality/<kind>.yml."""

    name: str
    expectations: tuple[ExpectationSpec, ...]
    freshness_severity: str | None


@dataclass
class DQResult:
    """One expectation's outcome, as stored in ops.dq_results."""

    source: str
    suite: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed: str

    def describe(self) -> str:
        target = f"({self.column})" if self.column else ""
        return f"{self.expectation}{target} [{self.severity}] observed {self.observed}"


def blocks(settings: Settings, results: list[DQResult]) -> bool:
    """Whether failed results stop the source: `quality.stop_on` is critical (default), warning or never."""
    stop_on = str(settings.get("quality.stop_on", "critical")).upper()
    if stop_on == "NEVER":
        return False
    if stop_on not in SEVERITIES:
        raise ValueError(f"quality.stop_on is {stop_on.lower()!r}; expected critical, warning or never")
    worst = SEVERITIES.index(stop_on)
    return any(not r.success and SEVERITIES.index(r.severity) <= worst for r in results)


def suites_dir(settings: Settings) -> Path:
    path = Path(settings.get("quality.suites_dir", "conf/quality"))
    return path if path.is_absolute() else settings.conf_dir.parent / path


def _severity(value: Any, where: str) -> str:
    sev = str(value or "").upper()
    if sev not in SEVERITIES:
        raise ValueError(f"{where}: severity {value!r} must be one of {SEVERITIES}")
    return sev


def load_suite(settings: Settings, spec: SourceSpec) -> SuiteConfig:
    """Read and check conf/quality/<kind>.yml; a missing file means an empty suite."""
    path = suites_dir(settings) / f"{spec.kind}.yml"
    if not path.exists():
        log.warning("no data-quality suite %s; %s is only checked by the silver rules", path, spec.kind)
        return SuiteConfig(spec.kind, (), None)
    body = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    known = set(silver_columns(spec))
    items: list[ExpectationSpec] = []
    for i, item in enumerate(body.get("expectations") or [], start=1):
        where = f"{path}: expectation {i}"
        if not isinstance(item, dict) or "type" not in item:
            raise ValueError(
                f"{where}: needs a `type` (a GX expectation such as expect_column_values_to_not_be_null)"
            )
        columns = item.get("column")
        columns = columns if isinstance(columns, list) else [columns]
        for col in columns:
            if col is not None and col not in known:
                raise ValueError(
                    f"{where}: column {col!r} is not a silver column of {spec.kind} ({sorted(known)})"
                )
            items.append(
                ExpectationSpec(
                    item["type"], col, dict(item.get("kwargs") or {}), _severity(item.get("severity"), where)
                )
            )
    fresh = body.get(FRESHNESS)
    fresh_sev = _severity(fresh.get("severity"), f"{path}: freshness") if fresh else None
    return SuiteConfig(body.get("suite", spec.kind), tuple(items), fresh_sev)


def _default_kwargs(item: ExpectationSpec, spec: SourceSpec) -> dict[str, Any]:
    col = spec.column(item.column) if item.column in spec.column_names else None
    if item.type == "expect_table_columns_to_match_set":
        return {"column_set": silver_columns(spec), "exact_match": True}
    if item.type == "expect_compound_columns_to_be_unique":
        return {"column_list": list(spec.keys)}
    if item.type == "expect_column_values_to_be_between" and col is not None:
        return {"min_value": col.min, "max_value": col.max}
    if item.type == "expect_column_values_to_be_in_set" and col is not None and col.values:
        return {"value_set": list(col.values)}
    if item.type == "expect_column_values_to_match_regex" and col is not None and col.pattern:
        return {"regex": col.pattern}
    if item.type == "expect_column_values_to_be_in_type_list":
        kind = col.type if col is not None else "date"  # local_date
        return {"type_list": [SPARK_TYPE_NAMES[kind]]}
    return {}


def resolve(item: ExpectationSpec, spec: SourceSpec) -> tuple[str, dict[str, Any]]:
    """The GX type and kwargs to run: spec-derived defaults, overridden by the suite's own kwargs.

    GX's compound-uniqueness needs two columns, so a single natural key is checked with
    expect_column_values_to_be_unique instead.
    """
    kwargs = {**_default_kwargs(item, spec), **item.kwargs}
    if item.column is not None:
        kwargs["column"] = item.column
    if item.type == "expect_compound_columns_to_be_unique" and len(kwargs.get("column_list", [])) == 1:
        return "expect_column_values_to_be_unique", {"column": kwargs.pop("column_list")[0], **kwargs}
    return item.type, kwargs


def freshness_frame(silver: DataFrame, spec: SourceSpec) -> DataFrame:
    """Latest event date per store (one row for sources without stores): what freshness looks at."""
    day = event_date_column(spec)
    store = (
        F.coalesce(F.col("store_id"), F.lit("(all)")) if "store_id" in spec.column_names else F.lit("(all)")
    )
    return silver.groupBy(store.alias("store_id")).agg(F.max(day).alias("latest_date"))


def latest_dates(lh: Lakehouse, spec: SourceSpec) -> pd.DataFrame | None:
    """freshness_frame of the source's silver table as pandas (None when the table does not exist).

    Locally delta-rs streams the two columns and Arrow groups each batch: a Spark job per source costs more
    than that for the tables of a nightly run.
    """
    if not lh.exists("silver", spec.table):
        return None
    if lh.mode != "local":
        return freshness_frame(lh.read("silver", spec.table), spec).toPandas()
    import pyarrow as pa
    import pyarrow.compute as pc

    day = event_date_column(spec)
    has_store = "store_id" in spec.column_names
    partials = []
    for batch in lh.arrow_batches("silver", spec.table, [day, "store_id"] if has_store else [day]):
        part = pa.Table.from_batches([batch])
        stores = (
            pc.fill_null(part["store_id"], "(all)")
            if has_store
            else pa.array(["(all)"] * part.num_rows, pa.string())
        )
        partials.append(
            pa.table({"store_id": stores, "day": part[day]}).group_by("store_id").aggregate([("day", "max")])
        )
    if not partials:
        return pd.DataFrame({"store_id": [], "latest_date": []}, dtype=object)
    latest = pa.concat_tables(partials).group_by("store_id").aggregate([("day_max", "max")])
    return pd.DataFrame(
        {"store_id": latest["store_id"].to_pylist(), "latest_date": latest["day_max_max"].to_pylist()},
        dtype=object,
    )


def _observed(result: dict[str, Any], exception: str | None) -> str:
    if exception:
        return f"error: {exception}"
    if "unexpected_index_list" in result and result["unexpected_index_list"]:
        stale = "; ".join(
            f"{r.get('store_id')} latest {r.get('latest_date')}" for r in result["unexpected_index_list"]
        )
        return f"stale: {stale}"
    if "observed_value" in result:
        return json.dumps(result["observed_value"], default=str)
    keep = {
        k: result[k]
        for k in ("unexpected_count", "unexpected_percent", "partial_unexpected_list")
        if result.get(k) not in (None, [])
    }
    return json.dumps(keep, default=str)


class QualityRunner:
    """Runs suites through one ephemeral GX context (created on first use: importing GX is slow)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pandas_max_rows = int(settings.get("quality.pandas_max_rows", DEFAULT_PANDAS_MAX_ROWS))
        self.engine_setting = str(settings.get("quality.engine", "auto"))
        self._suite_count = 0
        self._configs: dict[str, SuiteConfig] = {}

    def config(self, spec: SourceSpec) -> SuiteConfig:
        """The source's suite config, read once per runner."""
        if spec.kind not in self._configs:
            self._configs[spec.kind] = load_suite(self.settings, spec)
        return self._configs[spec.kind]

    def build_suites(self) -> list[str]:
        """Instantiate every configured expectation (no data): config mistakes fail here, clearly."""
        names = []
        for spec in self.settings.sources.values():
            suite = self.config(spec)
            names.append(
                self._suite(suite.name, [(*resolve(e, spec), e.severity) for e in suite.expectations]).name
            )
        return names

    @cached_property
    def _gx(self) -> Any:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        return gx, context

    def _batch_definition(self, engine: str, asset_name: str) -> Any:
        _, context = self._gx
        name = f"bakery_{engine}"
        try:
            source = context.data_sources.get(name)
        except (KeyError, ValueError):
            source = (
                context.data_sources.add_spark(name, persist=False)
                if engine == "spark"
                else context.data_sources.add_pandas(name)
            )
        try:
            asset = source.get_asset(asset_name)
        except LookupError:
            asset = source.add_dataframe_asset(asset_name)
        try:
            return asset.get_batch_definition("whole")
        except KeyError:
            return asset.add_batch_definition_whole_dataframe("whole")

    def engine_for(self, rows: int) -> str:
        if self.engine_setting in ("spark", "pandas"):
            return self.engine_setting
        return "pandas" if rows <= self.pandas_max_rows else "spark"

    def _suite(self, name: str, expectations: list[tuple[str, dict[str, Any], str]]) -> Any:
        from great_expectations.expectations.registry import get_expectation_impl

        gx, context = self._gx
        self._suite_count += 1
        suite = gx.ExpectationSuite(name=f"{name}#{self._suite_count}")
        for type_name, kwargs, severity in expectations:
            try:
                impl = get_expectation_impl(type_name)
            except Exception as exc:
                raise ValueError(
                    f"suite {name}: unknown Great Expectations expectation {type_name!r}"
                ) from exc
            try:
                suite.add_expectation(impl(**kwargs, severity=severity.lower()))
            except Exception as exc:
                raise ValueError(f"suite {name}: {type_name} with {kwargs}: {exc}") from exc
        return context.suites.add(suite)

    def _run(
        self,
        name: str,
        data: Any,
        engine: str,
        asset: str,
        expectations: list[tuple[str, dict[str, Any], str]],
        result_format: dict[str, Any],
    ) -> list[Any]:
        if not expectations:
            return []
        suite = self._suite(name, expectations)
        batch = self._batch_definition(engine, asset).get_batch(batch_parameters={"dataframe": data})
        return list(batch.validate(suite, result_format=result_format).results)

    @staticmethod
    def _to_result(kind: str, suite: str, r: Any) -> DQResult:
        cfg = r.expectation_config
        column = cfg.kwargs.get("column") or ",".join(cfg.kwargs.get("column_list") or []) or None
        exception = (r.exception_info or {}).get("exception_message") if r.exception_info else None
        return DQResult(
            kind,
            suite,
            cfg.type,
            column,
            str(cfg.severity.value).upper(),
            bool(r.success),
            _observed(r.result or {}, exception),
        )

    def validate_batch(self, spec: SourceSpec, batch: DataFrame, rows: int) -> list[DQResult]:
        """Run the source's suite on a cleaned batch (typed silver columns)."""
        suite = self.config(spec)
        if not suite.expectations or rows == 0:
            return []
        items = [(*resolve(e, spec), e.severity) for e in suite.expectations]
        schema = [i for i in items if i[0] in SCHEMA_EXPECTATIONS]
        values = [i for i in items if i[0] not in SCHEMA_EXPECTATIONS]
        results = self._run(
            f"{suite.name}.schema", batch, "spark", spec.kind, schema, {"result_format": "BASIC"}
        )
        if values:
            engine = self.engine_for(rows)
            data = batch.toPandas() if engine == "pandas" else batch
            examples = 5 if engine == "pandas" else 0  # listing examples costs a Spark job per expectation
            results += self._run(
                suite.name,
                data,
                engine,
                spec.kind,
                values,
                {"result_format": "BASIC", "partial_unexpected_count": examples},
            )
        return [self._to_result(spec.kind, suite.name, r) for r in results]

    def validate_freshness(self, spec: SourceSpec, lh: Lakehouse, as_of: date) -> list[DQResult]:
        """Every store's latest event date within freshness_days of as_of (against the silver table)."""
        suite = self.config(spec)
        if suite.freshness_severity is None or spec.freshness_days is None or spec.event_time is None:
            return []
        cutoff = as_of - timedelta(days=int(spec.freshness_days))
        name = f"{suite.name}.{FRESHNESS}"
        latest = latest_dates(lh, spec)
        if latest is None:
            return [
                DQResult(
                    spec.kind,
                    name,
                    "expect_column_values_to_be_between",
                    "latest_date",
                    suite.freshness_severity,
                    False,
                    f"no data: silver.{spec.table} does not exist",
                )
            ]
        if latest.empty:
            return [
                DQResult(
                    spec.kind,
                    name,
                    "expect_column_values_to_be_between",
                    "latest_date",
                    suite.freshness_severity,
                    False,
                    f"no data: silver.{spec.table} is empty",
                )
            ]
        items = [
            (
                "expect_column_values_to_be_between",
                {"column": "latest_date", "min_value": cutoff},
                suite.freshness_severity,
            )
        ]
        fmt = {"result_format": "COMPLETE", "unexpected_index_column_names": ["store_id"]}
        results = self._run(name, latest, "pandas", f"{spec.kind}_{FRESHNESS}", items, fmt)
        out = [self._to_result(spec.kind, name, r) for r in results]
        for r in out:
            if r.success:
                r.observed = f"latest {max(latest['latest_date'])} (cutoff {cutoff})"
            else:
                r.observed = f"{r.observed} (cutoff {cutoff}: as of {as_of} - {spec.freshness_days} days)"
        return out
