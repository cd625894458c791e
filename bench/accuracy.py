"""Accuracy benchmark on the real ddop bakery chain: baselines, default/tuned Prophet, LightGBM, champion.

Evaluation window 2019-01-01..2019-04-30, weekly cutoffs, horizons 1/7/28 (conf/models.yml). Nothing
chosen for the champion sees that window: Prophet is tuned (pooled per product) on folds ending
before the selection window (2018-09-03), and the per-series model choice is made on selection
cutoffs 2018-09-03..2018-12-03 whose targets end 2018-12-31. All work (tuning, per-series Prophet
backtests, one LightGBM training per cutoff) runs in one process pool.

    .venv/bin/python bench/accuracy.py [--processes 2] [--out report.json] [--rows DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import pandas as pd

from bakery.datasets.bakery_chain import chain_features, read_ddop
from bakery.models import metrics
from bakery.models.backtest import backtest_series, cutoff_range, global_backtest, global_names, report, wide
from bakery.models.config import ModelConfig, load_model_config
from bakery.models.frames import model_frame
from bakery.models.opening import close_backtest
from bakery.models.selection import (
    CHAMPION,
    add_ensemble,
    calibrates,
    calibration,
    rolling_selection,
    select_models,
)
from bakery.models.tuning import params_from_rows, tune_group

log = logging.getLogger("bench.accuracy")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ddop_bakery_chain"
EVAL_START, EVAL_END = pd.Timestamp("2019-01-01"), pd.Timestamp("2019-04-30")
SELECTION_START = pd.Timestamp("2018-09-03")  # selection cutoffs: start..(EVAL_START - 1 - max_horizon)
SELECTION_STEP = 14
KEYS = ["unique_id", "store_id", "product_id", "cutoff", "ds", "horizon"]
EVAL_MODELS = ["seasonal_naive", "weekday_profile", "prophet_default", "prophet"]


def load_chain(folder: Path = DATA) -> pd.DataFrame:
    """ddop bakery_data.csv + bakery_target.csv as a gold.features-shaped frame.

    The traps (shifted weekday column, closed and not-offered days, fractional demand) are handled by
    bakery.datasets.bakery_chain, which also turns the shipped copy into the demo's landing files.
    """
    return chain_features(read_ddop(folder))


_FEATURES: pd.DataFrame | None = None


def _init_worker(features: pd.DataFrame) -> None:
    global _FEATURES
    _FEATURES = features
    _quiet()


def _quiet() -> None:
    """Third-party chatter off: cmdstanpy per-fit INFO, Prophet's Newton fallback notes, hyperopt TPE."""
    logging.getLogger("cmdstanpy").disabled = True
    for name in ("prophet", "hyperopt"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _timed(fn, *args) -> tuple[Any, float]:
    t0 = time.perf_counter()
    return fn(*args), time.perf_counter() - t0


def _tune(group: str, cfg: ModelConfig) -> tuple[pd.DataFrame, float]:
    """Pooled Prophet tuning for one group, on rows before the selection window only."""
    pdf = _FEATURES[_FEATURES[cfg.tuning["group_by"]] == group]
    return _timed(tune_group, pdf[pdf["date"] < SELECTION_START], cfg, SELECTION_START)


def _lgbm_at(cutoff: pd.Timestamp, cfg: ModelConfig, horizons: list[int]) -> tuple[pd.DataFrame, float]:
    """The global models (the challenger) trained at one cutoff (data <= cutoff), predicting these horizons."""
    return _timed(global_backtest, _FEATURES, cfg, [cutoff], horizons, calibrates(cfg))


def _per_series(
    uid: str, cfg: ModelConfig, sel_cutoffs: list, eval_cutoffs: list, sel_horizons: list[int] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Backtest one series on the selection window (at sel_horizons, default the reported ones) and on the
    evaluation window."""
    pdf = _FEATURES[_FEATURES["unique_id"] == uid]
    t0 = time.perf_counter()
    sel = wide(backtest_series(pdf, cfg, sel_cutoffs, horizons=sel_horizons, models=EVAL_MODELS))
    ev = wide(backtest_series(pdf, cfg, eval_cutoffs, models=EVAL_MODELS))
    return sel, ev, time.perf_counter() - t0


def backtest_windows(
    features: pd.DataFrame,
    cfg: ModelConfig,
    sel_cutoffs: list[pd.Timestamp],
    eval_cutoffs: list[pd.Timestamp],
    processes: int,
    sel_horizons: list[int] | None = None,
    reuse: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Selection and evaluation rows of every per-series model (EVAL_MODELS) and the challenger, all work in one
    process pool: each series refit at each cutoff on data <= cutoff, the challenger trained once per cutoff.
    Prophet runs with cfg's parameters (run `tune_group` first for tuned ones). The ensemble is not added.
    reuse: (selection, evaluation) per-series rows of an earlier run at the same cutoffs, kept as they are (their
    challenger columns dropped): only the challenger is run again, for a change that touches it alone."""
    wall: dict[str, float] = {}
    t0 = time.perf_counter()
    uids = sorted(features["unique_id"].unique())
    eval_h = list(cfg.horizons)
    with Pool(processes, initializer=_init_worker, initargs=(features,)) as pool:
        lgbm_jobs = [pool.apply_async(_lgbm_at, (c, cfg, sel_horizons or eval_h)) for c in sel_cutoffs]
        lgbm_jobs += [pool.apply_async(_lgbm_at, (c, cfg, eval_h)) for c in eval_cutoffs]
        if reuse is None:
            series = pool.starmap(
                _per_series, [(u, cfg, sel_cutoffs, eval_cutoffs, sel_horizons) for u in uids], chunksize=1
            )
        else:
            names = tuple(global_names(cfg))
            kept = [r.drop(columns=[c for c in r.columns if c.startswith(names)]) for r in reuse]
            series = [(kept[0], kept[1], 0.0)]
        lgbm_parts = [j.get() for j in lgbm_jobs]
    wall["per-series backtests, summed task time"] = sum(r[2] for r in series)
    wall["lightgbm (one training per cutoff), summed task time"] = sum(p[1] for p in lgbm_parts)
    wall["all backtests, wall"] = time.perf_counter() - t0
    lgbm_rows = wide(pd.concat([p[0] for p in lgbm_parts], ignore_index=True))
    join = ["unique_id", "cutoff", "ds", "horizon"]
    sel = pd.concat([r[0] for r in series], ignore_index=True)
    ev = pd.concat([r[1] for r in series], ignore_index=True)
    sel = sel.merge(lgbm_rows[lgbm_rows["cutoff"].isin(sel_cutoffs)], on=join, how="left")
    ev = ev.merge(lgbm_rows[lgbm_rows["cutoff"].isin(eval_cutoffs)], on=join, how="left")
    return sel, ev, wall


def _table(
    scores: dict[str, dict[int, dict[str, float]]], models: list[str], horizons: tuple[int, ...]
) -> str:
    lines = [
        f"{'model':<16}{'h':>4}{'wMAPE':>9}{'MAE':>9}{'bias':>8}{'n':>7}{'/naive':>8}{'/prophet_default':>17}"
    ]
    for model in models:
        for h in horizons:
            m = scores[model][h]
            vs_naive = m["wmape"] / scores["seasonal_naive"][h]["wmape"]
            vs_default = m["wmape"] / scores["prophet_default"][h]["wmape"]
            lines.append(
                f"{model:<16}{h:>4}{m['wmape']:>9.2f}{m['mae']:>9.2f}{m['bias']:>8.2f}{m['n']:>7}"
                f"{vs_naive:>8.3f}{vs_default:>17.3f}"
            )
    return "\n".join(lines)


def run(processes: int, quick: bool, out: Path | None, rows_dir: Path | None = None) -> dict[str, Any]:
    # One LightGBM thread per pool process: the pool already keeps every core busy.
    cfg = load_model_config().with_overrides({"challenger": {"lgbm": {"num_threads": 1}}})
    features = load_chain()
    if quick:
        features = features[features["unique_id"].isin(sorted(features["unique_id"].unique())[::15])]
    h_max = cfg.max_horizon
    eval_cutoffs = cutoff_range(
        EVAL_START - pd.Timedelta(days=1), EVAL_END - pd.Timedelta(days=1), cfg.backtest["step_days"]
    )
    sel_cutoffs = cutoff_range(SELECTION_START, EVAL_START - pd.Timedelta(days=1 + h_max), SELECTION_STEP)
    if quick:
        eval_cutoffs, sel_cutoffs = eval_cutoffs[::6], sel_cutoffs[::3]
    log.info(
        "%d series, %d evaluation cutoffs (%s..%s), %d selection cutoffs, %d processes",
        features["unique_id"].nunique(),
        len(eval_cutoffs),
        eval_cutoffs[0].date(),
        eval_cutoffs[-1].date(),
        len(sel_cutoffs),
        processes,
    )

    t0 = time.perf_counter()
    groups = sorted(features[cfg.tuning["group_by"]].unique())
    with Pool(processes, initializer=_init_worker, initargs=(features,)) as pool:
        tuned_parts = pool.starmap(_tune, [(g, cfg) for g in groups], chunksize=1)
    tuned = pd.concat([p[0] for p in tuned_parts], ignore_index=True)
    wall = {
        "prophet tuning, wall": time.perf_counter() - t0,
        "  prophet tuning, summed task time": sum(p[1] for p in tuned_parts),
    }
    run_cfg = cfg.with_series_params(params_from_rows(tuned))
    uids = sorted(features["unique_id"].unique())
    sel_rows, eval_rows, bt_wall = backtest_windows(features, run_cfg, sel_cutoffs, eval_cutoffs, processes)
    wall |= {f"  {k}": v for k, v in bt_wall.items()}
    members = cfg.selection["ensemble_members"]
    sel_rows = add_ensemble(sel_rows, members)
    eval_rows = add_ensemble(eval_rows, members)
    if rows_dir:
        rows_dir.mkdir(parents=True, exist_ok=True)
        sel_rows.to_parquet(rows_dir / "selection_rows.parquet", index=False)
        eval_rows.to_parquet(rows_dir / "evaluation_rows.parquet", index=False)
    choice = select_models(sel_rows, cfg)
    # As served: the choice made on the selection rows; intervals calibrated at each cutoff on the recent rows
    # known by then (as the weekly retraining does), and the days the closure rule marks closed at each cutoff
    # forecast 0 (bakery.models.opening).
    history = pd.concat([sel_rows, eval_rows], ignore_index=True)
    eval_rows = close_backtest(
        rolling_selection(eval_rows, cfg, history=history, choice=choice),
        model_frame(features, cfg),
        cfg,
        CHAMPION,
    )
    wall["total, wall"] = time.perf_counter() - t0

    models = [
        *EVAL_MODELS[:1],
        "weekday_profile",
        "prophet_default",
        "prophet",
        *global_names(cfg),
        "ensemble",
        CHAMPION,
    ]
    scores = metrics.evaluate(eval_rows, models)
    log.info(
        "\nEvaluation window %s..%s\n%s",
        EVAL_START.date(),
        EVAL_END.date(),
        _table(scores, models, cfg.horizons),
    )
    log.info("champion choice per series: %s", choice["model"].value_counts().to_dict())
    cover = metrics.coverage(eval_rows, [m for m in models if f"{m}_lower" in eval_rows.columns])
    log.info(
        "80%% interval coverage (nominal %.2f): %s",
        cfg.interval_width,
        "; ".join(f"{m} " + " / ".join(f"{v:.3f}" for v in by_h.values()) for m, by_h in cover.items()),
    )
    scales = calibration(sel_rows, cfg)
    shown = scales[scales["horizon"].isin(cfg.horizons)]
    log.info(
        "interval scales on the selection rows: %s",
        "; ".join(f"{m} " + " / ".join(f"{v:.2f}" for v in g["scale"]) for m, g in shown.groupby("model")),
    )
    fallbacks = eval_rows.drop_duplicates(["unique_id", "cutoff"])["fallback_reason"].dropna()
    log.info(
        "prophet fallbacks (series x cutoff): %d %s",
        len(fallbacks),
        fallbacks.str.split(":").str[0].value_counts().to_dict(),
    )
    for rec in tuned.drop_duplicates("params").to_dict("records"):
        log.info(
            "tuned params (%d series pooled): %s  fold wMAPE %.2f (defaults %.2f)",
            rec["n_series"],
            rec["params"],
            rec["loss"],
            rec["default_loss"],
        )
    for name, seconds in wall.items():
        log.info("%-55s %8.1f s", name, seconds)
    targets = {
        int(h): {
            "vs_naive": scores[CHAMPION][h]["wmape"] / scores["seasonal_naive"][h]["wmape"],
            "vs_prophet_default": scores[CHAMPION][h]["wmape"] / scores["prophet_default"][h]["wmape"],
        }
        for h in cfg.horizons
    }
    met = all(t["vs_naive"] <= 0.8 and t["vs_prophet_default"] <= 0.9 for t in targets.values())
    log.info(
        "targets (champion <= 0.8 x naive and <= 0.9 x default Prophet at every horizon): %s",
        "met" if met else "NOT met",
    )
    result = report(eval_rows, cfg, eval_cutoffs, champion=CHAMPION, models=models)
    result["bench"] = {
        "targets": targets,
        "targets_met": met,
        "wall_seconds": wall,
        "series": len(uids),
        "choice": choice["model"].value_counts().to_dict(),
    }
    if out:
        out.write_text(json.dumps(result, indent=2, default=float))
        log.info("report written to %s", out)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--out", type=Path, default=None, help="write the backtest report (docs/contract.md) here"
    )
    parser.add_argument("--quick", action="store_true", help="7 series, few cutoffs: a smoke run")
    parser.add_argument(
        "--rows", type=Path, default=None, help="also write the selection and evaluation rows (parquet) here"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    _quiet()
    run(args.processes, args.quick, args.out, args.rows)


if __name__ == "__main__":
    main()
