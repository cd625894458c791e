"""The CLI's start-up, in one place: settings from the home and conf, logging, then (for the commands that
need tables) Spark and the Lakehouse over them."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from bakery.config import Settings, default_home, load_settings
from bakery.logs import setup_logging

if TYPE_CHECKING:
    from bakery.lakehouse import Lakehouse


def start(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Settings:
    """Settings for `--home` (else $BAKERY_HOME or ./lakehouse) and logging to its logs dir; a bad
    configuration is a usage error (exit 2) naming what is wrong."""
    try:
        settings = load_settings(home=args.home if args.home else default_home())
    except ValueError as exc:
        parser.error(str(exc))
    try:
        setup_logging(
            logging.DEBUG if args.verbose else logging.INFO,
            log_dir=settings.logs_dir,
            fmt=settings.get("logging.format", "text"),
        )
    except ValueError as exc:
        parser.error(str(exc))
    return settings


def lakehouse(settings: Settings) -> Lakehouse:
    """Spark and the Lakehouse of these settings (started on first use: most commands need no Spark)."""
    from bakery.lakehouse import open_lakehouse

    return open_lakehouse(settings)
