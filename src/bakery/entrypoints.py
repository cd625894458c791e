"""What the job entry points in jobs/ share: their parameters, the settings and session they build, logging."""

from __future__ import annotations

import argparse
import logging
from datetime import date
from pathlib import Path

from bakery.config import ConfError, Settings, default_home, load_settings
from bakery.lakehouse import Lakehouse, open_lakehouse
from bakery.logs import setup_logging
from bakery.tables import LAYERS

log = logging.getLogger(__name__)


def job_parser(doc: str) -> argparse.ArgumentParser:
    """The parameters every job takes; the same on Databricks (task parameters) and locally."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--home",
        default=None,
        help="landing zone, MLflow store and reports: a local dir or a UC volume path "
        "(default: $BAKERY_HOME or ./lakehouse)",
    )
    parser.add_argument("--env", default=None, help="config overlay conf/<env>.yml, e.g. `databricks`")
    parser.add_argument(
        "--conf-dir",
        default=None,
        type=Path,
        help="the conf/ directory (on Databricks: ${workspace.file_path}/conf)",
    )
    parser.add_argument(
        "--catalog", default=None, help="Unity Catalog catalog of the tables (storage.catalog)"
    )
    parser.add_argument(
        "--schema-prefix",
        default="",
        help="prefix of the layer schemas: <prefix>bronze, <prefix>silver, <prefix>gold, <prefix>ops",
    )
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="the run's date as YYYY-MM-DD (default: today)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def job_settings(args: argparse.Namespace) -> Settings:
    """Settings for a job run: conf/base.yml, the --env overlay, then catalog and schema names."""
    storage: dict[str, object] = {}
    if args.catalog:
        storage["catalog"] = args.catalog
    if args.schema_prefix:
        storage["schemas"] = {layer: f"{args.schema_prefix}{layer}" for layer in LAYERS}
    return load_settings(
        home=args.home or default_home(),
        env=args.env or None,
        conf_dir=args.conf_dir,
        overrides={"storage": storage} if storage else None,
    )


def start_job(args: argparse.Namespace) -> tuple[Settings, Lakehouse]:
    """Settings, logging and the session: everything a job needs before its one library call. A missing
    conf file, or (catalog mode) a catalog or schema that does not exist, stops it here with exit code 2."""
    from bakery.spark import on_databricks

    try:
        settings = job_settings(args)
    except ConfError as exc:
        raise SystemExit(f"error: {exc}") from None
    # On Databricks the run output keeps the logs (volumes do not take appends); locally <home>/logs.
    try:
        setup_logging(
            logging.DEBUG if args.verbose else logging.INFO,
            log_dir=None if on_databricks() else settings.logs_dir,
            fmt=settings.get("logging.format", "text"),
        )
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    local_catalog = settings.get("storage.local_catalog")
    if not (on_databricks() or settings.get("storage.mode") == "local" or local_catalog):
        raise SystemExit(
            "error: storage.mode databricks needs a Databricks cluster (catalog mode on local "
            "Spark only with storage.local_catalog: true, conf/local_catalog.yml)"
        )
    lh = open_lakehouse(settings)
    if lh.mode != "local":
        try:
            check_catalog(lh)
        except LookupError as exc:
            raise SystemExit(f"error: {exc}") from None
    return settings, lh


def check_catalog(lh: Lakehouse) -> None:
    """Catalog mode, before any write: the catalog and every layer schema exist, or the schema is one that
    storage.create_schemas lets a job create (it is created now). LookupError names what is missing."""
    spark = lh.spark
    catalogs = {c.name for c in spark.catalog.listCatalogs()}
    if lh.catalog not in catalogs:
        raise LookupError(
            f"catalog {lh.catalog!r} not found (--catalog, storage.catalog); "
            f"the catalogs here: {', '.join(sorted(catalogs))}"
        )
    creatable = set(lh.settings.get("storage.create_schemas") or [])
    absent = {
        layer: lh.schemas.get(layer, layer)
        for layer in LAYERS
        if not spark.catalog.databaseExists(f"{lh.catalog}.{lh.schemas.get(layer, layer)}")
    }
    missing = [f"{lh.catalog}.{schema}" for layer, schema in absent.items() if layer not in creatable]
    if missing:
        raise LookupError(
            f"schema {', '.join(missing)} not found (--catalog, --schema-prefix); create it "
            "once as docs/runbooks/operations.md says, or fix the job's parameters"
        )
    for schema in absent.values():
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{lh.catalog}`.`{schema}`")
        log.info("created schema %s.%s", lh.catalog, schema)
