"""Live accuracy (concept drift): served forecasts scored against the actuals that arrived later, per horizon,
store and product, next to seasonal naive on the same days and next to what the backtest promised.

Pure pandas; the IO is in bakery.monitoring.accuracy_io."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

# Seasonal naive on live days: y(d - 7*ceil(h/7)), stepping back up to this many more weeks while that
# day has no actual (the backtest's definition, docs/contract.md).
NAIVE_MAX_STEPS = 4
LEVELS = ("chain", "store", "series")


@dataclass(frozen=True)
class AccuracyRule:
    window_days: int = 28
    judge_days: int = 12
    min_points: int = 60
    tolerance: float = 0.30
    nights: int = 2

    @classmethod
    def from_conf(cls, raw: dict[str, Any]) -> AccuracyRule:
        acc = raw.get("accuracy") or {}
        rule = cls(
            window_days=int(acc.get("window_days", 28)),
            judge_days=int(acc.get("judge_days", 12)),
            min_points=int(acc.get("min_points", 60)),
            tolerance=float(acc.get("tolerance", 0.30)),
            nights=int(acc.get("nights", 2)),
        )
        if min(rule.window_days, rule.judge_days, rule.nights) < 1 or rule.tolerance < 0:
            raise ValueError(
                f"monitoring.yml accuracy: window_days and nights must be >= 1, tolerance >= 0: {acc}"
            )
        return rule


def actuals(sales: pd.DataFrame) -> pd.DataFrame:
    """gold.daily_sales rows that can judge a forecast: open, on sale, observed and not sold out (a stock-out
    day's sales are below its demand)."""
    keep = sales["is_open"] & sales["is_offered"] & sales["quantity_sold"].notna() & ~sales["stockout"]
    out = sales.loc[keep, ["store_id", "product_id", "date", "quantity_sold"]].rename(
        columns={"quantity_sold": "y"}
    )
    out["date"] = pd.to_datetime(out["date"])
    return out


def with_naive(scored: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Add `naive`: the seasonal-naive forecast the same as_of would have made for the same day."""
    lookup = observed.set_index(["store_id", "product_id", "date"])["y"]
    weeks = np.ceil(scored["horizon"].to_numpy() / 7).astype(int)
    naive = pd.Series(np.nan, index=scored.index)
    for step in range(NAIVE_MAX_STEPS + 1):
        day = scored["date"] - pd.to_timedelta(7 * (weeks + step), unit="D")
        key = pd.MultiIndex.from_arrays([scored["store_id"], scored["product_id"], day])
        found = pd.Series(lookup.reindex(key).to_numpy(), index=scored.index)
        naive = naive.fillna(found)
    return scored.assign(naive=naive.to_numpy())


def score_served(forecasts: pd.DataFrame, sales: pd.DataFrame) -> pd.DataFrame:
    """One row per served forecast (as_of, store, product, date, horizon, role) whose day now has an actual,
    with y, yhat and the seasonal naive of the same as_of."""
    observed = actuals(sales)
    fc = forecasts.assign(date=pd.to_datetime(forecasts["date"]), as_of=pd.to_datetime(forecasts["as_of"]))
    scored = fc.merge(observed, on=["store_id", "product_id", "date"], how="inner")
    return with_naive(scored, observed)


def _pooled(window: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Pooled wMAPE, MAE, bias and the naive's wMAPE (on the days it has a value) per group, as sums: one
    pass over the window, not a Python call per series."""
    err = window["yhat"] - window["y"]
    has_naive = window["naive"].notna()
    parts = window[by].assign(
        aerr=err.abs(),
        err=err,
        ay=window["y"].abs(),
        naerr=(window["naive"] - window["y"]).abs().where(has_naive, 0.0),
        nay=window["y"].abs().where(has_naive, 0.0),
        n=1,
    )
    g = parts.groupby(by).sum()
    y = g["ay"].where(g["ay"] > 0)
    naive_y = g["nay"].where(g["nay"] > 0)
    return pd.DataFrame(
        {
            "wmape": 100 * g["aerr"] / y,
            "mae": g["aerr"] / g["n"],
            "bias": 100 * g["err"] / y,
            "naive_wmape": 100 * g["naerr"] / naive_y,
            "n": g["n"].astype(float),
        }
    ).reset_index()


def _median_daily(window: pd.DataFrame, by: list[str], end: pd.Timestamp, days: int) -> pd.DataFrame:
    """The median over the last `days` target days of each day's wMAPE: what the breach rule judges. Up to
    half of those days can be awful (a storm, a festival nobody entered) without moving it."""
    recent = window[window["date"] > end - pd.Timedelta(days=days)]
    daily = recent.assign(err=(recent["yhat"] - recent["y"]).abs(), den=recent["y"].abs())
    daily = daily.groupby([*by, "date"], as_index=False)[["err", "den"]].sum()
    daily = daily[daily["den"] > 0].assign(daily_wmape=lambda d: 100 * d["err"] / d["den"])
    return (
        daily.groupby(by, as_index=False)["daily_wmape"]
        .median()
        .rename(columns={"daily_wmape": "median_daily_wmape"})
    )


def summarise(scored: pd.DataFrame, evaluated_on: date, rule: AccuracyRule) -> pd.DataFrame:
    """Rolling-window figures at three levels (chain, store, series) per horizon and role, over the target days
    (evaluated_on - window_days, evaluated_on], with the median daily wMAPE of the last judge_days."""
    end = pd.Timestamp(evaluated_on)
    window = scored[(scored["date"] > end - pd.Timedelta(days=rule.window_days)) & (scored["date"] <= end)]
    if window.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    frames = []
    for level, keys in (("chain", []), ("store", ["store_id"]), ("series", ["store_id", "product_id"])):
        by = ["role", "horizon", *keys]
        part = _pooled(window, by)
        part = part.merge(_median_daily(window, by, end, rule.judge_days), on=by, how="left")
        frames.append(part.assign(level=level))
    out = pd.concat(frames, ignore_index=True)
    for col in ("store_id", "product_id"):
        if col not in out:
            out[col] = None
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    out["evaluated_on"] = pd.Timestamp(evaluated_on).date()
    out["window_days"] = rule.window_days
    out["n"] = out["n"].astype("int64")
    out["horizon"] = out["horizon"].astype("int32")
    return out


SUMMARY_COLUMNS = [
    "evaluated_on",
    "window_days",
    "level",
    "store_id",
    "product_id",
    "horizon",
    "role",
    "wmape",
    "mae",
    "bias",
    "naive_wmape",
    "median_daily_wmape",
    "n",
]


def with_expectation(summary: pd.DataFrame, expected: pd.DataFrame, rule: AccuracyRule) -> pd.DataFrame:
    """Add the backtest's expectation (`expected_wmape`: the champion's wMAPE for that horizon and store, the
    chain figure where the store has none) and `breach`: enough points, and the median daily wMAPE worse
    than promised by more than the tolerance."""
    chain = expected[expected["store_id"].isna()].set_index("horizon")["wmape"]
    stores = expected[expected["store_id"].notna()].set_index(["store_id", "horizon"])["wmape"]
    per_store = pd.Series(
        stores.reindex(pd.MultiIndex.from_arrays([summary["store_id"], summary["horizon"]])).to_numpy(),
        index=summary.index,
    )
    fallback = pd.Series(chain.reindex(summary["horizon"]).to_numpy(), index=summary.index)
    use_chain = summary["level"] == "chain"
    out = summary.assign(expected_wmape=np.where(use_chain, fallback, per_store.fillna(fallback)))
    judged = (out["n"] >= rule.min_points) & out["expected_wmape"].notna() & (out["level"] != "series")
    out["breach"] = judged & (out["median_daily_wmape"] > out["expected_wmape"] * (1 + rule.tolerance))
    return out


def sustained_breaches(history: pd.DataFrame, evaluated_on: date, rule: AccuracyRule) -> pd.DataFrame:
    """The champion's (level, store, horizon) figures that breached on each of the last `nights` evaluations up
    to evaluated_on (one night without a figure breaks the run). `history` holds stored summaries."""
    days = {pd.Timestamp(evaluated_on - timedelta(days=k)).date() for k in range(rule.nights)}
    champ = history[(history["role"] == "champion") & (history["level"] != "series")]
    champ = champ[champ["evaluated_on"].map(lambda d: pd.Timestamp(d).date()).isin(days)].sort_values(
        "evaluated_on"
    )
    keys = ["level", "store_id", "horizon"]
    grouped = champ.fillna({"store_id": ""}).groupby(keys, dropna=False)
    runs = grouped.agg(
        nights=("breach", "sum"), wmape=("median_daily_wmape", "last"), expected=("expected_wmape", "last")
    )
    runs = runs[runs["nights"] >= rule.nights].reset_index()
    runs["store_id"] = runs["store_id"].replace("", None)
    return runs
