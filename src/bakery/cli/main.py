"""The `bakery` console script: parses arguments, starts up once (bakery.cli.startup), calls one command."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from bakery.cli.app import add_app_parsers
from bakery.cli.common import EXIT_FAILURE, EXIT_USAGE, UsageError, home_lock
from bakery.cli.data import add_data_parsers
from bakery.cli.forecasting import add_forecasting_parsers
from bakery.cli.gdpr import add_gdpr_parser
from bakery.cli.startup import start
from bakery.dashboards.cli_commands import add_parsers as add_dashboard_parsers

log = logging.getLogger("bakery")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bakery", description="Bakery sales-forecasting lakehouse.")
    parser.add_argument(
        "--home",
        default=None,
        help="where everything a run writes lives (default: $BAKERY_HOME or ./lakehouse)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    add_data_parsers(
        sub
    )  # `demo`, `generate`, `import`, `ingest`, `pipeline`, `monitor`, `status`, `retention`
    add_gdpr_parser(sub)  # `gdpr export|erase`
    add_forecasting_parsers(sub)  # `train`, `forecast`, `backtest`, `model list|promote|rollback`
    add_app_parsers(sub)  # `app`, `app-db status|upgrade` and `users add|list|set`
    add_dashboard_parsers(sub)  # `dashboards validate|export`
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Commands that write the home (see `writer`) hold its writer lock; a second one on the
    same home exits 1 naming the holder, after --wait seconds if given."""
    from bakery.ops.lock import LockHeld

    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = start(parser, args)
    try:
        with home_lock(args, settings, argv):
            return int(args.func(args, settings))
    except LockHeld as exc:
        sys.stderr.write(f"bakery: error: {exc}; run it again once that has finished, or use --wait\n")
        return EXIT_FAILURE
    except UsageError as exc:
        sys.stderr.write(f"bakery: error: {exc}\n")
        return EXIT_USAGE
    except Exception:
        log.exception("bakery %s failed", args.command)
        return EXIT_FAILURE


def run() -> None:
    """The `bakery` console command: main(), then an exit that skips the interpreter's teardown.

    Every write has committed when main() returns. Native runtimes can still abort the teardown after
    that ("terminate called without an active exception", delta-io/delta-rs#2184: delta-rs threads still
    running at exit), which turned a finished command's exit code into -6. Logs and output are flushed
    first; the Spark JVM exits by itself when its Python driver goes away.
    """
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
