"""Bake plan in euros on a generated chain, scored against the generator's TRUE demand (before stock-outs censor it).

Generates a small chain with `bakery.generate` (few stores and products, so that it runs in minutes on a busy
2-core machine), lands its files in a fresh home, and runs the decisions backtest exactly as documented:

    bakery backtest --start FIRST --end LAST --step STEP --horizons 1 --out REPORT.json
        --decisions 0.5,0.7,0.9,0.95 --truth <landing>/_truth/demand.parquet

(the backtest ingests the landed files first). Nothing is tuned: the models run with conf/models.yml and the
costs with conf/bake_plan.yml. Then it prints, per policy, each product baked at its own critical ratio, the euros
per day of waste (units left over at cost net of salvage), lost margin (units short at margin plus goodwill), their
total and the ratio to the point-forecast policy; and, at each fixed critical ratio, the euro cost per day.

    .venv/bin/python bench/bake_plan_euros.py [--work DIR] [--stores 2] [--products 6] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bakery.config import load_settings
from bakery.decisions.policies import POLICIES
from bakery.generate import generate_demo

log = logging.getLogger("bench.bake_plan_euros")
RATIOS = "0.5,0.7,0.9,0.95"
TARGET = 0.80  # waste + lost margin at least 20% below the point-forecast policy


def _day(text: str) -> date:
    return date.fromisoformat(text)


def land(work: Path, args: argparse.Namespace) -> tuple[Path, Path]:
    """Generate the chain under work/generated and copy its landing files (not the late ones, not the truth) into
    the home's landing zone; (home, truth file)."""
    generated = work / "generated"
    if not (generated / "_truth" / "demand.parquet").is_file():
        generate_demo(
            generated,
            stores=args.stores,
            products=args.products,
            start=args.start,
            end=args.end,
            seed=args.seed,
        )
    home = work / "home"
    settings = load_settings(home=home)
    if not settings.landing_dir.exists():
        shutil.copytree(generated, settings.landing_dir, ignore=shutil.ignore_patterns("_late", "_truth"))
    return home, generated / "_truth" / "demand.parquet"


def run_backtest(home: Path, truth: Path, report: Path, args: argparse.Namespace) -> float:
    """The documented command in a child process; its wall time in seconds."""
    cmd = [
        sys.executable,
        "-m",
        "bakery.cli",
        "--home",
        str(home),
        "backtest",
        "--start",
        args.first_cutoff.isoformat(),
        "--end",
        args.last_cutoff.isoformat(),
        "--step",
        str(args.step),
        "--horizons",
        "1",
        "--out",
        str(report),
        "--decisions",
        RATIOS,
        "--truth",
        str(truth),
    ]
    log.info("running: %s", " ".join(cmd[2:]))
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy(), check=False)
    if done.returncode != 0:
        raise SystemExit(f"bakery backtest failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return time.perf_counter() - t0


def euro_lines(rep: dict) -> list[str]:
    """Per policy, each product at its own critical ratio: waste, lost margin, total (euros per day) and the
    ratio to the point forecast's total; then the euro cost per day at each fixed ratio."""
    money = rep.get("decisions_cost_model")
    if not money:
        raise SystemExit("the report has no decisions_cost_model: silver.products has no prices")
    point = money["point_forecast"]["cost_eur_per_day"]
    lines = [
        f"scored against {rep['decisions_scored_against']}; {money['n']} (series, day) pairs, each product at its "
        f"own critical ratio (mean {money['mean_critical_ratio']}); euros per day:",
        f"  {'policy':<16}{'waste':>10}{'lost margin':>14}{'total':>10}{'x point':>10}",
    ]
    for p in POLICIES:
        m = money[p]
        lines.append(
            f"  {p:<16}{m['waste_eur_per_day']:>10.2f}{m['lost_margin_eur_per_day']:>14.2f}"
            f"{m['cost_eur_per_day']:>10.2f}{m['cost_eur_per_day'] / point if point else float('nan'):>10.3f}"
        )
    plan = money["plan"]["cost_eur_per_day"] / point if point else float("nan")
    verdict = "met" if plan <= TARGET else "NOT met"
    lines.append(f"plan / point forecast: {plan:.3f} (target <= {TARGET:.2f}: {verdict})")
    lines.append("euro cost per day at a fixed critical ratio for every product:")
    lines.append(f"  {'ratio':<8}" + "".join(f"{p:>16}" for p in POLICIES) + f"{'plan/point':>12}")
    for r, by in rep["decisions"].items():
        eur = [by[p].get("cost_eur_per_day") for p in POLICIES]
        ratio = eur[0] / eur[1] if eur[0] is not None and eur[1] else float("nan")
        lines.append(f"  {r:<8}" + "".join(f"{e:>16.2f}" for e in eur) + f"{ratio:>12.3f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work", type=Path, default=None, help="working folder (kept); default a temporary one"
    )
    parser.add_argument("--stores", type=int, default=2)
    parser.add_argument("--products", type=int, default=6)
    parser.add_argument("--start", type=_day, default=date(2025, 3, 1), help="first generated day")
    parser.add_argument("--end", type=_day, default=date(2026, 2, 28), help="last generated day")
    parser.add_argument("--first-cutoff", type=_day, default=date(2026, 1, 5))
    parser.add_argument("--last-cutoff", type=_day, default=date(2026, 2, 26))
    parser.add_argument("--step", type=int, default=3, help="days between cutoffs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    t0 = time.perf_counter()
    work = args.work or Path(tempfile.mkdtemp(prefix="bake_plan_euros_"))
    work.mkdir(parents=True, exist_ok=True)
    home, truth = land(work, args)
    log.info(
        "generated %d stores x %d products, %s..%s (seed %d) in %.1f s",
        args.stores,
        args.products,
        args.start,
        args.end,
        args.seed,
        time.perf_counter() - t0,
    )
    report = work / "report.json"
    seconds = run_backtest(home, truth, report, args)
    rep = json.loads(report.read_text())
    for line in euro_lines(rep):
        log.info("%s", line)
    log.info("backtest %.1f s, wall %.1f s", seconds, time.perf_counter() - t0)
    if args.out:
        args.out.write_text(
            json.dumps(
                {
                    "decisions_cost_model": rep["decisions_cost_model"],
                    "decisions": rep["decisions"],
                    "seconds": round(time.perf_counter() - t0, 1),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
