"""The backtest of decisions (`bakery backtest --decisions`): the bake plan against other policies, same pairs.

Every pair is a (series, day) at D+1 of a cutoff, with what each policy would have baked the night before. At a
critical ratio r a pair costs r * (y - q)+ + (1 - r) * (q - y)+ in units of demand; where prices and costs are
known (a cost table) also in euros, cu * (y - q)+ + co * (q - y)+. Costs per day are the totals over the pairs
divided by the number of distinct target days: what the whole chain loses in a day.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bakery.decisions.costs import money_cost, newsvendor_cost
from bakery.decisions.policies import POLICIES, last_week, round_to_batches, saa, same_weekday_history
from bakery.models.config import ModelConfig
from bakery.models.quantiles import quantile_at

SAA_WEEKS = 8


def decision_pairs(
    rows: pd.DataFrame, sales: pd.DataFrame, champion: str, demand: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The D+1 rows that have a served forecast, with their same-weekday sales history columns (hist_1..8) and
    y replaced by demand's y where given (a generator's true demand: sales are censored by stock-outs)."""
    if 1 not in set(rows["horizon"].astype(int)):
        raise ValueError("--decisions scores the plan at D+1: include 1 in --horizons")
    pairs = rows[(rows["horizon"] == 1) & rows[champion].notna() & rows["y"].notna()].copy()
    if demand is not None:
        keys = ["store_id", "product_id", "ds"]
        truth = demand.drop_duplicates(keys).set_index(keys)["y"]
        pairs["y"] = truth.reindex(pd.MultiIndex.from_frame(pairs[keys])).to_numpy()
        pairs = pairs[pairs["y"].notna()]
    history = same_weekday_history(pairs, sales, SAA_WEEKS)
    for k in range(SAA_WEEKS):
        pairs[f"hist_{k + 1}"] = history[:, k]
    return pairs[~np.isnan(history).all(axis=1)].reset_index(drop=True)


def policy_quantities(pairs: pd.DataFrame, ratio, cfg: ModelConfig, champion: str) -> dict[str, np.ndarray]:
    """Each policy's quantity per pair at the critical ratio (a number, or one per pair)."""
    history = pairs[[f"hist_{k + 1}" for k in range(SAA_WEEKS)]].to_numpy(dtype=float)
    ratios = np.broadcast_to(np.asarray(ratio, dtype=float), (len(pairs),))
    plan = np.empty(len(pairs))
    saa_q = np.empty(len(pairs))
    for r in np.unique(ratios):
        sel = ratios == r
        plan[sel] = quantile_at(pairs[sel], float(r), cfg)
        saa_q[sel] = saa(history[sel], float(r))
    y = pairs["y"].to_numpy(dtype=float)
    # Perfect foresight bakes y itself; only batches make it bake more.
    perfect = round_to_batches(y, pairs["batch_size"].to_numpy(dtype=float)) if "batch_size" in pairs else y
    return {
        "plan": plan,
        "point_forecast": pairs[champion].to_numpy(dtype=float),
        "last_week": last_week(history),
        "saa": saa_q,
        "perfect": perfect,
    }


def _per_day(total: float, days: int) -> float:
    return round(total / days, 4) if days else None


def decision_report(
    pairs: pd.DataFrame,
    ratios: Sequence[float],
    cfg: ModelConfig,
    champion: str,
    costs: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """{ratio: {policy: {cost_per_day, n[, cost_eur_per_day]}}}: cost_eur_per_day with a cost table (product_id,
    cu, co, critical_ratio), over the pairs of priced products."""
    days = int(pairs["ds"].nunique())
    y = pairs["y"].to_numpy(dtype=float)
    priced = _priced(pairs, costs)
    out: dict[str, Any] = {}
    for r in ratios:
        by_policy = {}
        for name, q in policy_quantities(pairs, r, cfg, champion).items():
            entry = {"cost_per_day": _per_day(float(newsvendor_cost(y, q, r).sum()), days), "n": int(len(y))}
            by_policy[name] = entry
        if priced is not None and len(priced):
            for name, q in policy_quantities(priced, r, cfg, champion).items():
                lost, waste = money_cost(priced["y"], q, priced["cu"], priced["co"])
                by_policy[name]["cost_eur_per_day"] = _per_day(float((lost + waste).sum()), days)
        out[_key(r)] = by_policy
    return out


def _priced(pairs: pd.DataFrame, costs: pd.DataFrame | None) -> pd.DataFrame | None:
    if costs is None or not len(costs):
        return None
    priced = pairs.merge(costs[["product_id", "cu", "co", "critical_ratio"]], on="product_id", how="left")
    return priced[priced["cu"].notna()].reset_index(drop=True)


def money_report(
    pairs: pd.DataFrame, cfg: ModelConfig, champion: str, costs: pd.DataFrame
) -> dict[str, Any] | None:
    """Each product baked at its own critical ratio (the cost model's), in euros per day: waste (the cost of the
    units left over, net of salvage) and lost margin (margin and goodwill of the units short); None when no
    product of the pairs has a cost."""
    priced = _priced(pairs, costs)
    if priced is None or priced.empty:
        return None
    days = int(pairs["ds"].nunique())
    ratio = priced["critical_ratio"].to_numpy(dtype=float)
    out: dict[str, Any] = {"n": int(len(priced)), "mean_critical_ratio": round(float(ratio.mean()), 4)}
    for name, q in policy_quantities(priced, ratio, cfg, champion).items():
        lost, waste = money_cost(priced["y"], q, priced["cu"], priced["co"])
        out[name] = {
            "cost_eur_per_day": _per_day(float((lost + waste).sum()), days),
            "waste_eur_per_day": _per_day(float(waste.sum()), days),
            "lost_margin_eur_per_day": _per_day(float(lost.sum()), days),
            "n": int(len(priced)),
        }
    return out


def _key(r: float) -> str:
    return f"{float(r):g}"


def ratio_lines(decisions: dict[str, Any], money: dict[str, Any] | None = None) -> list[str]:
    """The report side by side: cost per day per policy and ratio, and the plan's ratios to the others."""
    lines = [
        f"{'ratio':<8}"
        + "".join(f"{p:>16}" for p in POLICIES)
        + "".join(f"{'plan/' + p:>18}" for p in POLICIES if p != "plan")
    ]
    for key, by_policy in decisions.items():
        cells = [by_policy[p]["cost_per_day"] for p in POLICIES]
        plan = by_policy["plan"]["cost_per_day"]
        ratios = [
            plan / by_policy[p]["cost_per_day"] if by_policy[p]["cost_per_day"] else None
            for p in POLICIES[1:]
        ]
        lines.append(
            f"{key:<8}"
            + "".join(f"{c:>16.2f}" for c in cells)
            + "".join(f"{'-' if r is None else f'{r:.3f}':>18}" for r in ratios)
        )
    if money:
        lines.append(
            f"euros per day, each product at its own critical ratio (mean {money['mean_critical_ratio']}):"
        )
        for p in POLICIES:
            m = money[p]
            lines.append(
                f"  {p:<16} total {m['cost_eur_per_day']:>10.2f}  waste {m['waste_eur_per_day']:>10.2f}  "
                f"lost margin {m['lost_margin_eur_per_day']:>10.2f}"
            )
    return lines
