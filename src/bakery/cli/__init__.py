"""The `bakery` command line: one subcommand module per area (data, gdpr, forecasting, app), one shared
start-up (bakery.cli.startup) and one set of exit codes and argument types (bakery.cli.common)."""

from bakery.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_REJECTED, EXIT_USAGE, WAIT_FLAG, UsageError
from bakery.cli.main import build_parser, main, run

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_REJECTED",
    "EXIT_USAGE",
    "WAIT_FLAG",
    "UsageError",
    "build_parser",
    "main",
    "run",
]
