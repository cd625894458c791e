"""The one SparkSession factory: local[*] with Delta locally, the cluster's session on Databricks."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from pyspark.sql import SparkSession

from bakery.config import Settings, source_checkout

log = logging.getLogger(__name__)

SCALA_BINARY = "2.13"
DELTA_RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def delta_jars(jars_dir: Path | None = None) -> list[Path]:
    """The Delta jars fetched by `make install`, checked against the pinned delta-spark version: from
    jars_dir, else $BAKERY_JARS_DIR, else ./.jars, else the source checkout's .jars (editable installs).
    Databricks runtimes ship Delta: get_spark asks for no jars there."""
    checkout = source_checkout()
    fallback = Path(".jars") if Path(".jars").is_dir() or checkout is None else checkout / ".jars"
    jars_dir = Path(jars_dir or os.environ.get("BAKERY_JARS_DIR") or fallback).resolve()
    want = version("delta-spark")
    jars = [
        jars_dir / f"delta-spark_{SCALA_BINARY}-{want}.jar",
        jars_dir / f"delta-storage-{want}.jar",
    ]
    missing = [str(j) for j in jars if not j.exists()]
    if missing:
        raise RuntimeError(
            f"Delta jars for delta-spark {want} not found: {', '.join(missing)}. Run `make install` "
            "(it fetches them with Maven) or set BAKERY_JARS_DIR."
        )
    return jars


def _java_options(settings: Settings, local_dir: Path) -> list[str]:
    """The driver JVM's options: Derby's home in the scratch dir, conf/log4j2.properties (Spark's start-up
    notes off, warnings kept) when the configuration has one, then spark.java_options (e.g. a short-lived
    job's JIT settings), which extend these rather than replace them as a raw extraJavaOptions would."""
    options = [
        f'"-Dderby.system.home={local_dir}"'
    ]  # quoted: Spark splits the options on spaces, paths may hold some
    log4j = settings.conf_dir / "log4j2.properties"
    if log4j.is_file():
        options.append(f'"-Dlog4j2.configurationFile={log4j}"')
    options.extend(str(o) for o in settings.get("spark.java_options") or [])
    return options


@contextmanager
def delta_retention_check_off(spark: SparkSession) -> Iterator[None]:
    """Delta's VACUUM retention safety check off for the block only. Everywhere else it stays on, so that
    no VACUUM deletes files younger than a table's retention; a deliberate erase of history needs it off."""
    before = spark.conf.get(DELTA_RETENTION_CHECK, None)
    spark.conf.set(DELTA_RETENTION_CHECK, "false")
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(DELTA_RETENTION_CHECK)
        else:
            spark.conf.set(DELTA_RETENTION_CHECK, before)


def get_spark(settings: Settings) -> SparkSession:
    """Return the session for this environment. Only entry points (CLI, jobs, tests) call this."""
    if on_databricks():
        return SparkSession.builder.getOrCreate()
    # Python workers must use this interpreter (the venv), not whatever `python3` is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    spark_conf = settings.get("spark", {})
    local_dir = settings.home / "_spark"
    local_dir.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.master(spark_conf.get("master") or "local[*]")
        .appName(spark_conf.get("app_name", "bakery"))
        .config("spark.jars", ",".join(str(j) for j in delta_jars()))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.shuffle.partitions", str(spark_conf.get("shuffle_partitions", 4)))
        .config("spark.driver.memory", spark_conf.get("driver_memory", "4g"))
        .config("spark.sql.warehouse.dir", str(local_dir / "warehouse"))
        .config("spark.local.dir", str(local_dir / "tmp"))
        .config("spark.driver.extraJavaOptions", " ".join(_java_options(settings, local_dir)))
    )
    for key, value in (spark_conf.get("conf") or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    log.info("Spark %s with Delta %s on %s", spark.version, version("delta-spark"), spark.sparkContext.master)
    return spark
