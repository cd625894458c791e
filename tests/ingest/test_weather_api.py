"""Open-Meteo client against a local stand-in server: shape, retries on 503/429/timeouts, clear 4xx errors."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from bakery.ingest.readers import read_file
from bakery.ingest.validate import validate_raw
from bakery.ingest.weather_api import (
    DAILY_VARIABLES,
    OpenMeteoClient,
    StoreLocation,
    WeatherApiConfig,
    WeatherApiError,
    fetch_to_landing,
)

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 3)


class StandIn:
    """What the fake API does next: a queue of failures, then Open-Meteo-shaped answers."""

    def __init__(self) -> None:
        self.failures: list[tuple[int, dict[str, str]] | str] = []
        self.requests: list[dict[str, list[str]]] = []


def _answer(query: dict[str, list[str]]) -> dict:
    start, end = dt.date.fromisoformat(query["start_date"][0]), dt.date.fromisoformat(query["end_date"][0])
    days = [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    daily = {
        "time": days,
        "temperature_2m_mean": [10.5 + i for i in range(len(days))],
        "precipitation_sum": [0.0] * len(days),
        "relative_humidity_2m_mean": [70] * len(days),
        "wind_speed_10m_max": [12.1] * len(days),
        "weather_code": [3] * len(days),
    }
    daily["temperature_2m_mean"][-1] = None
    return {
        "latitude": float(query["latitude"][0]),
        "longitude": float(query["longitude"][0]),
        "timezone": query["timezone"][0],
        "daily_units": {},
        "daily": daily,
    }


@pytest.fixture
def server() -> Iterator[tuple[str, StandIn]]:
    state = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            state.requests.append(query)
            if state.failures:
                failure = state.failures.pop(0)
                if failure == "hang":
                    time.sleep(0.5)
                    return self._send(200, _answer(query))
                status, headers = failure
                return self._send(status, {"error": True, "reason": f"stand-in {status}"}, headers)
            self._send(200, _answer(query))

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1/forecast", state
    httpd.shutdown()
    httpd.server_close()


def _client(
    url: str, retries: int = 3, timeout: float = 2.0, sleeps: list[float] | None = None
) -> OpenMeteoClient:
    cfg = WeatherApiConfig(base_url=url, timeout_seconds=timeout, retries=retries, backoff_seconds=0.01)
    return OpenMeteoClient(cfg, sleep=(sleeps.append if sleeps is not None else time.sleep))


def test_daily_request_shape_and_rows(server):
    url, state = server
    rows = _client(url).daily(40.4, -3.7, START, END, "Europe/Madrid")
    assert [r["date"] for r in rows] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert rows[0]["temperature_2m_mean"] == 10.5 and rows[2]["temperature_2m_mean"] is None
    q = state.requests[0]
    assert q["daily"] == [",".join(DAILY_VARIABLES)] and q["timezone"] == ["Europe/Madrid"]
    assert (q["latitude"], q["start_date"], q["end_date"]) == (["40.4"], ["2026-03-01"], ["2026-03-03"])


def test_503s_are_retried_with_exponential_backoff(server):
    url, state = server
    state.failures = [(503, {}), (503, {})]
    sleeps: list[float] = []
    rows = _client(url, sleeps=sleeps).daily(40.4, -3.7, START, END)
    assert len(rows) == 3 and len(state.requests) == 3
    assert sleeps == [0.01, 0.02]


def test_429_waits_as_long_as_retry_after_says(server):
    url, state = server
    state.failures = [(429, {"Retry-After": "3"})]
    sleeps: list[float] = []
    _client(url, sleeps=sleeps).daily(40.4, -3.7, START, END)
    assert sleeps == [3.0]


def test_a_slow_answer_times_out_and_is_retried(server):
    url, state = server
    state.failures = ["hang"]  # answers only after 0.5 s, past the client's 0.1 s timeout
    sleeps: list[float] = []
    rows = _client(url, timeout=0.1, sleeps=sleeps).daily(40.4, -3.7, START, END)
    # The late answer was not waited for: the attempt timed out and one retry, after one backoff, answered.
    assert len(rows) == 3 and len(state.requests) == 2 and sleeps == [0.01]


def test_retries_are_bounded_and_the_error_says_why(server):
    url, state = server
    state.failures = [(503, {})] * 10
    with pytest.raises(WeatherApiError, match=r"failed after 3 attempt\(s\): HTTP 503: stand-in 503"):
        _client(url, retries=2, sleeps=[]).daily(40.4, -3.7, START, END)
    assert len(state.requests) == 3


def test_client_errors_fail_at_once_with_the_api_reason(server):
    url, state = server
    state.failures = [(400, {})]
    with pytest.raises(WeatherApiError, match=r"HTTP 400\): stand-in 400") as exc:
        _client(url, sleeps=[]).daily(40.4, -3.7, START, END)
    assert exc.value.status == 400 and len(state.requests) == 1


def test_fetch_to_landing_writes_a_valid_weather_file(server, settings):
    url, _ = server
    stores = [
        StoreLocation("S01", 40.4, -3.7, "Europe/Madrid"),
        {"store_id": "S02", "latitude": 52.5, "longitude": 13.4, "timezone": "Europe/Berlin"},
        {"store_id": "S03", "latitude": None, "longitude": None},
    ]
    path = fetch_to_landing(settings, stores, START, END, client=_client(url))
    assert path.parent == settings.landing_dir / "weather" and path.suffix == ".csv"
    report = validate_raw(read_file(path), settings.source("weather"), today=END)
    assert report.errors == [] and len(report.rows) == 6
    assert report.rows.iloc[0].to_dict() == {
        "date": "2026-03-01",
        "store_id": "S01",
        "temperature": "10.5",
        "precipitation": "0.0",
        "humidity": "70.0",
        "wind_speed": "12.1",
        "weather_condition_code": "3",
    }


def test_config_comes_from_settings(settings):
    cfg = WeatherApiConfig.from_settings(settings)
    assert cfg.base_url.startswith("https://") and cfg.retries == settings.get("weather_api.retries")
