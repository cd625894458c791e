"""What the job entry points in jobs/ share: their parameters, the settings and session they build, logging."""

from __future__ import annotations

import argparse
import logging
from datetime import date
from pathlib import Path

from bakery.config import Settings, default_home, load_settings
from bakery.lakehouse import LAYERS, Lakehouse
from bakery.logs import setup_logging


def job_parser(doc: str) -> argparse.ArgumentParser:
    """The parameters every job takes; the same on Databricks (task parameters) and locally."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default=None,
                        help="landing zone, MLflow store and reports: a local dir or a UC volume path "
                             "(default: $BAKERY_HOME or ./lakehouse)")
    parser.add_argument("--env", default=None, help="config overlay conf/<env>.yml, e.g. `databricks`")
    parser.add_argument("--conf-dir", default=None, type=Path,
                        help="the conf/ directory (on Databricks: ${workspace.file_path}/conf)")
    parser.add_argument("--catalog", default=None, help="Unity Catalog catalog of the tables (storage.catalog)")
    parser.add_argument("--schema-prefix", default="",
                        help="prefix of the layer schemas: <prefix>bronze, <prefix>silver, <prefix>gold, <prefix>ops")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="the run's date as YYYY-MM-DD (default: today)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def job_settings(args: argparse.Namespace) -> Settings:
    """Settings for a job run: conf/base.yml, the --env overlay, then catalog and schema names."""
    storage: dict[str, object] = {}
    if args.catalog:
        storage["catalog"] = args.catalog
    if args.schema_prefix:
        storage["schemas"] = {layer: f"{args.schema_prefix}{layer}" for layer in LAYERS}
    return load_settings(home=args.home or default_home(), env=args.env or None, conf_dir=args.conf_dir,
                         overrides={"storage": storage} if storage else None)


def start_job(args: argparse.Namespace) -> tuple[Settings, Lakehouse]:
    """Settings, logging and the session: everything a job needs before its one library call."""
    from bakery.spark import get_spark, on_databricks

    settings = job_settings(args)
    # On Databricks the run output keeps the logs (volumes do not take appends); locally <home>/logs.
    setup_logging(logging.DEBUG if args.verbose else logging.INFO,
                  log_dir=None if on_databricks() else settings.logs_dir)
    assert (settings.conf_dir / "base.yml").is_file(), f"no base.yml in {settings.conf_dir}: pass --conf-dir"
    assert on_databricks() or settings.get("storage.mode") == "local", "storage.mode databricks needs a cluster"
    return settings, Lakehouse(get_spark(settings), settings)
