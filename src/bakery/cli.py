"""The `bakery` console script: parses arguments, builds settings and Spark, calls one library function."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date, timedelta
from pathlib import Path

from bakery.config import Settings, default_home, load_settings
from bakery.logs import setup_logging

log = logging.getLogger("bakery")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3


class UsageError(Exception):
    """A bad argument detected after parsing (exit code 2)."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"--wait: expected a number of seconds >= 0, got {text!r}")
    return value


WAIT_FLAG = object()  # `--wait` without SECONDS: conf lock.wait_flag_seconds


def writer(p: argparse.ArgumentParser, when: Callable[[argparse.Namespace], bool] | None = None) -> None:
    """Mark a subcommand as writing the home (`when` its arguments say so): it runs under the home's writer
    lock (bakery.ops.lock), so two of them never run at once, and takes --wait."""
    p.add_argument(
        "--wait",
        nargs="?",
        type=_seconds,
        const=WAIT_FLAG,
        default=None,
        metavar="SECONDS",
        help="if another command is writing this home, wait up to SECONDS for it to finish "
        "(alone: lock.wait_flag_seconds in conf; default lock.wait_seconds, 0), then exit 1",
    )
    p.set_defaults(writes_home=when or (lambda _args: True))


def _home_lock(args: argparse.Namespace, settings: Settings, argv: list[str]) -> AbstractContextManager:
    """The home's writer lock for a command that writes the home, else nothing."""
    if not getattr(args, "writes_home", lambda _args: False)(args):
        return nullcontext()
    from bakery.ops.lock import home_lock

    wait = settings.get("lock.wait_flag_seconds", 3600) if args.wait is WAIT_FLAG else args.wait
    # A command naming a person (gdpr) is recorded without its arguments: the lock file names its holder to others.
    command = getattr(args, "lock_command", None) or "bakery " + shlex.join(argv)
    return home_lock(settings, command, wait_seconds=wait)


def _spark_and_lakehouse(settings: Settings):
    from bakery.lakehouse import Lakehouse
    from bakery.spark import get_spark

    return Lakehouse(get_spark(settings), settings)


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

    report = run_etl(_spark_and_lakehouse(settings), settings)
    sys.stdout.write(report.render() + "\n")
    return EXIT_OK if report.ok else EXIT_FAILURE


def cmd_pipeline(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.pipeline import run_pipeline

    report = run_pipeline(_spark_and_lakehouse(settings), settings, as_of=args.as_of)
    sys.stdout.write(report.render() + "\n")
    return EXIT_OK if report.ok else EXIT_FAILURE


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.demo import run_demo

    report = run_demo(settings, dataset=args.dataset)
    sys.stdout.write(report.render() + "\n")
    return EXIT_OK if report.ok else EXIT_FAILURE


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.ops.status import collect_status, render_status

    status = collect_status(_spark_and_lakehouse(settings), settings)
    sys.stdout.write(
        (json.dumps(status, indent=2, default=str) if args.json else render_status(status)) + "\n"
    )
    return EXIT_OK


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.ops.retention import enforce_retention

    report = enforce_retention(_spark_and_lakehouse(settings), settings, today=args.today or date.today())
    sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    return EXIT_OK


def cmd_gdpr(args: argparse.Namespace, settings: Settings) -> int:
    """`gdpr export` writes what is held about a person to a JSON file; `gdpr erase` erases it (docs/privacy.md)."""
    from bakery.app.cli_commands import cli_actor
    from bakery.app.privacy import check_identifier
    from bakery.ops.gdpr import erase_person, export_person

    try:
        check_identifier(args.user, "--user")
        for other in args.also:
            check_identifier(other, "--also")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.gdpr_command == "export" and not Path(args.out).parent.is_dir():
        raise UsageError(f"--out {args.out}: no such directory")
    lh = _spark_and_lakehouse(settings)
    if args.gdpr_command == "export":
        doc = export_person(lh, settings, args.user, args.also, Path(args.out), cli_actor())
        found = {k: v for k, v in doc["found"].items() if v}
        if not found:
            sys.stderr.write(
                f"bakery: warning: nothing is held about {args.user!r} (no account, no records); "
                f"wrote an empty export to {args.out}\n"
            )
        else:
            places = ", ".join(f"{k} {v}" for k, v in found.items())
            sys.stdout.write(f"exported what is held about {args.user} to {args.out}: {places}\n")
        return EXIT_OK
    report = erase_person(lh, settings, args.user, args.also, cli_actor())
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bakery", description="Bakery sales-forecasting lakehouse.")
    parser.add_argument(
        "--home",
        default=None,
        help="where everything a run writes lives (default: $BAKERY_HOME or ./lakehouse)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

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
    p.add_argument("--start", type=_date)
    p.add_argument("--end", type=_date)
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
    p.add_argument("--as-of", type=_date)
    p.set_defaults(func=cmd_pipeline)
    writer(p)

    p = sub.add_parser("status", help="tables, row counts, latest data, last runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("retention", help="enforce the per-layer retention (deletes by date + VACUUM)")
    p.add_argument("--today", type=_date, help="reference date (default: today)")
    p.set_defaults(func=cmd_retention)
    writer(p)

    p = sub.add_parser("gdpr", help="export or erase what is held about a person (docs/privacy.md)")
    gsub = p.add_subparsers(dest="gdpr_command", required=True)
    for name, text in (
        ("export", "write everything held about a person to a JSON file"),
        ("erase", "erase a person everywhere, Delta history included; audited under a pseudonym"),
    ):
        g = gsub.add_parser(name, help=text)
        g.add_argument("--user", required=True, help="the person's user name (on Databricks, their e-mail)")
        g.add_argument(
            "--also",
            action="append",
            default=[],
            metavar="IDENTIFIER",
            help="another identifier of the same person (an e-mail address, a cashier or loyalty id) "
            "looked for in the same places; repeat for more",
        )
        if name == "export":
            g.add_argument("--out", required=True, metavar="FILE.json")
        g.set_defaults(func=cmd_gdpr, lock_command=f"bakery gdpr {name}")
        writer(g)

    from bakery.app.cli_commands import add_app_parsers
    from bakery.dashboards.cli_commands import add_parsers as add_dashboard_parsers
    from bakery.forecasting.cli_commands import add_forecasting_parsers

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
    try:
        settings = load_settings(home=args.home if args.home else default_home())
    except ValueError as exc:
        parser.error(str(exc))
    setup_logging(logging.DEBUG if args.verbose else logging.INFO, log_dir=settings.logs_dir)
    try:
        with _home_lock(args, settings, argv):
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
