"""Ensemble weighting variants judged on selection windows only (never a data set's evaluation window).

Reads the selection rows bench/model_choice.py writes (`--rows DIR`: <dataset>_selection_rows.parquet, every
horizon 1..28). Each data set's selection cutoffs are split: the weights (and the per-series choice) are
learned from the rows whose target day is <= the first of the last `--score-cutoffs` cutoffs, and scored on
those last cutoffs. Printed per data set, variant and horizon: wMAPE of the ensemble and of the champion
(select_models on the learning rows), and of prophet and lgbm alone for reference.

    .venv/bin/python bench/ensemble_weights.py --rows DIR [--score-cutoffs 3]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from bakery.models import metrics
from bakery.models.config import ModelConfig, load_model_config
from bakery.models.selection import CHAMPION, add_ensemble, apply_selection, ensemble_weights, select_models

log = logging.getLogger("bench.ensemble_weights")

LEVELS = ["series", "store", "product", "all"]
PRIORS = [0, 50, 100, 200, 400]
DROP_MARGINS = [0.2, 0.35]
HORIZONS = [1, 7, 28]


def variant_cfg(
    cfg: ModelConfig, level: str, prior: float, method: str = "grid", margin: float = 0.2
) -> ModelConfig:
    weights = {
        **(cfg.selection.get("ensemble_weights") or {}),
        "level": level,
        "prior_pairs": prior,
        "min_pairs": int(prior),
        "method": method,
        "drop_margin": margin,
    }
    return cfg.with_overrides({"selection": {**cfg.selection, "ensemble_weights": weights}})


def score_variant(rows: pd.DataFrame, cfg: ModelConfig, n_score: int) -> dict[str, dict[int, float]]:
    """wMAPE per horizon (and 'all' = h 1..28 pooled) of the ensemble and the champion on the last n_score
    cutoffs, with weights and choice learned from the rows known at the first of them."""
    cutoffs = sorted(rows["cutoff"].unique())
    first = cutoffs[-n_score]
    learn = rows[rows["ds"] <= first]
    score = rows[rows["cutoff"] >= first]
    members = cfg.selection["ensemble_members"]
    weights = ensemble_weights(learn, cfg)
    learn = add_ensemble(learn, members, weights=weights, cfg=cfg)
    score = add_ensemble(score, members, weights=weights, cfg=cfg)
    score = apply_selection(score, select_models(learn, cfg), cfg)
    out = {}
    for model in ("ensemble", CHAMPION, *members):
        by_h = metrics.evaluate(score[score["horizon"].isin(HORIZONS)], [model])[model]
        pooled = metrics.evaluate(score.assign(horizon=0), [model])[model][0]
        # nan where no target day was observed (a horizon that lands on a closed weekday at every cutoff)
        out[model] = {
            **{h: by_h.get(h, {}).get("wmape", float("nan")) for h in HORIZONS},
            "all": pooled["wmape"],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=Path, required=True, help="the --rows folder of bench/model_choice.py")
    parser.add_argument("--score-cutoffs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = load_model_config()
    files = sorted(args.rows.glob("*_selection_rows.parquet"))
    if not files:
        parser.error(f"--rows: no *_selection_rows.parquet in {args.rows}")
    for path in files:
        name = path.name.removesuffix("_selection_rows.parquet")
        rows = pd.read_parquet(path)
        n_cut = rows["cutoff"].nunique()
        log.info(
            "\n%s: %d series, learn on targets <= cutoff %d of %d, score the last %d",
            name,
            rows["unique_id"].nunique(),
            n_cut - args.score_cutoffs + 1,
            n_cut,
            args.score_cutoffs,
        )
        log.info("%-22s%-10s%8s%8s%8s%8s", "variant", "model", "D+1", "D+7", "D+28", "h1-28")
        variants = [("equal", "none", 0.0, "grid", 0.0)]
        variants += [(f"{lv} prior {p}", lv, float(p), "grid", 0.0) for lv in LEVELS for p in PRIORS]
        variants += [
            (f"drop {lv} >{m:.0%} n>={p}", lv, float(p), "drop", m)
            for lv in ("store", "product", "all")
            for m in DROP_MARGINS
            for p in (28, 100)
        ]
        for label, level, prior, method, margin in variants:
            res = score_variant(rows, variant_cfg(cfg, level, prior, method, margin), args.score_cutoffs)
            shown = ["ensemble", CHAMPION, *(cfg.selection["ensemble_members"] if level == "none" else [])]
            for model in shown:
                r = res[model]
                log.info("%-22s%-10s%8.2f%8.2f%8.2f%8.2f", label, model, r[1], r[7], r[28], r["all"])


if __name__ == "__main__":
    main()
