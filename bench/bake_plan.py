"""Bake-plan benchmark: the newsvendor cost of the plan against the other bake policies, side by side.

Real chain (ddop, no prices): the evaluation window's weekly cutoffs 2018-12-31..2019-04-01, D+1, critical
ratios 0.5 / 0.7 / 0.9 / 0.95, in units of demand. The forecasts are bench/accuracy.py's (the champion chosen
on the selection cutoffs, never on this window); the quantiles at each cutoff come from the rows known by then,
the selection cutoffs' included, exactly as `bakery backtest --decisions` makes them.

Generated chain, in euros against the generator's true demand: bench/bake_plan_euros.py.

    .venv/bin/python bench/bake_plan.py [--rows DIR] [--processes 2] [--out bake_plan.json]

--rows DIR reuses the selection/evaluation rows found there (bench/accuracy.py --rows writes them too), else makes
them (the served candidates only: seasonal naive, Prophet, LightGBM, ensemble) and saves them there.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy  # noqa: E402 - the bench folder's accuracy run makes the rows

from bakery.decisions.backtest import decision_pairs, decision_report, ratio_lines  # noqa: E402
from bakery.models.backtest import backtest_series, cutoff_range, wide  # noqa: E402
from bakery.models.config import load_model_config  # noqa: E402
from bakery.models.frames import model_frame  # noqa: E402
from bakery.models.opening import close_backtest  # noqa: E402
from bakery.models.quantiles import quantile_report, rolling_quantiles  # noqa: E402
from bakery.models.selection import CHAMPION, add_ensemble, rolling_selection, select_models  # noqa: E402

log = logging.getLogger("bench.bake_plan")

RATIOS = (0.5, 0.7, 0.9, 0.95)
SERIES_MODELS = ["seasonal_naive", "prophet"]
FIRST, LAST = pd.Timestamp("2018-12-31"), pd.Timestamp("2019-04-02")


def served_rows(sel_rows: pd.DataFrame, eval_rows: pd.DataFrame, features: pd.DataFrame, cfg) -> pd.DataFrame:
    """Every cutoff's champion as served (choice from the selection rows, intervals calibrated at each cutoff
    on the rows known by then, closed days at 0) with its quantiles, made the same way."""
    choice = select_models(sel_rows, cfg)
    rows = pd.concat([sel_rows, eval_rows], ignore_index=True)
    rows = rolling_selection(rows, cfg, choice=choice)
    rows = close_backtest(rows, model_frame(features, cfg), cfg, CHAMPION)
    return rolling_quantiles(rows, cfg, CHAMPION)


def _series(uid: str, cfg, sel_cutoffs: list, eval_cutoffs: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    pdf = accuracy._FEATURES[accuracy._FEATURES["unique_id"] == uid]
    return (
        wide(backtest_series(pdf, cfg, sel_cutoffs, models=SERIES_MODELS)),
        wide(backtest_series(pdf, cfg, eval_cutoffs, models=SERIES_MODELS)),
    )


def make_rows(features: pd.DataFrame, cfg, processes: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """bench/accuracy.py's selection and evaluation rows of the served candidates only (seasonal naive, Prophet
    with its defaults, which its tuning kept, LightGBM and their ensemble), at its selection cutoffs and this
    bench's evaluation cutoffs."""
    cfg = cfg.with_overrides({"challenger": {"lgbm": {"num_threads": 1}}})
    h_max = cfg.max_horizon
    sel_cutoffs = cutoff_range(
        accuracy.SELECTION_START, accuracy.EVAL_START - pd.Timedelta(days=1 + h_max), accuracy.SELECTION_STEP
    )
    eval_cutoffs = cutoff_range(FIRST, LAST, cfg.backtest["step_days"])
    uids = sorted(features["unique_id"].unique())
    with Pool(processes, initializer=accuracy._init_worker, initargs=(features,)) as pool:
        lgbm_jobs = [pool.apply_async(accuracy._lgbm, (c, cfg)) for c in [*sel_cutoffs, *eval_cutoffs]]
        series = pool.starmap(_series, [(u, cfg, sel_cutoffs, eval_cutoffs) for u in uids], chunksize=1)
        lgbm = pd.concat([j.get()[0] for j in lgbm_jobs], ignore_index=True)
    join = ["unique_id", "cutoff", "ds", "horizon"]
    members = cfg.selection["ensemble_members"]
    out = []
    for part, cutoffs in ((0, sel_cutoffs), (1, eval_cutoffs)):
        rows = pd.concat([s[part] for s in series], ignore_index=True)
        rows = rows.merge(lgbm[lgbm["cutoff"].isin(cutoffs)], on=join, how="left")
        out.append(add_ensemble(rows, members))
    return out[0], out[1]


def targets(decisions: dict) -> list[str]:
    """The bake plan's targets against the figures: plan vs point / last week / SAA."""

    def ratio(r: str, other: str) -> float:
        return decisions[r]["plan"]["cost_per_day"] / decisions[r][other]["cost_per_day"]

    lines = []
    for r in ("0.9", "0.95"):
        lines.append(f"plan/point_forecast at {r}: {ratio(r, 'point_forecast'):.3f} (target <= 0.70)")
    for r in ("0.5", "0.7", "0.9", "0.95"):
        lines.append(f"plan/last_week at {r}: {ratio(r, 'last_week'):.3f} (target <= 0.75)")
    for r, bar in (("0.5", 1.0), ("0.7", 0.9), ("0.9", 0.9), ("0.95", 0.9)):
        lines.append(f"plan/saa at {r}: {ratio(r, 'saa'):.3f} (target <= {bar:.2f})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=Path, default=None, help="bench/accuracy.py --rows output to reuse")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    accuracy._quiet()
    cfg = load_model_config()
    t0 = time.perf_counter()
    features = accuracy.load_chain()
    if args.rows and (args.rows / "evaluation_rows.parquet").is_file():
        sel = pd.read_parquet(args.rows / "selection_rows.parquet")
        ev = pd.read_parquet(args.rows / "evaluation_rows.parquet")
    else:
        sel, ev = make_rows(features, cfg, args.processes)
        if args.rows:
            args.rows.mkdir(parents=True, exist_ok=True)
            sel.to_parquet(args.rows / "selection_rows.parquet", index=False)
            ev.to_parquet(args.rows / "evaluation_rows.parquet", index=False)
    served = served_rows(sel, ev, features, cfg)
    window = served[(served["cutoff"] >= FIRST) & (served["cutoff"] <= LAST)]
    quant = quantile_report(window, cfg, cfg.horizons)
    log.info("quantiles on cutoffs %s..%s (coverage / pinball %% of mean demand):", FIRST.date(), LAST.date())
    for level in quant["levels"]:
        col = f"q{round(level * 100):02d}"
        cells = "  ".join(
            f"h{h} {m['coverage']:.3f} / {m['pinball_pct']:.2f}" for h, m in quant[col].items() if m["n"]
        )
        log.info("  %s (level %.2f): %s", col, level, cells)
    sales = features.rename(columns={"date": "ds"})[["unique_id", "ds", "y"]]
    sales["ds"] = pd.to_datetime(sales["ds"])
    pairs = decision_pairs(window, sales, CHAMPION)
    decisions = decision_report(pairs, RATIOS, cfg, CHAMPION)
    log.info(
        "decisions at D+1 on %d pairs, %d days (cost per day in units of demand):",
        len(pairs),
        pairs["ds"].nunique(),
    )
    for line in ratio_lines(decisions):
        log.info("%s", line)
    for line in targets(decisions):
        log.info("%s", line)
    log.info("wall %.1f s", time.perf_counter() - t0)
    if args.out:
        args.out.write_text(json.dumps({"quantiles": quant, "decisions": decisions}, indent=2))


if __name__ == "__main__":
    main()
