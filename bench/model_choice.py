"""Model choice on every real data set: the champion as served against its members and the baselines.

Per data set (the ddop chain, one chain store alone, the Bread Basket, the Korean bakery) the same protocol as
bench/accuracy.py (its `backtest_windows`): weekly cutoffs over the data set's evaluation window, horizons
1/7/28, wMAPE in %, every model refit at each cutoff on data <= cutoff. The choice (per-series model and the
ensemble's weights per horizon bucket) is made on a selection backtest whose target days all lie before the
evaluation window, at horizons 1..max_horizon as `bakery train` does. Prophet runs with its configured
defaults (as `bakery backtest` does; on the chain tuning keeps them anyway, docs/benchmarks.md).

Printed per data set and horizon: champion as served, prophet, lgbm, ensemble, default Prophet, seasonal naive,
and the champion's ratios to the best single candidate, to default Prophet and to seasonal naive.

    .venv/bin/python bench/model_choice.py [--datasets chain,chain_store,breadbasket,korean] [--quick]
        [--processes 2] [--rows DIR] [--out report.json] [--reuse DIR]

--quick keeps every other evaluation cutoff and every other selection cutoff (the choice then rests on half the
evidence) and, on the chain, every 3rd series. The raw files of the single shops (Bread Basket, the Korean
bakery) are not shipped with the package: they are read from a `shared/data` folder beside the checkout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import _quiet, backtest_windows  # noqa: E402

from bakery.datasets.bakery_chain import chain_features, read_compact  # noqa: E402
from bakery.ingest.reshape import reshape  # noqa: E402
from bakery.models import metrics  # noqa: E402
from bakery.models.backtest import cutoff_range  # noqa: E402
from bakery.models.config import ModelConfig, load_model_config  # noqa: E402
from bakery.models.frames import model_frame  # noqa: E402
from bakery.models.opening import close_backtest  # noqa: E402
from bakery.models.selection import (  # noqa: E402
    CHAMPION,
    ENSEMBLE,
    add_ensemble,
    ensemble_weights,
    rolling_selection,
    select_models,
    with_weights,
)

log = logging.getLogger("bench.model_choice")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# gold.offered_window_days: a product without a row is offered (a 0) if it sold within this many days either side.
OFFERED_WINDOW_DAYS = 14
CHAIN_STORE = "27"  # the chain store ddop 0.6.5 shipped alone as its single-bakery data set
MEMBERS = ["prophet", "lgbm", ENSEMBLE]
SHOWN = [CHAMPION, *MEMBERS, "prophet_default", "seasonal_naive"]
CANDIDATES = ["seasonal_naive", "prophet", "lgbm", ENSEMBLE]


@dataclass(frozen=True)
class Dataset:
    """A data set, its evaluation window (cutoffs eval_start - 1 .. eval_end - 1, weekly) and its selection
    cutoffs (selection_start .. eval_start - 1 - max_horizon, every selection_step days)."""

    load: Callable[[], pd.DataFrame]
    eval_start: str
    eval_end: str
    selection_start: str
    selection_step: int


def _chain() -> pd.DataFrame:
    return chain_features(read_compact())


def _chain_store() -> pd.DataFrame:
    features = _chain()
    return features[features["store_id"] == CHAIN_STORE].reset_index(drop=True)


def shop_features(sales: pd.DataFrame, country: str, subdivision: str | None) -> pd.DataFrame:
    """Daily sales rows of one shop (date, store_id, product_id, quantity_sold) read as gold reads them: a day
    without any row is closed; a product without a row on an open day sold 0 if it sold within
    OFFERED_WINDOW_DAYS either side, else it was not offered."""
    sales = sales.assign(date=pd.to_datetime(sales["date"]), y=sales["quantity_sold"].astype(float))
    days = pd.date_range(sales["date"].min(), sales["date"].max(), freq="D")
    grid = sales.pivot_table(index="date", columns="product_id", values="y", aggfunc="sum").reindex(days)
    is_open = grid.notna().any(axis=1)
    sold = (grid.fillna(0) > 0).astype(float)
    window = 2 * OFFERED_WINDOW_DAYS + 1
    offered = grid.notna() | (sold.rolling(window, center=True, min_periods=1).max() > 0)
    y = grid.where(grid.notna(), 0.0).where(offered & is_open.to_numpy()[:, None])
    long = y.stack(future_stack=True).rename("y").rename_axis(["date", "product_id"]).reset_index()
    long["is_open"] = long["date"].map(is_open)
    long["is_offered"] = offered.stack(future_stack=True).to_numpy()
    long["store_id"] = sales["store_id"].iloc[0]
    long["country"], long["subdivision"] = country, subdivision
    long["unique_id"] = long["store_id"] + "/" + long["product_id"]
    return long


def _read_text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=True)


def _breadbasket() -> pd.DataFrame:
    raw = _read_text(SHARED / "breadbasket_edinburgh" / "BreadBasket_DMS.csv")
    spec = {
        "shape": "items",
        "date": "Date",
        "item": "Item",
        "store_id": "EDI01",
        "exclude": ["NONE", "Adjustment"],
    }
    return shop_features(reshape(raw, spec), "GB", "GB-SCT")


def _korean() -> pd.DataFrame:
    raw = _read_text(SHARED / "korean_bakery" / "Bakery Sales.csv")
    raw = raw[raw["datetime"].str.strip() != ""].reset_index(drop=True)
    spec = {
        "shape": "wide",
        "date": "datetime",
        "store_id": "KR01",
        "ignore": ["day of week", "total", "place"],
    }
    return shop_features(reshape(raw, spec), "KR", None)


DATASETS = {
    "chain": Dataset(_chain, "2019-01-01", "2019-04-30", "2018-09-03", 14),
    "chain_store": Dataset(_chain_store, "2019-01-01", "2019-04-30", "2018-09-03", 14),
    "breadbasket": Dataset(_breadbasket, "2017-02-01", "2017-03-12", "2016-12-06", 7),
    "korean": Dataset(_korean, "2020-02-01", "2020-04-04", "2019-10-01", 7),
}


def windows(ds: Dataset, cfg: ModelConfig, quick: bool) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """(selection cutoffs, evaluation cutoffs): no selection target day reaches the evaluation window."""
    start = pd.Timestamp(ds.eval_start)
    sel = cutoff_range(ds.selection_start, start - pd.Timedelta(days=1 + cfg.max_horizon), ds.selection_step)
    ev = cutoff_range(start - pd.Timedelta(days=1), pd.Timestamp(ds.eval_end) - pd.Timedelta(days=1), 7)
    return (sel[::-1][::2][::-1], ev[::2]) if quick else (sel, ev)


def served(
    sel: pd.DataFrame, ev: pd.DataFrame, features: pd.DataFrame, cfg: ModelConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluation rows with the ensemble (weights from the selection rows) and the champion as served (choice
    from the selection rows, intervals calibrated at each cutoff, closed days 0); and the choice."""
    members = cfg.selection["ensemble_members"]
    weights = ensemble_weights(sel, cfg)
    sel = add_ensemble(sel, members, weights=weights, cfg=cfg)
    ev = add_ensemble(ev, members, weights=weights, cfg=cfg)
    choice = with_weights(select_models(sel, cfg), weights)
    history = pd.concat([sel, ev], ignore_index=True)
    ev = close_backtest(
        rolling_selection(ev, cfg, history=history, choice=choice), model_frame(features, cfg), cfg, CHAMPION
    )
    return ev, choice


def table(name: str, scores: dict[str, dict[int, dict[str, float]]], horizons: list[int]) -> list[str]:
    """One line per model, a column per horizon; then the champion's ratios."""
    head = f"{name:<18}" + "".join(f"{'D+' + str(h):>9}" for h in horizons)
    lines = [head]
    for model in SHOWN:
        cells = "".join(f"{scores[model][h]['wmape']:>9.1f}" for h in horizons)
        lines.append(f"  {model:<16}{cells}")
    for label, ref in (
        ("champ/best cand.", lambda h: min(scores[c][h]["wmape"] for c in CANDIDATES)),
        ("champ/prophet_def", lambda h: scores["prophet_default"][h]["wmape"]),
        ("champ/naive", lambda h: scores["seasonal_naive"][h]["wmape"]),
    ):
        cells = "".join(f"{scores[CHAMPION][h]['wmape'] / ref(h):>9.3f}" for h in horizons)
        lines.append(f"  {label:<16}{cells}")
    return lines


def _reused(name: str, reuse_dir: Path | None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    if reuse_dir is None:
        return None
    paths = [reuse_dir / f"{name}_{part}_rows.parquet" for part in ("selection", "evaluation")]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"--reuse: {', '.join(missing)} not found (write them with --rows)")
    return pd.read_parquet(paths[0]), pd.read_parquet(paths[1])


def run_dataset(
    name: str,
    cfg: ModelConfig,
    quick: bool,
    processes: int,
    rows_dir: Path | None,
    reuse_dir: Path | None = None,
) -> dict[str, Any]:
    ds = DATASETS[name]
    features = ds.load()
    if quick and name == "chain":
        features = features[features["unique_id"].isin(sorted(features["unique_id"].unique())[::3])]
    sel_cutoffs, eval_cutoffs = windows(ds, cfg, quick)
    log.info(
        "%s: %d series, %d selection cutoffs %s..%s, %d evaluation cutoffs %s..%s",
        name,
        features["unique_id"].nunique(),
        len(sel_cutoffs),
        sel_cutoffs[0].date(),
        sel_cutoffs[-1].date(),
        len(eval_cutoffs),
        eval_cutoffs[0].date(),
        eval_cutoffs[-1].date(),
    )
    t0 = time.perf_counter()
    sel, ev, wall = backtest_windows(
        features,
        cfg,
        sel_cutoffs,
        eval_cutoffs,
        processes,
        list(range(1, cfg.max_horizon + 1)),
        _reused(name, reuse_dir),
    )
    if rows_dir:
        rows_dir.mkdir(parents=True, exist_ok=True)
        sel.to_parquet(rows_dir / f"{name}_selection_rows.parquet", index=False)
        ev.to_parquet(rows_dir / f"{name}_evaluation_rows.parquet", index=False)
        features.to_parquet(rows_dir / f"{name}_features.parquet", index=False)
    ev, choice = served(sel, ev, features, cfg)
    scores = metrics.evaluate(ev, SHOWN)
    seconds = time.perf_counter() - t0
    log.info("\n%s", "\n".join(table(name, scores, list(cfg.horizons))))
    log.info("%s: choice %s; %.0f s wall (%s)", name, choice["model"].value_counts().to_dict(), seconds, wall)
    return {
        "series": int(features["unique_id"].nunique()),
        "selection_cutoffs": len(sel_cutoffs),
        "evaluation_cutoffs": len(eval_cutoffs),
        "seconds": round(seconds, 1),
        "choice": choice["model"].value_counts().to_dict(),
        "wmape": {m: {str(h): scores[m][h]["wmape"] for h in cfg.horizons} for m in SHOWN},
        "n": {str(h): int(scores[CHAMPION][h]["n"]) for h in cfg.horizons},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", default=",".join(DATASETS), help=f"comma-separated: {', '.join(DATASETS)}"
    )
    parser.add_argument(
        "--quick", action="store_true", help="half the cutoffs; a third of the chain's series"
    )
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rows", type=Path, default=None, help="write each data set's backtest rows here")
    parser.add_argument("--out", type=Path, default=None, help="write the figures (JSON) here")
    parser.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="take the per-series rows from this --rows folder of an earlier run (same cutoffs) and run only the "
        "challenger again: for a change to the challenger or to the choice alone",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    _quiet()
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f"--datasets: unknown {unknown}; expected some of {list(DATASETS)}")
    # One LightGBM thread per pool process: the pool already keeps every core busy.
    cfg = load_model_config().with_overrides({"challenger": {"lgbm": {"num_threads": 1}}})
    results = {n: run_dataset(n, cfg, args.quick, args.processes, args.rows, args.reuse) for n in names}
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, default=float))
        log.info("figures written to %s", args.out)


if __name__ == "__main__":
    main()
