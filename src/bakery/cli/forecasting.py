"""`bakery train|forecast|backtest|model ...`: the forecasting commands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bakery.cli.common import EXIT_OK, EXIT_USAGE, fail, out, parse_date, writer
from bakery.cli.startup import lakehouse
from bakery.config import Settings


def _horizons(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--horizons: expected comma-separated whole days like 1,7,28, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"--horizons: every horizon must be >= 1 day, got {text!r}")
    return values


def _ratios(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--decisions: expected comma-separated critical ratios like 0.5,0.9, got {text!r}"
        ) from None
    if not values or not all(0 < v < 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"--decisions: every critical ratio must lie strictly between 0 and 1, got {text!r}"
        )
    return list(dict.fromkeys(values))


def _tracked(settings: Settings, job: str, run: Callable[[Any], Any]) -> int:
    """Run one forecasting step recorded in ops.runs, after ingesting whatever `bakery import` left in the landing
    zone; a ValueError (missing data, no model) exits 1 with its message, anything else propagates to the CLI's
    failure handler."""
    from bakery.etl import ingest_pending
    from bakery.ops.runs import track_run

    lh = lakehouse(settings)
    ingest = ingest_pending(lh, settings, job)
    if ingest is not None:
        out([f"{job}: the landing zone held files not ingested yet; ingested them first", ingest.render()])
    try:
        with track_run(lh, job) as rec:
            result = run(lh)
            rec.details = result.to_dict()
    except ValueError as exc:
        return fail(str(exc))
    out(result.summary_lines())
    return EXIT_OK


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.forecasting.train import run_train

    return _tracked(settings, "train", lambda lh: run_train(lh, settings, as_of=args.as_of, tune=args.tune))


def cmd_forecast(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.forecasting.forecast import run_forecast

    return _tracked(settings, "forecast", lambda lh: run_forecast(lh, settings, as_of=args.as_of))


def cmd_backtest(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.forecasting.backtest import run_backtest
    from bakery.models.config import load_model_config

    if args.end < args.start:
        return fail(f"--end {args.end} is before --start {args.start}", EXIT_USAGE)
    if args.step < 1:
        return fail(f"--step must be >= 1 day, got {args.step}", EXIT_USAGE)
    cfg = load_model_config(settings.conf_dir)
    if args.decisions and 1 not in args.horizons:
        return fail("--decisions scores the bake plan at D+1: --horizons must include 1", EXIT_USAGE)
    if args.truth and not args.decisions:
        return fail("--truth only changes what --decisions scores against: give --decisions too", EXIT_USAGE)
    if args.truth and not Path(args.truth).is_file():
        return fail(f"--truth {args.truth}: no such file", EXIT_USAGE)
    if max(args.horizons) > cfg.max_horizon:
        return fail(
            f"--horizons: at most {cfg.max_horizon} days (conf/models.yml max_horizon), got {max(args.horizons)}",
            EXIT_USAGE,
        )
    return _tracked(
        settings,
        "backtest",
        lambda lh: run_backtest(
            lh,
            settings,
            args.start,
            args.end,
            Path(args.out),
            step=args.step,
            horizons=args.horizons,
            cfg=cfg,
            decisions=args.decisions,
            truth=Path(args.truth) if args.truth else None,
        ),
    )


def cmd_model(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.forecasting import registry

    if args.action == "list":
        rows = [
            {
                "version": r.version,
                "aliases": r.aliases,
                "as_of": r.tags.get("as_of"),
                "gate_ok": r.tags.get("gate_ok"),
                "run_id": r.run_id,
            }
            for r in registry.versions(settings)
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    try:
        if args.action == "rollback":
            old, new = registry.rollback(settings)
            out([f"champion rolled back from version {old} to version {new}"])
            return EXIT_OK
        version = args.version or getattr(registry.by_alias(settings, registry.CHALLENGER), "version", None)
        if version is None:
            return fail("no --version given and no challenger is registered", EXIT_USAGE)
        known = {r.version: r for r in registry.versions(settings)}
        if str(version) not in known:
            return fail(
                f"--version {version}: no such registered version (have {sorted(known, key=int)})", EXIT_USAGE
            )
        if known[str(version)].tags.get("gate_ok") != "True" and not args.force:
            return fail(
                f"version {version} did not pass the promotion gate ({known[str(version)].tags.get('gate', '')[:300]}); "
                "use --force to promote anyway"
            )
        registry.set_champion(
            settings, str(version), "promoted by hand" + (" (forced)" if args.force else "")
        )
    except ValueError as exc:
        return fail(str(exc))
    out([f"champion is now version {version}"])
    return EXIT_OK


def add_forecasting_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="tune (with --tune), backtest candidates, fit every series, register in MLflow"
    )
    p.add_argument("--tune", action="store_true", help="also run the Hyperopt tuning (weekly)")
    p.add_argument(
        "--as-of", type=parse_date, help="last day of data to train on (default: the latest sales day)"
    )
    p.set_defaults(func=cmd_train)
    writer(p)

    p = sub.add_parser(
        "forecast", help="write D+1..D+28 for every series with the champion (challenger as shadow)"
    )
    p.add_argument("--as-of", type=parse_date, help="last day of known data (default: the latest sales day)")
    p.set_defaults(func=cmd_forecast)
    writer(p)

    p = sub.add_parser("backtest", help="rolling-origin backtest; writes the JSON report of docs/contract.md")
    p.add_argument("--start", type=parse_date, required=True, help="first cutoff (last day of known data)")
    p.add_argument("--end", type=parse_date, required=True, help="last cutoff")
    p.add_argument("--step", type=int, default=7, help="days between cutoffs")
    p.add_argument("--horizons", type=_horizons, default=[1, 7, 28], help="comma-separated, e.g. 1,7,28")
    p.add_argument("--out", required=True, help="path of the JSON report")
    p.add_argument(
        "--decisions",
        type=_ratios,
        default=None,
        help="critical ratios, e.g. 0.5,0.7,0.9,0.95: also score the bake plan against other policies at D+1",
    )
    p.add_argument(
        "--truth",
        default=None,
        help="with --decisions: score against this true-demand file (the generator's _truth/demand.parquet)",
    )
    p.set_defaults(func=cmd_backtest)
    writer(p)  # it writes gold.backtest_* tables

    p = sub.add_parser("model", help="registered model versions: list, promote, rollback")
    p.add_argument("action", choices=["list", "promote", "rollback"])
    p.add_argument("--version", help="promote: the version (default: the challenger)")
    p.add_argument("--force", action="store_true", help="promote even if the version failed the gate")
    p.set_defaults(func=cmd_model)
    writer(p, when=lambda args: args.action != "list")  # the champion alias the pipeline's training moves too
