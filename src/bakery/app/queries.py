"""The app's queries over the gold, silver and ops tables, each cached (bakery.app.cache). No Spark and no
model on the request path."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from bakery.app.cache import ServingCache
from bakery.app.tablestore import Filter, TableReader
from bakery.tables import (
    BACKTEST_METRICS,
    BACKTEST_RESULTS,
    BAKE_PLAN,
    DAILY_SALES,
    DQ_RESULTS,
    EVENTS,
    FORECASTS,
    INGESTED_FILES,
    INVENTORY_DAILY,
    LEDGER,
    OVERRIDE_SCORES,
    PRODUCTS,
    QUARANTINE,
    RUNS,
    STORES,
    Table,
)

log = logging.getLogger(__name__)

# gold.forecasts' model on a day the store is expected to be closed (bakery.models.opening) and on a day a product
# is expected off sale (bakery.models.offering): yhat 0 on both.
CLOSED_MODEL = "closed"
NOT_OFFERED_MODEL = "not_offered"


@dataclass
class ForecastSnapshot:
    """The latest forecast run (one as_of date), split per store for constant-time lookups."""

    as_of: date
    by_store: dict[str, pd.DataFrame]
    roles: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def store_ids(self) -> list[str]:
        return sorted(self.by_store)


def _dates(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for c in cols:
        if c in df.columns:
            df[c] = pd.to_datetime(df[c])
    return df


def _store_window(store_ids: Sequence[str] | None, start: date | None, end: date | None) -> list[Filter]:
    filters: list[Filter] = []
    if store_ids is not None:
        filters.append(("store_id", "in", sorted(store_ids)))
    if start:
        filters.append(("date", ">=", start))
    if end:
        filters.append(("date", "<=", end))
    return filters


class ServingData(ServingCache):
    """The app's queries. Thread-safe; each result cached under the versions of the tables it read."""

    def __init__(
        self,
        reader: TableReader,
        *,
        version_check_seconds: float = 2.0,
        cache_entries: int = 512,
        history_days: int = 56,
    ) -> None:
        super().__init__(reader, version_check_seconds=version_check_seconds, cache_entries=cache_entries)
        self.history_days = history_days
        self.warmed = False  # set once the first page's data is loaded (reported by /api/v1/health)

    def warm(self) -> None:
        """Load what the first page needs, so the first visitor does not wait for it."""
        try:
            self.forecast_snapshot()
            self.recent_sales()
            self.stores()
            self.products()
        except Exception:  # a broken table must not stop the server from starting
            log.exception("warming the serving cache failed")

    # ---- reference data ------------------------------------------------------------------------
    def stores(self) -> pd.DataFrame:
        """store_id, name, city, country, timezone, ...: from silver.stores, else ids seen in sales/forecasts."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(STORES, v)
            if df.empty:
                ids = set(self._read(DAILY_SALES, v, ["store_id"])["store_id"].dropna().unique())
                snap = self.forecast_snapshot()
                ids |= set(snap.store_ids) if snap else set()
                df = pd.DataFrame({"store_id": sorted(ids)})
                df["name"] = df["store_id"]
            keep = [
                c
                for c in ("store_id", "name", "city", "country", "subdivision", "timezone", "store_type")
                if c in df.columns
            ]
            return df[keep].drop_duplicates("store_id").sort_values("store_id").reset_index(drop=True)

        return self.cached(("stores",), (STORES, DAILY_SALES, FORECASTS), load)

    def products(self) -> pd.DataFrame:
        def load(v: dict) -> pd.DataFrame:
            df = self._read(PRODUCTS, v)
            if df.empty:
                ids = sorted(set(self._read(DAILY_SALES, v, ["product_id"])["product_id"].dropna().unique()))
                df = pd.DataFrame({"product_id": ids, "name": ids, "category": ""})
            keep = [c for c in ("product_id", "name", "category", "unit_price", "unit") if c in df.columns]
            return df[keep].drop_duplicates("product_id").sort_values("product_id").reset_index(drop=True)

        return self.cached(("products",), (PRODUCTS, DAILY_SALES), load)

    def product_names(self) -> dict[str, str]:
        p = self.products()
        return dict(zip(p["product_id"], p["name"].fillna(p["product_id"]), strict=True)) if len(p) else {}

    # ---- forecasts -----------------------------------------------------------------------------
    def forecast_snapshot(self) -> ForecastSnapshot | None:
        """The latest as_of's forecasts of every model role, or None when no forecast exists yet."""

        def load(v: dict) -> ForecastSnapshot | None:
            if v[FORECASTS] is None:
                return None
            as_of_col = self._read(FORECASTS, v, ["as_of"])["as_of"]
            if as_of_col.empty:
                return None
            as_of = pd.Timestamp(as_of_col.max()).date()
            df = self._read(FORECASTS, v, FORECASTS.columns, [("as_of", "=", as_of)])
            df = _dates(df, "date", "as_of").sort_values(["store_id", "product_id", "role", "date"])
            roles = (
                df.groupby(["role", "model", "model_version"], dropna=False)
                .size()
                .rename("rows")
                .reset_index()
            )
            by_store = {s: g.reset_index(drop=True) for s, g in df.groupby("store_id", sort=True)}
            return ForecastSnapshot(as_of, by_store, roles)

        return self.cached(("forecast_snapshot",), (FORECASTS,), load)

    def forecasts(
        self,
        store_ids: Sequence[str],
        product_id: str | None = None,
        horizon: int | None = None,
        target_date: date | None = None,
        role: str | None = "champion",
    ) -> pd.DataFrame:
        """Latest forecasts for the given stores (already authorized by the caller)."""
        snap = self.forecast_snapshot()
        if snap is None:
            return pd.DataFrame(columns=FORECASTS.columns)
        parts = [snap.by_store[s] for s in store_ids if s in snap.by_store]
        if not parts:
            return pd.DataFrame(columns=FORECASTS.columns)
        df = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        mask = pd.Series(True, index=df.index)
        if role:
            mask &= df["role"] == role
        if product_id:
            mask &= df["product_id"] == product_id
        if horizon is not None:
            mask &= df["horizon"] == horizon
        if target_date is not None:
            mask &= df["date"] == pd.Timestamp(target_date)
        return df[mask]

    def past_forecasts(
        self, store_id: str, product_id: str, start: date, end: date, horizons: Sequence[int] = (1, 7, 28)
    ) -> pd.DataFrame:
        """Champion forecasts made earlier for days in [start, end]: what was predicted h days ahead."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(
                FORECASTS,
                v,
                ["as_of", "date", "horizon", "yhat", "yhat_lower", "yhat_upper", "model_version"],
                [
                    ("store_id", "=", store_id),
                    ("product_id", "=", product_id),
                    ("role", "=", "champion"),
                    ("date", ">=", start),
                    ("date", "<=", end),
                    ("horizon", "in", list(horizons)),
                ],
            )
            return _dates(df, "date", "as_of").sort_values(["horizon", "date"]).reset_index(drop=True)

        return self.cached(("past", store_id, product_id, start, end, tuple(horizons)), (FORECASTS,), load)

    def backtest_forecasts(
        self,
        store_id: str,
        product_id: str,
        start: date,
        end: date,
        models: Sequence[str],
        min_horizon: int = 1,
    ) -> pd.DataFrame:
        """The backtest's out-of-sample forecasts for days in [start, end], made at least `min_horizon` days ahead:
        per day the one made closest to it (the smallest such horizon), from the first of `models` the backtest
        has (e.g. the champion as served, else the champion's model). What History shows before served forecasts
        exist. Same columns as past_forecasts, as_of being the backtest cutoff; the latest backtest run wins."""

        def load(v: dict) -> pd.DataFrame:
            cols = ["as_of", "date", "horizon", "yhat", "yhat_lower", "yhat_upper", "model_version"]
            if v.get(BACKTEST_RESULTS) is None:
                return pd.DataFrame(columns=cols)
            df = self._read(
                BACKTEST_RESULTS,
                v,
                ["run_id", "cutoff", "date", "horizon", "model", "yhat", "yhat_lower", "yhat_upper"],
                [
                    ("store_id", "=", store_id),
                    ("product_id", "=", product_id),
                    ("date", ">=", start),
                    ("date", "<=", end),
                    ("horizon", ">=", min_horizon),
                    ("model", "in", list(models)),
                ],
            )
            found = [m for m in models if (df["model"] == m).any()] if len(df) else []
            if not found:
                return pd.DataFrame(columns=cols)
            df = df[df["model"] == found[0]].sort_values(
                ["date", "horizon", "run_id"], ascending=[True, True, False]
            )
            df = df.drop_duplicates("date", keep="first").rename(columns={"cutoff": "as_of"})
            df = df.assign(model_version="backtest")[cols]
            return _dates(df, "date", "as_of").sort_values("date").reset_index(drop=True)

        key = ("backtest_forecasts", store_id, product_id, start, end, tuple(models), min_horizon)
        return self.cached(key, (BACKTEST_RESULTS,), load)

    def champion_model(self) -> str | None:
        """The model the latest forecast's champion rows mostly come from (e.g. prophet)."""
        snap = self.forecast_snapshot()
        if snap is None or snap.roles.empty or "model" not in snap.roles:
            return None
        champ = snap.roles[snap.roles["role"] == "champion"]
        if champ.empty:
            return None
        return str(champ.sort_values("rows", ascending=False)["model"].iloc[0]) if "rows" in champ else None

    # ---- sales ---------------------------------------------------------------------------------
    def latest_sales_date(self) -> date | None:
        def load(v: dict) -> date | None:
            d = self._read(DAILY_SALES, v, ["date"])["date"]
            return pd.Timestamp(d.max()).date() if len(d) else None

        return self.cached(("latest_sales_date",), (DAILY_SALES,), load)

    def recent_sales(self) -> dict[str, pd.DataFrame]:
        """The last `history_days` days of gold.daily_sales for every store, split per store."""

        def load(v: dict) -> dict[str, pd.DataFrame]:
            last = self.latest_sales_date()
            if last is None:
                return {}
            df = self._read(
                DAILY_SALES,
                v,
                ["store_id", "product_id", "date", "quantity_sold", "status", "stockout"],
                [("date", ">", last - timedelta(days=self.history_days))],
            )
            df = _dates(df, "date").sort_values(["store_id", "product_id", "date"])
            return {s: g.reset_index(drop=True) for s, g in df.groupby("store_id", sort=True)}

        return self.cached(("recent_sales",), (DAILY_SALES,), load)

    def taken_files(self, source: str) -> set[str]:
        """Names of the landing files of a source that a run has already taken (ops.ingested_files)."""

        def load(v: dict) -> set[str]:
            if v.get(INGESTED_FILES) is None:
                return set()
            df = self._read(INGESTED_FILES, v, ["source", "source_file"], [("source", "=", source)])
            return {str(f).replace("\\", "/").rsplit("/", 1)[-1] for f in df["source_file"]}

        return self.cached(("taken_files", source), (INGESTED_FILES,), load)

    def last_sales_by_store(self) -> dict[str, date]:
        """Each store's last day with a recorded sale, within the recent window (absent: none recently)."""

        def load(_v: dict) -> dict[str, date]:
            out = {}
            for store, df in self.recent_sales().items():
                seen = df.dropna(subset=["quantity_sold"])["date"]
                if len(seen):
                    out[store] = pd.Timestamp(seen.max()).date()
            return out

        return self.cached(("last_sales_by_store",), (DAILY_SALES,), load)

    def sales(
        self,
        store_ids: Sequence[str] | None,
        start: date | None = None,
        end: date | None = None,
        product_id: str | None = None,
    ) -> pd.DataFrame:
        """Actuals from gold.daily_sales (store_ids None: every store; the caller has authorized them)."""
        filters = _store_window(store_ids, start, end)
        if product_id:
            filters.append(("product_id", "=", product_id))
        cols = [
            "store_id",
            "product_id",
            "date",
            "quantity_sold",
            "revenue",
            "status",
            "stockout",
            "promo",
            "source",
        ]

        def load(v: dict) -> pd.DataFrame:
            df = self._read(DAILY_SALES, v, cols, filters)
            return _dates(df, "date").sort_values(["store_id", "product_id", "date"]).reset_index(drop=True)

        key = ("sales", tuple(sorted(store_ids)) if store_ids is not None else None, start, end, product_id)
        return self.cached(key, (DAILY_SALES,), load)

    def bake_plan(self, store_id: str, day: date | None = None) -> pd.DataFrame:
        """gold.bake_plan rows of one store (the caller has authorized it) for day, or for its latest planned day."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(BAKE_PLAN, v, BAKE_PLAN.columns, [("store_id", "=", store_id)])
            if df.empty:
                return df
            df["date"] = pd.to_datetime(df["date"]).dt.date
            wanted = day or max(df["date"])
            return df[df["date"] == wanted].sort_values("product_id").reset_index(drop=True)

        return self.cached(("bake_plan", store_id, day), (BAKE_PLAN,), load)

    def bake_quantities(self, as_of: date) -> pd.DataFrame:
        """store_id, product_id, quantity of the gold.bake_plan rows made from the forecasts of `as_of`, every
        store (the forecast page orders its products by them; the caller filters the stores it may show)."""

        def load(v: dict) -> pd.DataFrame:
            cols = ["store_id", "product_id", "quantity"]
            return self._read(BAKE_PLAN, v, cols, [("as_of", "=", as_of)])[cols]

        return self.cached(("bake_quantities", as_of), (BAKE_PLAN,), load)

    def ledger(
        self, store_ids: Sequence[str] | None, start: date | None = None, end: date | None = None
    ) -> pd.DataFrame:
        """gold.ledger rows (store_ids None: every store; the caller has authorized them) from start to end."""
        filters = _store_window(store_ids, start, end)

        def load(v: dict) -> pd.DataFrame:
            df = _dates(self._read(LEDGER, v, LEDGER.columns, filters), "date")
            return (
                df.sort_values(["date", "store_id", "product_id"]).reset_index(drop=True) if len(df) else df
            )

        key = ("ledger", tuple(sorted(store_ids)) if store_ids is not None else None, start, end)
        return self.cached(key, (LEDGER,), load)

    def bake_plans(
        self, store_ids: Sequence[str] | None, start: date | None = None, end: date | None = None
    ) -> pd.DataFrame:
        """gold.bake_plan rows of every planned day from start to end (store_ids None: every store)."""
        return self._window_rows(BAKE_PLAN, store_ids, start, end)

    def override_scores(
        self, store_ids: Sequence[str] | None, start: date | None = None, end: date | None = None
    ) -> pd.DataFrame:
        """gold.override_scores rows (each scored manager override) from start to end (store_ids None: all)."""
        return self._window_rows(OVERRIDE_SCORES, store_ids, start, end)

    def _window_rows(
        self, table: Table, store_ids: Sequence[str] | None, start: date | None, end: date | None
    ) -> pd.DataFrame:
        filters = _store_window(store_ids, start, end)

        def load(v: dict) -> pd.DataFrame:
            return _dates(self._read(table, v, table.columns, filters), "date")

        key = (table.name, tuple(sorted(store_ids)) if store_ids is not None else None, start, end)
        return self.cached(key, (table,), load)

    def ledger_range(self) -> tuple[date, date] | None:
        """The first and last day of gold.ledger (None while it is empty or missing)."""

        def load(v: dict) -> tuple[date, date] | None:
            d = self._read(LEDGER, v, ["date"])["date"].dropna()
            return (pd.Timestamp(d.min()).date(), pd.Timestamp(d.max()).date()) if len(d) else None

        return self.cached(("ledger_range",), (LEDGER,), load)

    def chain_daily(self, start: date, end: date) -> pd.DataFrame:
        """Chain totals per day (analysts): date, quantity_sold, revenue."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(
                DAILY_SALES,
                v,
                ["date", "quantity_sold", "revenue"],
                [("date", ">=", start), ("date", "<=", end)],
            )
            df = _dates(df, "date")
            return df.groupby("date", as_index=False)[["quantity_sold", "revenue"]].sum(min_count=1)

        return self.cached(("chain_daily", start, end), (DAILY_SALES,), load)

    # ---- metrics, inventory, operations --------------------------------------------------------
    def metrics(self) -> pd.DataFrame:
        """The latest evaluation of every model: model, horizon, store_id (None = global), metrics, n."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(BACKTEST_METRICS, v)
            if df.empty:
                return df
            latest = df.groupby("model")["evaluated_at"].transform("max")
            return df[df["evaluated_at"] == latest].reset_index(drop=True)

        return self.cached(("metrics",), (BACKTEST_METRICS,), load)

    def inventory(self, store_ids: Sequence[str], days: int) -> pd.DataFrame:
        """The last `days` days of silver.inventory_daily for the given stores."""

        def load(v: dict) -> pd.DataFrame:
            d = self._read(INVENTORY_DAILY, v, ["date"])["date"]
            if d.empty:
                return pd.DataFrame()
            since = pd.Timestamp(d.max()).date() - timedelta(days=days - 1)
            df = self._read(
                INVENTORY_DAILY, v, None, [("store_id", "in", sorted(store_ids)), ("date", ">=", since)]
            )
            return _dates(df, "date")

        return self.cached(("inventory", tuple(sorted(store_ids)), days), (INVENTORY_DAILY,), load)

    def events(self, store_ids: Sequence[str] | None) -> pd.DataFrame:
        """Loaded events: national ones plus those scoped to the given stores (None: all)."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(
                EVENTS, v, ["event_date_start", "event_date_end", "event_name", "event_type", "scope"]
            )
            if store_ids is not None and len(df):
                df = df[df["scope"].isin(["national", *store_ids])]
            return (
                df.sort_values("event_date_start", ascending=False).reset_index(drop=True) if len(df) else df
            )

        return self.cached(
            ("events", tuple(sorted(store_ids)) if store_ids is not None else None), (EVENTS,), load
        )

    def runs(self, limit: int = 200) -> pd.DataFrame:
        def load(v: dict) -> pd.DataFrame:
            df = self._read(RUNS, v, ["run_id", "job", "started", "finished", "status", "seconds", "message"])
            return (
                df.sort_values("started", ascending=False).head(limit).reset_index(drop=True)
                if len(df)
                else df
            )

        return self.cached(("runs", limit), (RUNS,), load)

    def source_arrivals(self) -> dict[str, datetime]:
        """When each source's latest landing file was taken into bronze (ops.ingested_files), by source."""

        def load(v: dict) -> dict[str, datetime]:
            df = self._read(INGESTED_FILES, v, ["source", "status", "ingested_at"])
            df = df[df["status"] == "ingested"] if len(df) else df
            if not len(df):
                return {}
            latest = pd.to_datetime(df["ingested_at"]).groupby(df["source"]).max()
            return {str(k): v.to_pydatetime() for k, v in latest.items()}

        return self.cached(("source_arrivals",), (INGESTED_FILES,), load)

    def quarantine_counts(self) -> pd.DataFrame:
        """Quarantined rows per source and rule."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(QUARANTINE, v, ["source", "rule", "quarantined_at"])
            if df.empty:
                return pd.DataFrame(columns=["source", "rule", "rows", "last"])
            return (
                df.groupby(["source", "rule"])
                .agg(rows=("rule", "size"), last=("quarantined_at", "max"))
                .reset_index()
                .sort_values("rows", ascending=False)
            )

        return self.cached(("quarantine_counts",), (QUARANTINE,), load)

    def dq_failures(self, limit: int = 100) -> pd.DataFrame:
        def load(v: dict) -> pd.DataFrame:
            df = self._read(
                DQ_RESULTS,
                v,
                ["checked_at", "source", "expectation", "column", "severity", "success", "observed"],
                [("success", "=", False)],
            )
            return df.sort_values("checked_at", ascending=False).head(limit) if len(df) else df

        return self.cached(("dq_failures", limit), (DQ_RESULTS,), load)

    def freshness(self) -> dict[str, Any]:
        snap = self.forecast_snapshot()
        last = self.latest_sales_date()
        return {
            "latest_sales_date": last.isoformat() if last else None,
            "latest_forecast_as_of": snap.as_of.isoformat() if snap else None,
            "forecast_stores": len(snap.by_store) if snap else 0,
        }


def parse_components(text: Any) -> dict[str, float]:
    """A forecast's components JSON as {name: contribution}; malformed or missing -> {}."""
    if not isinstance(text, str) or not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            try:
                out[str(k)] = float(v)
            except (TypeError, ValueError):
                continue
    return out
