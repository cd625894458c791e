"""`bakery dashboards validate` and `bakery dashboards export --out DIR`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bakery.config import Settings

log = logging.getLogger(__name__)
EXIT_OK, EXIT_FAILURE, EXIT_REJECTED = 0, 1, 3


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register `dashboards validate|export` on the main parser's subcommands."""
    p = subparsers.add_parser(
        "dashboards", help="the SQL dashboards of dashboards/: validate, export as HTML"
    )
    sub = p.add_subparsers(dest="dashboards_command", required=True)
    for name, text in (
        ("validate", "check every dashboard file against this home's tables; exit 3 naming each problem"),
        ("export", "write each dashboard as a self-contained HTML file"),
    ):
        c = sub.add_parser(name, help=text)
        c.add_argument(
            "--dir", type=Path, default=None, help="dashboard files (default: dashboards/ beside conf/)"
        )
        if name == "export":
            c.add_argument("--out", type=Path, required=True, metavar="DIR")
        c.set_defaults(func=cmd_validate if name == "validate" else cmd_export)


def _engine_and_dir(args: argparse.Namespace, settings: Settings):
    from bakery.dashboards.engine import LocalEngine
    from bakery.dashboards.model import default_dir

    directory = args.dir or default_dir(settings)
    if not directory.is_dir():
        raise FileNotFoundError(f"no dashboards directory {directory}; pass --dir")
    return LocalEngine(settings), directory


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.dashboards.validate import validate_dir

    engine, directory = _engine_and_dir(args, settings)
    files, problems = validate_dir(directory, engine)
    for p in problems:
        sys.stderr.write(f"bakery: dashboards: {p}\n")
    if problems:
        sys.stderr.write(f"bakery: dashboards: {len(problems)} problem(s) in {len(files)} file(s)\n")
        return EXIT_REJECTED
    sys.stdout.write(f"{len(files)} dashboard file(s) valid in {directory}\n")
    return EXIT_OK


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.dashboards.export import export_all
    from bakery.dashboards.model import DashboardError, dashboard_files, parse_dashboard

    engine, directory = _engine_and_dir(args, settings)
    dashboards = []
    for path in dashboard_files(directory):
        try:
            dashboards.append(parse_dashboard(path))
        except DashboardError as exc:
            sys.stderr.write(f"bakery: dashboards: {exc}; not exported\n")
    for target in export_all(engine, dashboards, args.out):
        sys.stdout.write(f"{target}\n")
    return EXIT_OK if len(dashboards) == len(dashboard_files(directory)) else EXIT_REJECTED
