"""Timestamps to UTC and local dates in each store's IANA timezone.

Values carrying an offset (`Z`, `+01:00`, `-0300`) are instants; values without one are wall-clock
times in the store's timezone. Spark renders TIMESTAMP values in the session timezone, so these
column expressions assume the session runs in UTC, which `bakery.spark.get_spark` configures and
`require_utc_session` checks.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

UTC_NAMES = {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "+00:00", "Universal", "Zulu"}
# An ISO 8601 date-time that ends in an explicit offset (a bare date never does).
_OFFSET_RE = r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"
_DATE_RE = r"^\d{4}-\d{2}-\d{2}([T ]00:00(:00(\.0+)?)?)?$"


def require_utc_session(spark: SparkSession) -> None:
    """Fail clearly when the session timezone is not UTC (local dates would silently shift)."""
    tz = spark.conf.get("spark.sql.session.timeZone")
    if tz not in UTC_NAMES:
        raise RuntimeError(
            f"spark.sql.session.timeZone is {tz!r}; the silver layer needs UTC "
            "(set it in conf/base.yml spark.conf)"
        )


def has_offset(raw: Column) -> Column:
    return raw.rlike(_OFFSET_RE)


def parse_timestamp(raw: Column, tz: Column) -> tuple[Column, Column]:
    """(UTC instant, parsed?) of a raw ISO 8601 text; store-local when it has no offset.

    `parsed` is independent of the timezone, so an unknown store is reported as such and not as a bad
    timestamp; the instant is null when a store-local value has no timezone to be read in.
    """
    wall_clock = raw.try_cast("timestamp_ntz")
    instant = F.when(has_offset(raw), raw.try_cast("timestamp")).otherwise(
        F.to_utc_timestamp(wall_clock.cast("timestamp"), tz)
    )
    parsed = F.when(has_offset(raw), raw.try_cast("timestamp").isNotNull()).otherwise(wall_clock.isNotNull())
    return instant, parsed


def parse_date(raw: Column) -> Column:
    """An ISO `YYYY-MM-DD` date (a midnight time part is tolerated, as spreadsheets write it); else null."""
    return F.when(raw.rlike(_DATE_RE), F.substring(raw, 1, 10).try_cast("date"))


def local_date(instant: Column, tz: Column) -> Column:
    """The calendar date of a UTC instant in timezone `tz` (UTC when tz is null)."""
    return F.to_date(F.from_utc_timestamp(instant, F.coalesce(tz, F.lit("UTC"))))


def with_store_timezone(df: DataFrame, stores: DataFrame | None, column: str = "store_id") -> DataFrame:
    """Add `_tz` (the store's timezone, null for unknown stores) and `_known_store` to df."""
    if stores is None:
        return df.withColumn("_tz", F.lit(None).cast("string")).withColumn("_known_store", F.lit(False))
    lookup = stores.select(
        F.col("store_id").alias("_tz_store"),
        F.col("timezone").alias("_tz"),
        F.lit(True).alias("_known_store"),
    )
    joined = df.join(F.broadcast(lookup), df[column] == lookup["_tz_store"], "left").drop("_tz_store")
    return joined.withColumn("_known_store", F.coalesce("_known_store", F.lit(False)))
