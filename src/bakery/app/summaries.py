"""Pure transforms from serving frames to what pages and the API show: forecast tables, stock alerts,
accuracy of past forecasts, forecast drivers, model versions side by side."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bakery.app.explain import component_label, explain, last_days_label, last_weekday_label
from bakery.app.queries import CLOSED_MODEL, NOT_OFFERED_MODEL, parse_components
from bakery.models.reasons import Reason

VIEWS = {"tomorrow": 1, "week": 7, "month": 28}


def window(forecasts: pd.DataFrame, view: str) -> pd.DataFrame:
    """The forecast rows of a view: tomorrow = D+1, week = D+1..D+7, month = D+1..D+28."""
    return forecasts[(forecasts["horizon"] >= 1) & (forecasts["horizon"] <= VIEWS[view])]


def combine_interval(rows: pd.DataFrame) -> tuple[float, float, float]:
    """(total, lower, upper) of a sum of days, taking daily errors as independent (root-sum-square widths)."""
    total = float(rows["yhat"].sum())
    below = math.sqrt(float(((rows["yhat"] - rows["yhat_lower"]).clip(lower=0) ** 2).sum()))
    above = math.sqrt(float(((rows["yhat_upper"] - rows["yhat"]).clip(lower=0) ** 2).sum()))
    return total, max(0.0, total - below), total + above


@dataclass(frozen=True)
class ForecastLine:
    product_id: str
    product: str
    forecast: float
    lower: float
    upper: float
    reference: float | None
    explanation: str
    model_version: str
    off_sale: bool = False  # expected off sale over the whole period: not part of the bake plan


def component_frame(forecasts: pd.DataFrame) -> pd.DataFrame:
    """The components JSON of each forecast row as numeric columns (0 where absent), same index."""
    if forecasts.empty or "components" not in forecasts:
        return pd.DataFrame(index=forecasts.index)
    return pd.DataFrame.from_records(
        [parse_components(c) for c in forecasts["components"]], index=forecasts.index
    ).fillna(0.0)


def lines_by_store(
    forecasts: pd.DataFrame,
    history: pd.DataFrame,
    names: dict[str, str],
    view: str,
    lang: str,
    components: pd.DataFrame | None = None,
) -> dict[str, list[ForecastLine]]:
    """Every store's forecast lines for a view in one vectorized pass (store_id, product_id, date, yhat, ...).

    history: recent actuals (store_id, product_id, date, quantity_sold). components: component_frame() of
    `forecasts` if already parsed. Tomorrow compares with the last observed same weekday (up to 4 weeks
    back); a week or 28 days with the same number of past days.
    """
    days = VIEWS[view]
    rows = window(forecasts, view)
    if rows.empty:
        return {}
    keys = ["store_id", "product_id"]
    agg = (
        rows.assign(
            lo2=(rows["yhat"] - rows["yhat_lower"]).clip(lower=0) ** 2,
            hi2=(rows["yhat_upper"] - rows["yhat"]).clip(lower=0) ** 2,
        )
        .groupby(keys, sort=True)
        .agg(
            total=("yhat", "sum"),
            lo2=("lo2", "sum"),
            hi2=("hi2", "sum"),
            first=("date", "min"),
            version=("model_version", "first"),
        )
    )
    comps = (components if components is not None else component_frame(rows)).reindex(rows.index).fillna(0.0)
    comp_sums = comps.groupby([rows["store_id"], rows["product_id"]]).sum() if comps.shape[1] else None
    fallbacks = _fallbacks(rows)
    zero_days = _zero_days(rows)
    observed = history.dropna(subset=["quantity_sold"]) if len(history) else history
    refs, ref_days = _references(agg, observed, days)
    period_label = last_days_label(days, lang)
    out: dict[str, list[ForecastLine]] = defaultdict(list)
    comp_cols = list(comp_sums.columns) if comp_sums is not None else []
    comp_values = comp_sums.reindex(agg.index).to_numpy() if comp_sums is not None else None
    for i, ((store, product), r) in enumerate(zip(agg.index, agg.itertuples(index=False), strict=True)):
        total = float(r.total)
        ref = refs[i]
        label = period_label if days > 1 else (last_weekday_label(ref_days[i], lang) if ref_days[i] else None)
        drivers_ = dict(zip(comp_cols, comp_values[i], strict=True)) if comp_values is not None else {}
        text = explain(
            total,
            drivers_,
            lang,
            reference=ref,
            reference_label=label,
            fallback=fallbacks.get((store, product)),
            zero_day=zero_days.get((store, product)),
        )
        out[str(store)].append(
            ForecastLine(
                str(product),
                names.get(product, str(product)),
                total,
                max(0.0, total - math.sqrt(r.lo2)),
                total + math.sqrt(r.hi2),
                ref,
                text,
                str(r.version),
                zero_days.get((store, product)) == NOT_OFFERED_MODEL,
            )
        )
    # Products by forecast quantity, largest first; those expected off sale go last: the list is a bake plan, and
    # they are not in it.
    return {
        store: sorted(lines, key=lambda ln: (ln.off_sale, -ln.forecast, ln.product))
        for store, lines in out.items()
    }


def _fallbacks(rows: pd.DataFrame) -> dict[tuple[str, str], Reason]:
    """Per (store, product): the reason of its first row that has one, from the reason columns (Reason.of_row; a
    table written before them has only the text, which is then read back)."""
    has = pd.Series(False, index=rows.index)
    for col in ("reason_code", "fallback_reason"):
        if col in rows:
            has |= rows[col].notna() & (rows[col].astype(str).str.strip() != "")
    picked = rows[has].drop_duplicates(["store_id", "product_id"])
    out = {}
    for row in picked.to_dict("records"):
        reason = Reason.of_row(row)
        if reason is not None:
            out[(row["store_id"], row["product_id"])] = reason
    return out


def _zero_days(rows: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(store, product) -> CLOSED_MODEL or NOT_OFFERED_MODEL where every day of the period is a zero day (off sale
    where any day is: the product is the news, not the store's usual closing day)."""
    if "model" not in rows:
        return {}
    keys = [rows["store_id"], rows["product_id"]]
    zero = rows["model"].isin([CLOSED_MODEL, NOT_OFFERED_MODEL]).groupby(keys).all()
    off = rows["model"].eq(NOT_OFFERED_MODEL).groupby(keys).any()
    return {key: NOT_OFFERED_MODEL if off[key] else CLOSED_MODEL for key in zero[zero].index}


def _references(agg: pd.DataFrame, observed: pd.DataFrame, days: int) -> tuple[list, list]:
    """Per (store, product) of `agg`: the reference quantity and, for tomorrow, the day it comes from."""
    n = len(agg)
    if observed.empty:
        return [None] * n, [None] * n
    if days > 1:
        last = observed["date"].max()
        period = observed[observed["date"] > last - pd.Timedelta(days=days)]
        sums = period.groupby(["store_id", "product_id"])["quantity_sold"].sum().reindex(agg.index)
        return [None if pd.isna(v) else float(v) for v in sums], [None] * n
    past = observed.set_index(["store_id", "product_id", "date"])["quantity_sold"]
    past = past[~past.index.duplicated()]
    refs: list = [None] * n
    ref_days: list = [None] * n
    stores, products = agg.index.get_level_values(0), agg.index.get_level_values(1)
    for k in range(4, 0, -1):  # nearest week last, so it wins
        day = pd.to_datetime(agg["first"]) - pd.Timedelta(days=7 * k)
        found = past.reindex(pd.MultiIndex.from_arrays([stores, products, day])).to_numpy()
        for i, v in enumerate(found):
            if not pd.isna(v):
                refs[i], ref_days[i] = float(v), day.iloc[i].date()
    return refs, ref_days


def forecast_lines(
    forecasts: pd.DataFrame, history: pd.DataFrame, names: dict[str, str], view: str, lang: str
) -> list[ForecastLine]:
    """One store's lines (lines_by_store for a single store's rows)."""
    fc = forecasts.assign(store_id="_")
    hist = history.assign(store_id="_") if len(history) else history
    if hist.empty:
        hist = pd.DataFrame(columns=["store_id", "product_id", "date", "quantity_sold"])
    found = lines_by_store(fc, hist, names, view, lang)
    return next(iter(found.values()), [])


def daily_totals(forecasts: pd.DataFrame, view: str) -> pd.DataFrame:
    """Sum over products per day (date, yhat, yhat_lower, yhat_upper), intervals combined per day."""
    rows = window(forecasts, view)
    if rows.empty:
        return pd.DataFrame(columns=["date", "yhat", "yhat_lower", "yhat_upper"])
    out = [
        dict(zip(("yhat", "yhat_lower", "yhat_upper"), combine_interval(g), strict=True), date=d)
        for d, g in rows.groupby("date")
    ]
    return pd.DataFrame(out)


# ---- stock alerts --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StockRules:
    """When a product needs the manager's action (conf/app.yml `stock_alerts`, docs/user_guide/manager.md).

    ratio: coverage warning when closing stock < tomorrow's forecast x ratio (the admin's setting).
    lookback_days: days looked at for stockouts and deliveries (the admin's setting).
    stockout_days_warning / _critical: ran out on at least this many of those days.
    daily_delivery_share: a product delivered (baked) on at least this share of those days is replenished every
    day, so its closing stock is not tomorrow's supply and is never a coverage alert.
    """

    ratio: float = 1.0
    lookback_days: int = 7
    stockout_days_warning: int = 2
    stockout_days_critical: int = 4
    daily_delivery_share: float = 0.5


def stock_alerts(inventory: pd.DataFrame, tomorrow: pd.DataFrame, rules: StockRules) -> pd.DataFrame:
    """The products that need action, most urgent first: they keep running out, or, for a product that is not
    replenished every day, the stock left will not cover tomorrow.

    inventory: silver.inventory_daily rows (store_id, product_id, date, closing_stock, stockout[, delivered]).
    tomorrow: D+1 champion forecasts (store_id, product_id, yhat, yhat_lower).
    CRITICAL: out of stock on stockout_days_critical+ days, or stock below the low end of tomorrow's interval;
    WARNING: out of stock on stockout_days_warning+ days, or stock below forecast x ratio. A single stockout, or
    a shortfall in a product delivered every day, is no alert: there is nothing to do about it today.
    """
    cols = [
        "store_id",
        "product_id",
        "date",
        "closing_stock",
        "forecast",
        "forecast_lower",
        "stockouts",
        "severity",
        "reason",
    ]
    if inventory.empty:
        return pd.DataFrame(columns=cols)
    inv = inventory.sort_values("date")
    last_day = inv["date"].max()
    latest = inv.groupby(["store_id", "product_id"], as_index=False).last()
    recent = inv[inv["date"] > last_day - pd.Timedelta(days=rules.lookback_days)]
    delivered = (
        recent["delivered"].fillna(0) > 0 if "delivered" in recent else pd.Series(False, index=recent.index)
    )
    per = (
        recent.assign(_delivered=delivered)
        .groupby(["store_id", "product_id"])
        .agg(stockouts=("stockout", "sum"), delivery_share=("_delivered", "mean"))
        .reset_index()
    )
    df = latest.drop(columns=["stockouts", "delivery_share"], errors="ignore").merge(
        per, on=["store_id", "product_id"], how="left"
    )
    fc = tomorrow.rename(columns={"yhat": "forecast", "yhat_lower": "forecast_lower"})
    fc = (
        fc[["store_id", "product_id", "forecast", "forecast_lower"]]
        if not fc.empty
        else pd.DataFrame(columns=["store_id", "product_id", "forecast", "forecast_lower"])
    )
    df = df.merge(fc, on=["store_id", "product_id"], how="left")
    df["stockouts"] = df["stockouts"].fillna(0).astype(int)
    kept = df["delivery_share"].fillna(0) < rules.daily_delivery_share
    stock = df["closing_stock"].astype(float)
    below_lower = kept & (stock < df["forecast_lower"].astype(float))
    below = kept & (stock < df["forecast"].astype(float) * rules.ratio)
    out_critical = df["stockouts"] >= rules.stockout_days_critical
    out_warning = df["stockouts"] >= rules.stockout_days_warning
    df["severity"] = np.select(
        [out_critical | below_lower, out_warning | below], ["CRITICAL", "WARNING"], default=""
    )
    df["reason"] = np.select(
        [out_critical, below_lower, out_warning, below],
        ["stockouts", "below_lower", "stockouts", "below"],
        default="",
    )
    df = df[df["severity"] != ""]
    order = {"CRITICAL": 0, "WARNING": 1}
    df = (
        df.assign(_o=df["severity"].map(order))
        .sort_values(["_o", "stockouts", "store_id", "product_id"], ascending=[True, False, True, True])
        .drop(columns="_o")
    )
    return df[cols].reset_index(drop=True)


# ---- accuracy of past forecasts ------------------------------------------------------------------------
def accuracy(actuals: pd.DataFrame, past: pd.DataFrame) -> dict[str, float | int | None]:
    """MAE, wMAPE %, bias % and interval coverage % of past forecasts on days with an observation."""
    if actuals.empty or past.empty:
        return {"n": 0, "mae": None, "wmape": None, "bias": None, "coverage": None}
    pairs = past.merge(actuals[["date", "quantity_sold"]], on="date").dropna(subset=["quantity_sold"])
    if pairs.empty:
        return {"n": 0, "mae": None, "wmape": None, "bias": None, "coverage": None}
    err = pairs["yhat"] - pairs["quantity_sold"]
    denom = pairs["quantity_sold"].abs().sum()
    inside = (pairs["quantity_sold"] >= pairs["yhat_lower"]) & (pairs["quantity_sold"] <= pairs["yhat_upper"])
    return {
        "n": int(len(pairs)),
        "mae": float(err.abs().mean()),
        "wmape": float(100 * err.abs().sum() / denom) if denom else None,
        "bias": float(100 * err.sum() / denom) if denom else None,
        "coverage": float(100 * inside.mean()),
    }


# ---- drivers and models --------------------------------------------------------------------------------
def drivers(forecasts: pd.DataFrame, lang: str, skip: tuple[str, ...] = ("trend",)) -> pd.DataFrame:
    """Mean and mean absolute contribution of each component over the given forecast rows."""
    sums: dict[str, list[float]] = defaultdict(list)
    for text in forecasts.get("components", pd.Series(dtype=object)):
        for k, v in parse_components(text).items():
            if k not in skip and math.isfinite(v):
                sums[k].append(v)
    if not sums:
        return pd.DataFrame(columns=["component", "label", "mean_abs", "mean"])
    n = len(forecasts)
    rows = [
        {
            "component": k,
            "label": component_label(k, lang),
            "mean_abs": sum(abs(x) for x in v) / n,
            "mean": sum(v) / n,
        }
        for k, v in sums.items()
    ]
    return pd.DataFrame(rows).sort_values("mean_abs", ascending=False).reset_index(drop=True)


def model_versions(roles: pd.DataFrame, metrics: pd.DataFrame, metric: str = "wmape") -> pd.DataFrame:
    """Champion, challenger and shadow side by side: version, series served, global `metric` per horizon."""
    if roles.empty:
        return pd.DataFrame(columns=["role", "model", "model_version", "rows"])
    out = roles.copy()
    order = {"champion": 0, "challenger": 1, "shadow": 2}
    if not metrics.empty:
        glob = metrics[metrics["store_id"].isna()]
        for h in sorted(glob["horizon"].unique()):
            per = glob[glob["horizon"] == h].set_index("model")[metric]
            out[f"{metric}_D+{h}"] = out["model"].map(per)
    return (
        out.assign(_o=out["role"].map(order).fillna(9))
        .sort_values("_o")
        .drop(columns="_o")
        .reset_index(drop=True)
    )
