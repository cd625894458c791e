"""Open-Meteo daily weather client: bounded retries with exponential backoff, rows in the weather template shape.

Speaks the Open-Meteo forecast API (the archive API has the same daily shape: point `weather_api.base_url`
at it for history). Timeouts, connection errors, 5xx and 429 are retried up to `weather_api.retries` times,
waiting `backoff_seconds * 2**attempt` or the server's Retry-After; any other 4xx fails at once with the
API's reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bakery.config import Settings
from bakery.ingest.landing import write_atomically

log = logging.getLogger(__name__)

# Open-Meteo daily variable -> weather template column.
DAILY_VARIABLES: dict[str, str] = {
    "temperature_2m_mean": "temperature",
    "precipitation_sum": "precipitation",
    "relative_humidity_2m_mean": "humidity",
    "wind_speed_10m_max": "wind_speed",
    "weather_code": "weather_condition_code",
}
WEATHER_COLUMNS = ("date", "store_id", *DAILY_VARIABLES.values())


class WeatherApiError(RuntimeError):
    """The weather API could not give an answer (after retries, or a client error that retrying cannot fix)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WeatherApiConfig:
    """Where the API is and how patiently to call it (conf: weather_api.*)."""

    base_url: str = "https://api.open-meteo.com/v1/forecast"
    timeout_seconds: float = 10.0
    retries: int = 4
    backoff_seconds: float = 0.5
    max_retry_after_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WeatherApiConfig:
        conf = settings.get("weather_api", {}) or {}
        return cls(**{k: conf[k] for k in cls.__dataclass_fields__ if k in conf})


@dataclass(frozen=True)
class StoreLocation:
    """A store's coordinates and IANA timezone (days are the store's local days)."""

    store_id: str
    latitude: float
    longitude: float
    timezone: str = "auto"

    @classmethod
    def of(cls, store: StoreLocation | Mapping[str, Any]) -> StoreLocation | None:
        if isinstance(store, StoreLocation):
            return store
        lat, lon = store.get("latitude"), store.get("longitude")
        if lat is None or lon is None or lat != lat or lon != lon:  # absent or NaN
            return None
        return cls(str(store["store_id"]), float(lat), float(lon), str(store.get("timezone") or "auto"))


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _api_reason(resp: requests.Response) -> str:
    try:
        body = resp.json()
        return str(body.get("reason") or body)
    except ValueError:
        return resp.text[:300]


class OpenMeteoClient:
    """A thin typed client for GET <base_url>?latitude=&longitude=&daily=...&timezone=&start_date=&end_date=."""

    def __init__(
        self,
        config: WeatherApiConfig,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.session = session or requests.Session()
        self._sleep = sleep

    def get_json(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """One logical request: retried on timeouts, connection errors, 5xx and 429."""
        cfg = self.config
        attempts = max(1, int(cfg.retries) + 1)
        last = "no attempt made"
        for attempt in range(attempts):
            wait = cfg.backoff_seconds * 2**attempt
            try:
                resp = self.session.get(cfg.base_url, params=params, timeout=cfg.timeout_seconds)
            except requests.Timeout:
                last = f"timed out after {cfg.timeout_seconds}s"
            except requests.ConnectionError as exc:
                last = f"connection failed: {exc}"
            else:
                if resp.status_code == 200:
                    try:
                        return resp.json()
                    except ValueError:
                        raise WeatherApiError(
                            f"weather API at {cfg.base_url} returned invalid JSON", 200
                        ) from None
                if resp.status_code != 429 and resp.status_code < 500:
                    raise WeatherApiError(
                        f"weather API at {cfg.base_url} refused the request "
                        f"(HTTP {resp.status_code}): {_api_reason(resp)}",
                        resp.status_code,
                    )
                last = f"HTTP {resp.status_code}: {_api_reason(resp)}"
                asked = _retry_after(resp)
                wait = wait if asked is None else asked
            if attempt + 1 < attempts:
                wait = min(wait, cfg.max_retry_after_seconds)
                log.warning(
                    "weather API attempt %d/%d failed (%s); retrying in %.2fs",
                    attempt + 1,
                    attempts,
                    last,
                    wait,
                )
                self._sleep(wait)
        raise WeatherApiError(f"weather API at {cfg.base_url} failed after {attempts} attempt(s): {last}")

    def daily(
        self, latitude: float, longitude: float, start: dt.date, end: dt.date, timezone: str = "auto"
    ) -> list[dict[str, Any]]:
        """Daily values from start to end inclusive: one dict per day with `date` and the Open-Meteo variables."""
        params = {
            "latitude": latitude,
            "longitude": longitude,
            "daily": ",".join(DAILY_VARIABLES),
            "timezone": timezone,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        }
        body = self.get_json(params)
        daily = body.get("daily")
        if not isinstance(daily, dict) or not isinstance(daily.get("time"), list):
            raise WeatherApiError(f"weather API answer has no daily.time list (keys: {sorted(body)})")
        days = daily["time"]
        for var in DAILY_VARIABLES:
            values = daily.get(var)
            if not isinstance(values, list) or len(values) != len(days):
                raise WeatherApiError(
                    f"weather API answer: daily.{var} missing or not {len(days)} values long"
                )
        return [
            {"date": day, **{var: daily[var][i] for var in DAILY_VARIABLES}} for i, day in enumerate(days)
        ]


def store_rows(
    client: OpenMeteoClient, store: StoreLocation, start: dt.date, end: dt.date
) -> list[dict[str, Any]]:
    """One store's days as weather template rows (date, store_id, temperature, ..., weather_condition_code)."""
    rows = []
    for day in client.daily(store.latitude, store.longitude, start, end, store.timezone):
        row = {"date": day["date"], "store_id": store.store_id}
        row.update({col: day[var] for var, col in DAILY_VARIABLES.items()})
        rows.append(row)
    return rows


def _csv_value(value: Any) -> str:
    return "" if value is None else str(value)


def fetch_to_landing(
    settings: Settings,
    stores: Iterable[StoreLocation | Mapping[str, Any]],
    start: dt.date,
    end: dt.date,
    client: OpenMeteoClient | None = None,
) -> Path | None:
    """Fetch every store's daily weather and write one CSV into landing/weather/ (None when no store has
    coordinates). Stores without latitude/longitude are skipped with a warning."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    client = client or OpenMeteoClient(WeatherApiConfig.from_settings(settings))
    rows: list[dict[str, Any]] = []
    for store in stores:
        loc = StoreLocation.of(store)
        if loc is None:
            log.warning("store %s has no coordinates; no weather fetched for it", dict(store).get("store_id"))
            continue
        rows += store_rows(client, loc, start, end)
    if not rows:
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = settings.landing_dir / "weather" / f"open_meteo_{start.isoformat()}_{end.isoformat()}_{stamp}.csv"

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(WEATHER_COLUMNS)
            w.writerows([_csv_value(r[c]) for c in WEATHER_COLUMNS] for r in rows)

    write_atomically(path, write)
    log.info("weather: %d rows for %s..%s written to %s", len(rows), start, end, path)
    return path
