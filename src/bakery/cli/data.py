"""`bakery demo|generate|import|ingest|pipeline|monitor|status|retention`: the data commands."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path

from bakery.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_REJECTED, UsageError, parse_date, writer
from bakery.cli.startup import lakehouse
from bakery.config import Settings


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    end = args.end or date.today() - timedelta(days=1)
    start = args.start or end - timedelta(days=365 * 3 - 1)
    if start > end:
        raise UsageError(f"--start {start} is after --end {end}")
    if args.stores < 1 or args.products < 1:
        raise UsageError("--stores and --products must be at least 1")
    from bakery.generate import generate_demo

    try:
        summary = generate_demo(
            Path(args.out), stores=args.stores, products=args.products, start=start, end=end, seed=args.seed
        )
    except ValueError as exc:  # bad parameters are named by the generator; nothing was written
        raise UsageError(str(exc)) from None
    sys.stdout.write(summary.render() + "\n")
    return EXIT_OK


def _json_object(flag: str, value: str | None, what: str) -> dict | None:
    """A JSON object given inline ('{...}') or as the path of a .json file; None when not given."""
    if not value:
        return None
    try:
        text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
        parsed = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{flag} {value}: {exc}") from None
    if not isinstance(parsed, dict):
        raise UsageError(f"{flag} must be a JSON object {what}")
    return parsed


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    try:
        settings.source(args.kind)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not Path(args.file).is_file():
        raise UsageError(f"FILE {args.file}: no such file")
    mapping = _json_object("--mapping", args.mapping, "from template column to source column")
    shape = _json_object("--shape", args.shape, "describing the file's shape (see the analyst guide)")
    if not (0.0 <= args.max_error_rate <= 1.0):
        raise UsageError("--max-error-rate must be between 0 and 1")
    from bakery.ingest.importer import import_file

    try:
        result = import_file(
            settings,
            args.kind,
            Path(args.file),
            mapping=mapping,
            on_duplicate=args.on_duplicate,
            max_error_rate=args.max_error_rate,
            shape=shape,
        )
    except (ValueError, FileNotFoundError) as exc:  # bad arguments, named by the importer
        raise UsageError(str(exc)) from None
    sys.stdout.write(result.render() + "\n")
    return EXIT_OK if result.accepted else EXIT_REJECTED


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.etl import run_etl

    report = run_etl(lakehouse(settings), settings)
    sys.stdout.write(report.render() + "\n")
    return EXIT_OK if report.ok else EXIT_FAILURE


def cmd_pipeline(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.pipeline import run_pipeline

    report = run_pipeline(lakehouse(settings), settings, as_of=args.as_of)
    sys.stdout.write(report.render() + "\n")
    return EXIT_OK if report.ok else EXIT_FAILURE


def cmd_monitor(args: argparse.Namespace, settings: Settings) -> int:
    """Live accuracy, drift and alerts as of a day (default: the last day with sales), as the pipeline does."""
    from bakery.forecasting.tables import latest_data_date
    from bakery.monitoring.step import run_monitoring

    lh = lakehouse(settings)
    day = args.date or latest_data_date(lh)
    report = run_monitoring(lh, settings, day)
    sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.demo import run_demo

    report = run_demo(settings, dataset=args.dataset)
    sys.stdout.write(report.render() + "\n")
    return EXIT_OK if report.ok else EXIT_FAILURE


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.ops.status import collect_status, render_status

    status = collect_status(lakehouse(settings), settings)
    sys.stdout.write(
        (json.dumps(status, indent=2, default=str) if args.json else render_status(status)) + "\n"
    )
    return EXIT_OK


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.admin.retention import enforce_retention

    report = enforce_retention(lakehouse(settings), settings, today=args.today or date.today())
    sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    return EXIT_OK


def add_data_parsers(sub: argparse._SubParsersAction) -> None:
    from bakery.demo import DATASETS

    p = sub.add_parser("demo", help="generate or load demo data, then run the daily pipeline")
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default=DATASETS[0],
        help="six-bakeries: generated Spanish chain; bakery-chain: the real ddop German chain (35 x 3)",
    )
    p.set_defaults(func=cmd_demo)
    writer(p)

    p = sub.add_parser("generate", help="write the six-bakery demo data set as landing files")
    p.add_argument("--out", required=True)
    p.add_argument("--stores", type=int, default=6)
    p.add_argument("--products", type=int, default=30)
    p.add_argument("--start", type=parse_date)
    p.add_argument("--end", type=parse_date)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("import", help="validate a file against a template and put it in the landing zone")
    p.add_argument("kind")
    p.add_argument("file")
    p.add_argument(
        "--mapping", help="JSON object from template column to source column (inline or a .json file)"
    )
    p.add_argument(
        "--shape",
        help="sales only: JSON object turning a file of one row per item sold or one column "
        "per product into daily sales, e.g. "
        '\'{"shape": "items", "date": "Date", "item": "Item", "store_id": "EDI01"}\'',
    )
    p.add_argument("--on-duplicate", choices=["skip", "overwrite"], default="skip")
    p.add_argument("--max-error-rate", type=float, default=0.0)
    p.set_defaults(func=cmd_import)
    writer(p)

    p = sub.add_parser("ingest", help="landing -> bronze -> silver -> gold, incremental")
    p.set_defaults(func=cmd_ingest)
    writer(p)

    p = sub.add_parser("pipeline", help="the daily job")
    p.add_argument("--as-of", type=parse_date)
    p.set_defaults(func=cmd_pipeline)
    writer(p)

    p = sub.add_parser("monitor", help="score live accuracy, compare inputs for drift, send alerts")
    p.add_argument("--date", type=parse_date, help="the last day with sales to judge (default: the latest)")
    p.set_defaults(func=cmd_monitor)
    writer(p)

    p = sub.add_parser("status", help="tables, row counts, latest data, last runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("retention", help="enforce the per-layer retention (deletes by date + VACUUM)")
    p.add_argument("--today", type=parse_date, help="reference date (default: today)")
    p.set_defaults(func=cmd_retention)
    writer(p)
