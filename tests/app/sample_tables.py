"""Synthetic serving tables (no Spark): the gold/silver/ops tables the app reads, for app tests, the latency
benchmark and user-guide screenshots. Schemas follow the data contracts; values are plausible, not modelled."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

CITIES = [
    ("Madrid", "ES", "ES-MD", "Europe/Madrid"),
    ("Sevilla", "ES", "ES-AN", "Europe/Madrid"),
    ("Berlin", "DE", "DE-BE", "Europe/Berlin"),
    ("Valencia", "ES", "ES-VC", "Europe/Madrid"),
]
PRODUCTS = [
    "Baguette",
    "Croissant",
    "Pan de centeno",
    "Napolitana",
    "Magdalena",
    "Brezel",
    "Ensaimada",
    "Pan integral",
    "Rosquilla",
    "Tarta de queso",
]


def _write(
    tables_dir: Path, layer: str, name: str, df: pd.DataFrame, schema: pa.Schema, mode: str = "overwrite"
) -> None:
    table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    write_deltalake(str(tables_dir / layer / name), table, mode=mode)


def write_sample_tables(
    tables_dir: Path,
    *,
    stores: int = 2,
    products: int = 4,
    days: int = 70,
    end: date = date(2026, 4, 30),
    past_as_of: int = 14,
    seed: int = 7,
    with_forecasts: bool = True,
) -> dict[str, int]:
    """Write every table the app reads; returns row counts. `past_as_of` earlier forecast runs feed History."""
    rng = np.random.default_rng(seed)
    tables_dir = Path(tables_dir)
    store_ids = [f"S{i + 1:02d}" if stores < 100 else f"S{i + 1:03d}" for i in range(stores)]
    product_ids = [f"P{j + 1:03d}" for j in range(products)]
    st = pd.DataFrame(
        {
            "store_id": store_ids,
            "name": [f"Panadería {CITIES[i % 4][0]} {i + 1}" for i in range(stores)],
            "city": [CITIES[i % 4][0] for i in range(stores)],
            "country": [CITIES[i % 4][1] for i in range(stores)],
            "subdivision": [CITIES[i % 4][2] for i in range(stores)],
            "timezone": [CITIES[i % 4][3] for i in range(stores)],
            "store_type": "urban",
        }
    )
    _write(tables_dir, "silver", "stores", st, pa.schema([(c, pa.string()) for c in st.columns]))
    pr = pd.DataFrame(
        {
            "product_id": product_ids,
            "name": [
                PRODUCTS[j % len(PRODUCTS)] + ("" if j < len(PRODUCTS) else f" {j}") for j in range(products)
            ],
            "category": "bread",
            "unit_price": 1.5,
        }
    )
    _write(
        tables_dir,
        "silver",
        "products",
        pr,
        pa.schema(
            [
                ("product_id", pa.string()),
                ("name", pa.string()),
                ("category", pa.string()),
                ("unit_price", pa.float64()),
            ]
        ),
    )
    dates = pd.date_range(end - timedelta(days=days - 1), end, freq="D")
    grid = pd.MultiIndex.from_product(
        [store_ids, product_ids, dates], names=["store_id", "product_id", "date"]
    ).to_frame(index=False)
    level = rng.uniform(10, 60, size=(stores, products))
    base = level[
        grid["store_id"].map({s: i for i, s in enumerate(store_ids)}),
        grid["product_id"].map({p: j for j, p in enumerate(product_ids)}),
    ]
    weekly = 1 + 0.25 * (grid["date"].dt.dayofweek >= 5)
    qty = np.maximum(0, np.round(base * weekly * rng.normal(1, 0.12, len(grid))))
    closed = grid["date"].dt.dayofweek == 6
    sales = grid.assign(
        quantity_sold=np.where(closed, np.nan, qty),
        revenue=np.where(closed, np.nan, qty * 1.5),
        n_transactions=np.where(closed, 0, qty // 2).astype("int64"),
        is_open=~closed,
        is_offered=True,
        status=np.where(closed, "closed", np.where(qty == 0, "zero", "sold")),
        stockout=rng.random(len(grid)) < 0.03,
        promo=False,
        source="pos",
    )
    sales["date"] = sales["date"].dt.date
    _write(
        tables_dir,
        "gold",
        "daily_sales",
        sales,
        pa.schema(
            [
                ("store_id", pa.string()),
                ("product_id", pa.string()),
                ("date", pa.date32()),
                ("quantity_sold", pa.float64()),
                ("revenue", pa.float64()),
                ("n_transactions", pa.int64()),
                ("is_open", pa.bool_()),
                ("is_offered", pa.bool_()),
                ("status", pa.string()),
                ("stockout", pa.bool_()),
                ("promo", pa.bool_()),
                ("source", pa.string()),
            ]
        ),
    )
    counts = {"daily_sales": len(sales)}
    inv = sales[["store_id", "product_id", "date"]].copy()
    inv["sold"] = sales["quantity_sold"].fillna(0)
    inv["delivered"] = np.round(inv["sold"] * rng.uniform(0.9, 1.3, len(inv)))
    inv["opening_stock"] = np.round(rng.uniform(0, 10, len(inv)))
    inv["closing_stock"] = np.maximum(0, inv["opening_stock"] + inv["delivered"] - inv["sold"])
    inv["snapshot_stock"] = np.nan
    inv["stockout"] = sales["stockout"]
    inv["source"] = "derived"
    _write(
        tables_dir,
        "silver",
        "inventory_daily",
        inv,
        pa.schema(
            [
                ("store_id", pa.string()),
                ("product_id", pa.string()),
                ("date", pa.date32()),
                ("sold", pa.float64()),
                ("delivered", pa.float64()),
                ("opening_stock", pa.float64()),
                ("closing_stock", pa.float64()),
                ("snapshot_stock", pa.float64()),
                ("stockout", pa.bool_()),
                ("source", pa.string()),
            ]
        ),
    )
    if with_forecasts:
        counts["forecasts"] = _forecasts(tables_dir, rng, store_ids, product_ids, level, end, past_as_of)
        counts["backtest_metrics"] = _metrics(tables_dir, store_ids, end)
        counts["backtest_results"] = _backtest_results(tables_dir, rng, sales, end)
        counts["live_accuracy"] = _live_accuracy(tables_dir, rng, store_ids, end)
        counts["bake_plan"] = _bake_plan(tables_dir, pr, end)
        counts["ledger"] = _ledger(tables_dir, inv, pr)
        counts["override_scores"] = _override_scores(tables_dir, inv)
    _ops(tables_dir, end)
    return counts


def _forecast_rows(
    rng: np.random.Generator,
    store_ids: list[str],
    product_ids: list[str],
    level: np.ndarray,
    as_of: date,
    role: str,
    version: str,
) -> pd.DataFrame:
    horizons = np.arange(1, 29)
    s_idx, p_idx, h = np.meshgrid(
        np.arange(len(store_ids)), np.arange(len(product_ids)), horizons, indexing="ij"
    )
    s_idx, p_idx, h = s_idx.ravel(), p_idx.ravel(), h.ravel()
    days = pd.to_datetime(as_of) + pd.to_timedelta(h, unit="D")
    weekly = np.where(days.dayofweek >= 5, 0.25, 0.0)
    trend = level[s_idx, p_idx]
    holidays = np.where(rng.random(len(h)) < 0.04, 0.18 * trend, 0.0)
    temperature = rng.normal(0, 0.03, len(h)) * trend
    precipitation = -np.abs(rng.normal(0, 0.04, len(h))) * trend
    yhat = np.maximum(0, trend * (1 + weekly) + holidays + temperature + precipitation)
    width = (0.15 + 0.01 * h) * np.maximum(yhat, 1)
    comps = [
        json.dumps(
            {
                "trend": round(a, 3),
                "weekly": round(b, 3),
                "holidays": round(c, 3),
                "temperature": round(d, 3),
                "precipitation": round(e, 3),
            }
        )
        for a, b, c, d, e in zip(trend, trend * weekly, holidays, temperature, precipitation, strict=True)
    ]
    return pd.DataFrame(
        {
            "as_of": as_of,
            "store_id": np.array(store_ids)[s_idx],
            "product_id": np.array(product_ids)[p_idx],
            "date": days.date,
            "horizon": h.astype("int32"),
            "model": "prophet" if role != "shadow" else "lightgbm",
            "model_version": version,
            "role": role,
            "yhat": yhat,
            "yhat_lower": np.maximum(0, yhat - width),
            "yhat_upper": yhat + width,
            "components": comps,
            "explanation": None,
            "fallback_reason": None,
        }
    )


# gold.forecasts as written before it kept a row's reason as columns (reason_code, launched_on, reason_facts): the
# app must keep serving such tables, so the sample keeps this older shape.
FORECAST_SCHEMA = pa.schema(
    [
        ("as_of", pa.date32()),
        ("store_id", pa.string()),
        ("product_id", pa.string()),
        ("date", pa.date32()),
        ("horizon", pa.int32()),
        ("model", pa.string()),
        ("model_version", pa.string()),
        ("role", pa.string()),
        ("yhat", pa.float64()),
        ("yhat_lower", pa.float64()),
        ("yhat_upper", pa.float64()),
        ("components", pa.string()),
        ("explanation", pa.string()),
        ("fallback_reason", pa.string()),
    ]
)


def _forecasts(
    tables_dir: Path,
    rng: np.random.Generator,
    store_ids: list[str],
    product_ids: list[str],
    level: np.ndarray,
    end: date,
    past_as_of: int,
) -> int:
    parts = [
        _forecast_rows(rng, store_ids, product_ids, level, end - timedelta(days=k), "champion", "3")
        for k in range(past_as_of, -1, -1)
    ]
    parts.append(_forecast_rows(rng, store_ids, product_ids, level * 1.02, end, "challenger", "4"))
    parts.append(_forecast_rows(rng, store_ids[:1], product_ids, level[:1] * 0.97, end, "shadow", "lgbm-1"))
    df = pd.concat(parts, ignore_index=True)
    _write(tables_dir, "gold", "forecasts", df, FORECAST_SCHEMA)
    return len(df)


def _bake_plan(tables_dir: Path, products: pd.DataFrame, end: date) -> int:
    """The plans made by the real planner from each run's champion D+1 forecasts (tomorrow's and, for the past
    runs, days the ledger has actuals of); the first product keeps two days, and store S01 has no stock record
    (its row of that product is degraded)."""
    from bakery.decisions.costs import load_cost_model, product_costs
    from bakery.decisions.plan import make_plan
    from bakery.models.config import load_model_config
    from bakery.tables import BAKE_PLAN, arrow_schema

    fc = DeltaTable(str(tables_dir / "gold" / "forecasts")).to_pandas()
    fc = fc[(fc["role"] == "champion") & (fc["horizon"] == 1)]
    catalogue = products.assign(shelf_life_days=[2] + [1] * (len(products) - 1))
    stock = fc[["store_id", "product_id"]].drop_duplicates().assign(closing_stock=3.0)
    stock = stock[stock["store_id"] != "S01"]  # no count at S01 that day
    costs = product_costs(catalogue, load_cost_model())
    cfg = load_model_config()
    plan = pd.concat(
        [make_plan(day, costs, stock, catalogue, cfg) for _, day in fc.groupby("as_of")], ignore_index=True
    )
    _write(tables_dir, "gold", "bake_plan", plan[BAKE_PLAN.columns], arrow_schema(BAKE_PLAN))
    return len(plan)


def _ledger(tables_dir: Path, inventory: pd.DataFrame, products: pd.DataFrame) -> int:
    """gold.ledger made by the real ledger step from the inventory and the champion's D+1 forecasts: lost sales
    are known on the stock-out days those forecasts cover, unknown on the older ones. The products but the first
    keep one day: what they have left at closing is thrown away (their counts find no stock)."""
    from bakery.decisions.costs import load_cost_model, product_costs
    from bakery.decisions.ledger import make_ledger
    from bakery.tables import LEDGER, arrow_schema

    fc = DeltaTable(str(tables_dir / "gold" / "forecasts")).to_pandas()
    fc = fc[(fc["role"] == "champion") & (fc["horizon"] == 1)]
    one_day = inventory["product_id"] != products["product_id"].iloc[0]
    inv = inventory.copy()
    inv.loc[one_day, ["opening_stock", "closing_stock"]] = 0.0
    inv["correction"] = np.maximum(
        inv["sold"] + inv["closing_stock"] - inv["opening_stock"] - inv["delivered"], 0
    )
    ledger = make_ledger(inv, fc, product_costs(products, load_cost_model()))
    _write(tables_dir, "gold", "ledger", ledger[LEDGER.columns], arrow_schema(LEDGER))
    return len(ledger)


def _metrics(tables_dir: Path, store_ids: list[str], end: date) -> int:
    rows = []
    at = datetime.combine(end, datetime.min.time(), tzinfo=UTC)
    for model, factor in (("prophet", 1.0), ("seasonal_naive", 1.35)):
        for h in (1, 7, 28):
            for store in [None, *store_ids]:
                w = (12 + h * 0.2 + (hash(store) % 5 if store else 0)) * factor
                rows.append(
                    {
                        "evaluated_at": at,
                        "model": model,
                        "horizon": h,
                        "store_id": store,
                        "wmape": w,
                        "mae": w / 10,
                        "rmse": w / 8,
                        "mape": w * 1.2,
                        "bias": (-1.5 if factor == 1 else 3.0),
                        "n": 400,
                    }
                )
    df = pd.DataFrame(rows)
    _write(
        tables_dir,
        "gold",
        "backtest_metrics",
        df,
        pa.schema(
            [
                ("evaluated_at", pa.timestamp("us", tz="UTC")),
                ("model", pa.string()),
                ("horizon", pa.int32()),
                ("store_id", pa.string()),
                ("wmape", pa.float64()),
                ("mae", pa.float64()),
                ("rmse", pa.float64()),
                ("mape", pa.float64()),
                ("bias", pa.float64()),
                ("n", pa.int64()),
            ]
        ),
    )
    return len(df)


def _ops(tables_dir: Path, end: date) -> None:
    t0 = datetime.combine(end, datetime.min.time(), tzinfo=UTC) + timedelta(hours=4)
    runs = pd.DataFrame(
        [
            {
                "run_id": f"r{i}",
                "job": job,
                "started": t0 - timedelta(days=i),
                "finished": t0 - timedelta(days=i) + timedelta(seconds=secs),
                "status": "failed" if (i == 3 and job == "pipeline") else "success",
                "seconds": float(secs),
                "message": "boom: weather API timed out" if (i == 3 and job == "pipeline") else "",
                "details": "{}",
            }
            for i in range(10)
            for job, secs in (("pipeline", 95 + 3 * i), ("ingest", 40 + i))
        ]
    )
    ts = pa.timestamp("us", tz="UTC")
    _write(
        tables_dir,
        "ops",
        "runs",
        runs,
        pa.schema(
            [
                ("run_id", pa.string()),
                ("job", pa.string()),
                ("started", ts),
                ("finished", ts),
                ("status", pa.string()),
                ("seconds", pa.float64()),
                ("message", pa.string()),
                ("details", pa.string()),
            ]
        ),
    )
    q = pd.DataFrame(
        [
            {
                "source": "pos",
                "source_file": "pos/pos_S01.csv",
                "row_number": i,
                "batch_id": "b1",
                "rule": "range:quantity_sold" if i % 2 else "unknown_store",
                "column": "quantity_sold",
                "reason": "out of range",
                "raw": "{}",
                "quarantined_at": t0,
            }
            for i in range(5)
        ]
    )
    _write(
        tables_dir,
        "ops",
        "quarantine",
        q,
        pa.schema(
            [
                ("source", pa.string()),
                ("source_file", pa.string()),
                ("row_number", pa.int64()),
                ("batch_id", pa.string()),
                ("rule", pa.string()),
                ("column", pa.string()),
                ("reason", pa.string()),
                ("raw", pa.string()),
                ("quarantined_at", ts),
            ]
        ),
    )
    dq = pd.DataFrame(
        [
            {
                "run_id": "r0",
                "batch_id": "b1",
                "source": "weather",
                "suite": "weather",
                "expectation": "expect_column_values_to_not_be_null",
                "column": "temperature",
                "severity": "WARNING",
                "success": False,
                "observed": "3 nulls",
                "checked_at": t0,
            }
        ]
    )
    _write(
        tables_dir,
        "ops",
        "dq_results",
        dq,
        pa.schema(
            [
                ("run_id", pa.string()),
                ("batch_id", pa.string()),
                ("source", pa.string()),
                ("suite", pa.string()),
                ("expectation", pa.string()),
                ("column", pa.string()),
                ("severity", pa.string()),
                ("success", pa.bool_()),
                ("observed", pa.string()),
                ("checked_at", ts),
            ]
        ),
    )
    _ingested_files(tables_dir, t0)


def _backtest_results(tables_dir: Path, rng: np.random.Generator, sales: pd.DataFrame, end: date) -> int:
    """gold.backtest_results over the last weeks: weekly cutoffs, horizons 1, 7 and 28 (where the target day
    falls in the sales), the champion with its interval beside the seasonal naive baseline."""
    actual = sales.dropna(subset=["quantity_sold"]).set_index(["store_id", "product_id", "date"])[
        "quantity_sold"
    ]
    rows = []
    for k in range(6):
        cutoff = end - timedelta(days=35 + 7 * k)
        for h in (1, 7, 28):
            day = cutoff + timedelta(days=h)
            part = (
                actual.xs(day, level="date", drop_level=False)
                if day in actual.index.get_level_values(2)
                else None
            )
            if part is None:
                continue
            y = part.to_numpy()
            for model, noise in (("prophet", 0.12 + 0.002 * h), ("seasonal_naive", 0.2)):
                yhat = np.maximum(0, y * rng.normal(1, noise, len(y)))
                rows.append(
                    pd.DataFrame(
                        {
                            "run_id": "bt1",
                            "store_id": part.index.get_level_values(0),
                            "product_id": part.index.get_level_values(1),
                            "cutoff": cutoff,
                            "date": day,
                            "horizon": h,
                            "y": y,
                            "model": model,
                            "yhat": yhat,
                            "yhat_lower": yhat * 0.8 if model == "prophet" else np.nan,
                            "yhat_upper": yhat * 1.2 if model == "prophet" else np.nan,
                        }
                    )
                )
    columns = ["run_id", "store_id", "product_id", "cutoff", "date", "horizon", "y", "model", "yhat"]
    df = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=[*columns, "yhat_lower", "yhat_upper"])
    )
    df["unique_id"] = df["store_id"] + "/" + df["product_id"]
    schema = pa.schema(
        [
            ("run_id", pa.string()),
            ("unique_id", pa.string()),
            ("store_id", pa.string()),
            ("product_id", pa.string()),
            ("cutoff", pa.date32()),
            ("date", pa.date32()),
            ("horizon", pa.int32()),
            ("y", pa.float64()),
            ("model", pa.string()),
            ("yhat", pa.float64()),
            ("yhat_lower", pa.float64()),
            ("yhat_upper", pa.float64()),
        ]
    )
    _write(tables_dir, "gold", "backtest_results", df[schema.names], schema)
    return len(df)


def _live_accuracy(tables_dir: Path, rng: np.random.Generator, store_ids: list[str], end: date) -> int:
    """gold.live_accuracy over the last four weeks of nightly evaluations: the chain and each store, champion
    and shadow, at D+1, D+7 and D+28, beside seasonal naive and the backtest's expectation."""
    from bakery.tables import LIVE_ACCURACY, arrow_schema

    rows = []
    for k in range(28):
        day = end - timedelta(days=27 - k)
        for store in [None, *store_ids]:
            for h in (1, 7, 28):
                expected = 14.0 + h / 4
                for role, lift in (("champion", 1.0), ("shadow", 1.08)):
                    wmape = float(expected * lift * rng.uniform(0.85, 1.2))
                    rows.append(
                        {
                            "evaluated_on": day,
                            "window_days": 28,
                            "level": "chain" if store is None else "store",
                            "store_id": store,
                            "product_id": None,
                            "horizon": h,
                            "role": role,
                            "wmape": wmape,
                            "mae": wmape / 10,
                            "bias": float(rng.normal(0, 3)),
                            "naive_wmape": float(expected * 1.35),
                            "median_daily_wmape": wmape * 0.95,
                            "n": 120,
                            "expected_wmape": expected,
                            "breach": False,
                        }
                    )
    df = pd.DataFrame(rows)
    schema = arrow_schema(LIVE_ACCURACY)
    _write(tables_dir, "gold", "live_accuracy", df[schema.names], schema)
    return len(df)


def _ingested_files(tables_dir: Path, t0: datetime) -> None:
    """ops.ingested_files: a few files per source, one of them rejected."""
    rows = [
        {
            "source": source,
            "source_file": f"{source}/{source}_{i}.csv",
            "file_hash": f"{source}{i}",
            "size_bytes": 1000 + i,
            "rows": 100 * (i + 1),
            "status": "rejected" if (source == "weather" and i == 0) else "ingested",
            "reason": "file:bad_header" if (source == "weather" and i == 0) else None,
            "batch_id": f"b{i}",
            "ingested_at": t0 - timedelta(days=age + i),
        }
        for source, age in (("pos", 0), ("inventory", 0), ("deliveries", 1), ("weather", 3))
        for i in range(3)
    ]
    ts = pa.timestamp("us", tz="UTC")
    schema = pa.schema(
        [
            ("source", pa.string()),
            ("source_file", pa.string()),
            ("file_hash", pa.string()),
            ("size_bytes", pa.int64()),
            ("rows", pa.int64()),
            ("status", pa.string()),
            ("reason", pa.string()),
            ("batch_id", pa.string()),
            ("ingested_at", ts),
        ]
    )
    _write(tables_dir, "ops", "ingested_files", pd.DataFrame(rows), schema)


def _override_scores(tables_dir: Path, inventory: pd.DataFrame) -> int:
    """gold.override_scores made by the real scoring from changes to the plans of the ledger's days: manager
    `mgr` raises a third by 30% for an event, `mgr2` cuts another third by 20% for the weather."""
    from bakery.decisions.overrides import OVERRIDE_COLUMNS, score_overrides
    from bakery.tables import OVERRIDE_SCORES, arrow_schema

    plan = DeltaTable(str(tables_dir / "gold" / "bake_plan")).to_pandas()
    fc = DeltaTable(str(tables_dir / "gold" / "forecasts")).to_pandas()
    fc = fc[(fc["role"] == "champion") & (fc["horizon"] == 1)][["store_id", "product_id", "date", "yhat"]]
    for df in (plan, fc, inventory):
        df["date"] = pd.to_datetime(df["date"]).dt.date
    plan = plan[plan["date"].isin(set(inventory["date"]))].sort_values(["date", "store_id", "product_id"])
    who = np.arange(len(plan)) % 3
    changed = plan[who < 2].assign(
        override_id=lambda d: [f"ov{i:04d}" for i in range(len(d))],
        plan_quantity=lambda d: d["quantity"],
        quantity=lambda d: np.where(
            who[who < 2] == 0, np.ceil(d["quantity"] * 1.3), np.floor(d["quantity"] * 0.8)
        ),
        reason_code=np.where(who[who < 2] == 0, "event", "weather"),
        username=np.where(who[who < 2] == 0, "mgr", "mgr2"),
        note="",
        created_at=pd.Timestamp("2026-04-01T05:00:00Z"),
    )
    actuals = inventory[["store_id", "product_id", "date", "sold", "stockout"]].merge(
        fc, on=["store_id", "product_id", "date"], how="left"
    )
    scores = score_overrides(changed[OVERRIDE_COLUMNS], plan, actuals)
    _write(
        tables_dir, "gold", "override_scores", scores[OVERRIDE_SCORES.columns], arrow_schema(OVERRIDE_SCORES)
    )
    return len(scores)
