"""Cold-start accuracy on the real ddop bakery chain: how well `bakery.models.cold_start` forecasts a product at a
store that has never sold it, scored against the store's actual sales and next to the models that know its history.

Each series is held out in turn, at every cutoff, as if the store were launching the product the day after:
- `cold_start_store`: the product is new at this store only: its ensemble forecast at the 34 other stores, scaled by
  the store's size (bakery.models.cold_start, the code the pipeline runs);
- `peers_unscaled`: the same median over the other stores without the scaling (what the scaling buys);
- `cold_start_chain`: the product is new to the whole chain: the median of the store's other products of its category
  (of all its products when the category has no other);
- `ensemble` and `seasonal_naive`: the series' own models, with its full history up to the cutoff.
Cutoffs every 14 days over the accuracy bench's evaluation window (2019-01-01..2019-04-30), horizons 1/7/28.
Nothing here is tuned: Prophet runs with the configured default parameters.

    .venv/bin/python bench/cold_start.py [--processes 2] [--step 14] [--quick]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import EVAL_END, EVAL_START, load_chain  # noqa: E402

from bakery.datasets.bakery_chain import PRODUCTS  # noqa: E402
from bakery.models import metrics  # noqa: E402
from bakery.models.backtest import backtest_series, cutoff_range, global_backtest, wide  # noqa: E402
from bakery.models.cold_start import as_forecast_rows, cold_start_rows  # noqa: E402
from bakery.models.config import ModelConfig, load_model_config  # noqa: E402
from bakery.models.selection import ENSEMBLE, add_ensemble  # noqa: E402

log = logging.getLogger("bench.cold_start")
JOIN = ["unique_id", "cutoff", "ds", "horizon"]
MODELS = ["cold_start_store", "peers_unscaled", "cold_start_chain", ENSEMBLE, "seasonal_naive"]
_FEATURES: pd.DataFrame | None = None


def _init(features: pd.DataFrame) -> None:
    global _FEATURES
    _FEATURES = features
    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.ERROR)


def _series(uid: str, cfg: ModelConfig, cutoffs: list) -> pd.DataFrame:
    return wide(
        backtest_series(
            _FEATURES[_FEATURES["unique_id"] == uid], cfg, cutoffs, models=["seasonal_naive", "prophet"]
        )
    )


def _lgbm(cutoff: pd.Timestamp, cfg: ModelConfig) -> pd.DataFrame:
    """The global models (the challenger) trained at one cutoff."""
    return global_backtest(_FEATURES, cfg, [cutoff])


def _cold(
    fc: pd.DataFrame, catalogue: pd.DataFrame, product: str, cfg: ModelConfig, cutoff: pd.Timestamp, name: str
) -> pd.DataFrame:
    """cold_start_rows with `product` launching the day after the cutoff (the rest of the catalogue is not new)."""
    launched = catalogue.assign(
        launched_on=pd.Series(cutoff + pd.Timedelta(days=1), index=catalogue.index).where(
            catalogue["product_id"] == product
        )
    )
    out = cold_start_rows(fc, launched, cfg, cutoff.date())
    return out[["unique_id", "ds", "yhat"]].rename(columns={"yhat": name}).assign(cutoff=cutoff)


def cold_starts(rows: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """unique_id, cutoff, ds and the three cold-start forecasts of every held-out series."""
    catalogue = pd.DataFrame(
        {"product_id": [str(p) for p in PRODUCTS], "category": [c for _, c in PRODUCTS.values()]}
    )
    parts = []
    for cutoff, at in rows.groupby("cutoff"):
        fc = as_forecast_rows(at, cutoff, ENSEMBLE)
        for product in sorted(fc["product_id"].unique()):
            chain = _cold(
                fc[fc["product_id"] != product], catalogue, product, cfg, cutoff, "cold_start_chain"
            )
            for uid in sorted(fc.loc[fc["product_id"] == product, "unique_id"].unique()):
                rest = fc[fc["unique_id"] != uid]
                store = _cold(rest, catalogue, product, cfg, cutoff, "cold_start_store")
                peers = (
                    rest[rest["product_id"] == product]
                    .groupby("ds")["yhat"]
                    .median()
                    .rename("peers_unscaled")
                )
                store = store.join(peers, on="ds")
                parts.append(
                    store.merge(
                        chain[chain["unique_id"] == uid], on=["unique_id", "ds", "cutoff"], how="left"
                    )
                )
    return pd.concat(parts, ignore_index=True)


def _table(scores: dict, horizons: tuple[int, ...]) -> str:
    lines = [f"{'model':<18}{'h':>4}{'wMAPE':>9}{'bias':>8}{'n':>7}{'/own ensemble':>15}"]
    for model in MODELS:
        for h in horizons:
            m = scores[model][h]
            lines.append(
                f"{model:<18}{h:>4}{m['wmape']:>9.2f}{m['bias']:>8.2f}{m['n']:>7}"
                f"{m['wmape'] / scores[ENSEMBLE][h]['wmape']:>15.2f}"
            )
    return "\n".join(lines)


def run(processes: int, step: int, quick: bool) -> dict:
    cfg = load_model_config().with_overrides({"challenger": {"lgbm": {"num_threads": 1}}})
    features = load_chain()
    cutoffs = cutoff_range(EVAL_START - pd.Timedelta(days=1), EVAL_END - pd.Timedelta(days=1), step)
    if quick:
        cutoffs = cutoffs[:2]
    t0 = time.perf_counter()
    with Pool(processes, initializer=_init, initargs=(features,)) as pool:
        lgbm_jobs = [pool.apply_async(_lgbm, (c, cfg)) for c in cutoffs]
        uids = sorted(features["unique_id"].unique())
        series = pool.starmap(_series, [(u, cfg, cutoffs) for u in uids], chunksize=1)
        lgbm = wide(pd.concat([j.get() for j in lgbm_jobs], ignore_index=True))
    rows = add_ensemble(
        pd.concat(series, ignore_index=True).merge(lgbm, on=JOIN, how="left"),
        cfg.selection["ensemble_members"],
    )
    rows["ds"] = pd.to_datetime(rows["ds"])
    log.info(
        "%d series x %d cutoffs (%s..%s) backtested in %.0f s",
        len(uids),
        len(cutoffs),
        cutoffs[0].date(),
        cutoffs[-1].date(),
        time.perf_counter() - t0,
    )
    cold = cold_starts(rows, cfg)
    scored = rows.merge(cold, on=["unique_id", "cutoff", "ds"], how="left")
    # Only the pairs every model forecast, so the models are compared on the same days.
    scored = scored[~scored["censored"].astype(bool)].dropna(subset=["y", *MODELS])
    scores = metrics.evaluate(scored, MODELS)
    log.info(
        "\nA store launching a product: %d series x %d cutoffs, %d scored pairs\n%s",
        len(uids),
        len(cutoffs),
        len(scored),
        _table(scores, cfg.horizons),
    )
    log.info("total %.0f s", time.perf_counter() - t0)
    return {m: {int(h): v for h, v in by_h.items()} for m, by_h in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--step", type=int, default=14, help="days between cutoffs")
    parser.add_argument("--quick", action="store_true", help="two cutoffs: a smoke run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    run(args.processes, args.step, args.quick)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
