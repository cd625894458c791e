"""Typed casting and row rules: bronze text rows -> (typed good rows, rejected rows for ops.quarantine).

Every rule is a column expression, so one pass over the batch finds every problem of every row. A row
that breaks several rules is quarantined once per rule (the error report lists them all) and counted
once in the reconciliation. Rule names are `<check>:<column>`: not_null, type, range, values, pattern,
timezone, future_date; plus `malformed_row` (the file line could not be split into fields) and
`unknown_store` / `unknown_product` (not in silver.stores / silver.products).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from bakery.config import ColumnSpec, SourceSpec
from bakery.ingest.validate import REGION_SCOPES, STORE_SCOPES, iana_timezones
from bakery.silver.timezones import (
    local_date,
    parse_date,
    parse_timestamp,
    with_store_timezone,
)

META = ("_source_file", "_row_number", "_ingested_at", "_batch_id")
LINEAGE = ("_source_file", "_batch_id", "_ingested_at")
VIOLATIONS = "_violations"
RAW = "_raw"
LONG_LIMIT = 2.0**63


@dataclass(frozen=True)
class References:
    """The dimensions rows are checked against: silver.stores (id, timezone) and silver.products (id), and the
    country and subdivision codes of the stores (upper case)."""

    stores: DataFrame | None = None
    products: DataFrame | None = None
    regions: tuple[str, ...] = ()


def is_timestamped(spec: SourceSpec) -> bool:
    """Sources whose event time is a timestamp get a `local_date` column in silver."""
    return spec.event_time is not None and spec.column(spec.event_time).type == "timestamp"


def event_date_column(spec: SourceSpec) -> str | None:
    """The date column freshness and future-date checks look at."""
    if spec.event_time is None:
        return None
    return "local_date" if is_timestamped(spec) else spec.event_time


def silver_columns(spec: SourceSpec) -> list[str]:
    """silver.<table> columns in order: the spec's, local_date if timestamped, then lineage."""
    return [*spec.column_names, *(["local_date"] if is_timestamped(spec) else []), *LINEAGE]


def _text(col: str) -> Column:
    trimmed = F.trim(F.col(col))
    return F.when(trimmed != "", trimmed)


def _store_column(spec: SourceSpec) -> tuple[str, tuple[str, ...]] | None:
    if spec.kind in STORE_SCOPES:
        return STORE_SCOPES[spec.kind]
    if spec.kind != "stores" and "store_id" in spec.column_names:
        return "store_id", ()
    return None


def _typed(col: ColumnSpec, text: Column, tz: Column) -> tuple[Column, Column]:
    """(typed value, parsed?) of one trimmed text column."""
    if col.type == "double":
        v = text.try_cast("double")
        return v, v.isNotNull() & ~F.isnan(v) & (F.abs(v) != float("inf"))
    if col.type == "long":
        d = text.try_cast("double")
        ok = d.isNotNull() & ~F.isnan(d) & (F.abs(d) < LONG_LIMIT) & (d == F.floor(d))
        return F.when(ok, d.cast("long")), ok
    if col.type == "boolean":
        v = F.lower(text).try_cast("boolean")
        return v, v.isNotNull()
    if col.type == "date":
        v = parse_date(text)
        return v, v.isNotNull()
    if col.type == "timestamp":
        return parse_timestamp(text, tz)
    return text, F.lit(True)


def _txt(name: str) -> str:
    return f"_txt_{name}"


def _ok(name: str) -> str:
    return f"_ok_{name}"


def _violation(cond: Column, rule: str, column: str | None, reason: Column) -> Column:
    return F.when(
        cond,
        F.struct(
            F.lit(rule).alias("rule"), F.lit(column).cast("string").alias("column"), reason.alias("reason")
        ),
    )


def _quoted(col: Column) -> Column:
    return F.concat(F.lit("'"), col, F.lit("'"))


def _column_rules(col: ColumnSpec) -> list[Column]:
    """Rules of one column, over the typed value `<name>`, its text `_txt_<name>` and `_ok_<name>`."""
    name = col.name
    text, value = F.col(_txt(name)), F.col(name)
    rules = [
        _violation(
            text.isNotNull() & ~F.col(_ok(name)),
            f"type:{name}",
            name,
            F.concat(F.lit(f"{name} "), _quoted(text), F.lit(f" is not a valid {col.type}")),
        )
    ]
    if col.required:
        rules.append(
            _violation(text.isNull(), f"not_null:{name}", name, F.lit(f"{name} is required but empty"))
        )
    if col.min is not None:
        rules.append(
            _violation(
                value < F.lit(col.min),
                f"range:{name}",
                name,
                F.concat(F.lit(f"{name} "), value.cast("string"), F.lit(f" is below the minimum {col.min}")),
            )
        )
    if col.max is not None:
        rules.append(
            _violation(
                value > F.lit(col.max),
                f"range:{name}",
                name,
                F.concat(F.lit(f"{name} "), value.cast("string"), F.lit(f" is above the maximum {col.max}")),
            )
        )
    if col.values:
        rules.append(
            _violation(
                ~value.isin(*col.values),
                f"values:{name}",
                name,
                F.concat(F.lit(f"{name} "), _quoted(value), F.lit(f" is not one of {list(col.values)}")),
            )
        )
    if col.pattern:
        rules.append(
            _violation(
                ~value.rlike(col.pattern),
                f"pattern:{name}",
                name,
                F.concat(F.lit(f"{name} "), _quoted(value), F.lit(f" does not match {col.pattern}")),
            )
        )
    return rules


def _reference_rules(spec: SourceSpec, regions: tuple[str, ...] = ()) -> list[Column]:
    rules = []
    store = _store_column(spec)
    if store is not None:
        column, allowed = store
        known = F.col("_known_store") | F.col(column).isin(*allowed) if allowed else F.col("_known_store")
        what = "a store in silver.stores"
        if spec.kind in REGION_SCOPES:
            known = known | F.upper(F.col(column)).isin(*regions) if regions else known
            what += ", 'national', nor the country or subdivision of one"
        rules.append(
            _violation(
                F.col(column).isNotNull() & ~known,
                "unknown_store",
                column,
                F.concat(F.lit(f"{column} "), _quoted(F.col(column)), F.lit(f" is not {what}")),
            )
        )
    if "product_id" in spec.column_names and spec.kind != "products":
        rules.append(
            _violation(
                F.col("product_id").isNotNull() & ~F.col("_known_product"),
                "unknown_product",
                "product_id",
                F.concat(
                    F.lit("product_id "),
                    _quoted(F.col("product_id")),
                    F.lit(" is not a product in silver.products"),
                ),
            )
        )
    if spec.kind == "stores":
        rules.append(
            _violation(
                F.col("timezone").isNotNull() & ~F.col("timezone").isin(*sorted(iana_timezones())),
                "timezone:timezone",
                "timezone",
                F.concat(
                    F.lit("timezone "),
                    _quoted(F.col("timezone")),
                    F.lit(" is not an IANA timezone (e.g. Europe/Madrid)"),
                ),
            )
        )
    return rules


def _future_rule(spec: SourceSpec, as_of: date) -> list[Column]:
    day_col = event_date_column(spec)
    if day_col is None:
        return []
    latest = as_of + timedelta(days=spec.max_future_days)
    return [
        _violation(
            F.col(day_col) > F.lit(latest),
            f"future_date:{spec.event_time}",
            spec.event_time,
            F.concat(
                F.lit(f"{spec.event_time} "),
                F.col(day_col).cast("string"),
                F.lit(
                    f" is after {latest.isoformat()} (as of {as_of.isoformat()} "
                    f"+ {spec.max_future_days} days)"
                ),
            ),
        )
    ]


def _with_references(df: DataFrame, spec: SourceSpec, refs: References) -> DataFrame:
    store = _store_column(spec)
    if store is not None:
        df = with_store_timezone(df, refs.stores, store[0])
    if "product_id" in spec.column_names and spec.kind != "products":
        if refs.products is None:
            df = df.withColumn("_known_product", F.lit(False))
        else:
            known = (
                refs.products.select(F.col("product_id").alias("_pid"))
                .distinct()
                .withColumn("_known_product", F.lit(True))
            )
            df = (
                df.join(F.broadcast(known), df["product_id"] == known["_pid"], "left")
                .drop("_pid")
                .withColumn("_known_product", F.coalesce("_known_product", F.lit(False)))
            )
    return df


def check_rows(bronze: DataFrame, spec: SourceSpec, as_of: date, refs: References) -> DataFrame:
    """Bronze rows -> typed silver columns + `_raw` (JSON of the raw values) + `_violations` (array).

    Built in stages (text, then typed values and parse flags, then rules over those columns) so each
    rule refers to columns instead of repeating the casts: the plan stays small for the optimizer.
    """
    names = spec.column_names
    raw = F.to_json(F.struct(*[F.col(c) for c in names]), {"ignoreNullFields": "false"})
    df = bronze.select(*[_text(c).alias(_txt(c)) for c in names], "_malformed", *META, raw.alias(RAW))
    store = _store_column(spec)
    if store is not None:
        df = df.withColumn(store[0], F.col(_txt(store[0])))
    if "product_id" in names:
        df = df.withColumn("product_id", F.col(_txt("product_id")))
    df = _with_references(df, spec, refs)
    tz = F.lit("UTC")
    if store is not None and store[0] == "store_id":
        tz = F.when(F.col("store_id").isNull(), F.lit("UTC")).otherwise(F.col("_tz"))
    typed = {c.name: _typed(c, F.col(_txt(c.name)), tz) for c in spec.columns}
    keep = [c for c in df.columns if c not in typed]
    df = df.select(
        *keep,
        *[v.alias(n) for n, (v, _) in typed.items()],
        *[ok.alias(_ok(n)) for n, (_, ok) in typed.items()],
    )
    if is_timestamped(spec):
        df = df.withColumn("local_date", local_date(F.col(spec.event_time), tz))
    rules = [r for c in spec.columns for r in _column_rules(c)]
    rules += _reference_rules(spec, refs.regions) + _future_rule(spec, as_of)
    malformed = F.array(
        _violation(
            F.lit(True),
            "malformed_row",
            None,
            F.concat(F.lit("the line could not be parsed: "), F.col("_malformed")),
        )
    )
    violations = F.when(F.col("_malformed").isNotNull(), malformed).otherwise(
        F.filter(F.array(*rules), lambda v: v.isNotNull())
    )
    out = [*silver_columns(spec), "_row_number", RAW]
    return df.select(*[F.col(c) for c in dict.fromkeys(out)], violations.alias(VIOLATIONS))


def split_checked(checked: DataFrame, spec: SourceSpec) -> tuple[DataFrame, DataFrame]:
    """(good rows with the silver columns + _row_number, one quarantine row per broken rule)."""
    good = checked.filter(F.size(VIOLATIONS) == 0).select(*silver_columns(spec), "_row_number")
    rejected = (
        checked.filter(F.size(VIOLATIONS) > 0)
        .select(
            F.lit(spec.kind).alias("source"),
            F.col("_source_file").alias("source_file"),
            F.col("_row_number").alias("row_number"),
            F.col("_batch_id").alias("batch_id"),
            F.explode(VIOLATIONS).alias("v"),
            F.col(RAW).alias("raw"),
        )
        .select(
            "source",
            "source_file",
            "row_number",
            "batch_id",
            F.col("v.rule").alias("rule"),
            F.col("v.column").alias("column"),
            F.col("v.reason").alias("reason"),
            "raw",
        )
    )
    return good, rejected
