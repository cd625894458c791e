"""Is the latest forecast current, and was it made from complete data? One answer for the forecast page's banner,
the API's forecast and health answers.

A forecast is *stale* when the data it was made from (its as_of) is older than the run date's eve: its "tomorrow"
is then a day already gone. It is *degraded* when some store it covers has no sale recorded over its last days (more than
store_lag_days before as_of: one day of grace, the store's usual closing day), so that store's latest days were
forecast without their actuals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ForecastStatus:
    as_of: date
    run_date: date
    stale: bool
    # Stores whose sales end before as_of, with their last sales day (None: no recent sales at all).
    lagging: tuple[tuple[str, date | None], ...] = ()

    @property
    def degraded(self) -> bool:
        return bool(self.lagging)

    @property
    def days_old(self) -> int:
        return (self.run_date - self.as_of).days

    def reason(self) -> str | None:
        """Plain English for the API (None when the forecast is current and complete)."""
        parts = []
        if self.stale:
            parts.append(
                f"made with data up to {self.as_of.isoformat()}, {self.days_old} days before the run date "
                f"{self.run_date.isoformat()}"
            )
        for store, last in self.lagging:
            parts.append(
                f"sales of {store} end on {last.isoformat()}, before the forecast's data date"
                if last
                else f"no recent sales of {store}"
            )
        return "; ".join(parts) or None

    def as_json(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "stale": self.stale,
            "degraded": self.degraded,
            "reason": self.reason(),
        }


def run_date(timezone: str = "Europe/Madrid") -> date:
    """Today where the stores are: the date a forecast's freshness is judged against."""
    return datetime.now(ZoneInfo(timezone)).date()


def forecast_status(
    as_of: date,
    last_sales: Mapping[str, date | None],
    stores: Sequence[str],
    today: date,
    stale_after_days: int = 1,
    store_lag_days: int = 1,
) -> ForecastStatus:
    """The status of a forecast made from data up to `as_of`, for the given stores (the caller's scope).

    last_sales: each store's last day with a recorded sale (absent or None: none recently)."""
    lagging = tuple(
        (s, last_sales.get(s))
        for s in sorted(stores)
        if last_sales.get(s) is None or last_sales[s] < as_of - timedelta(days=store_lag_days)  # type: ignore[operator]
    )
    return ForecastStatus(as_of, today, as_of < today - timedelta(days=stale_after_days), lagging)


def current_status(serving: Any, conf: Any, stores: Sequence[str] | None = None) -> ForecastStatus | None:
    """The latest forecast's status for `stores` (None: every store it covers); None before the first forecast."""
    snap = serving.forecast_snapshot()
    if snap is None:
        return None
    today = run_date(str(conf.get("freshness.timezone", "Europe/Madrid")))
    scope = snap.store_ids if stores is None else [s for s in stores if s in snap.by_store]
    return forecast_status(
        snap.as_of,
        serving.last_sales_by_store(),
        scope,
        today,
        int(conf.get("freshness.stale_after_days", 1)),
        int(conf.get("freshness.store_lag_days", 1)),
    )
