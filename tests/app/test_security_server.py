"""`bakery app` under gunicorn with two worker processes: the login throttle is shared by the workers, the
server does not name itself, and each worker trims glibc malloc's free memory."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bakery.app.appconf import load_app_config
from tests.app.test_cli import bakery_app
from tests.app.test_server_memory import glibc_only

pytestmark = pytest.mark.slow  # gunicorn with two workers per test: `make test` runs these, not test-fast


def test_two_workers_share_the_client_limit_and_hide_the_server_name(app_settings):
    with bakery_app(app_settings.home) as url:  # conf/app.yml: two gunicorn workers
        health = requests.get(f"{url}/api/v1/health", timeout=10)
        assert health.status_code == 200 and "Server" not in health.headers

        def attempt(i: int) -> int:
            body = {"username": f"guess-{i}", "password": "x"}
            return requests.post(f"{url}/api/v1/auth/token", json=body, timeout=60).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = Counter(pool.map(attempt, range(60)))
    # conf/app.yml: 30 attempts a minute from one client, whichever worker answers (each its own 30 before)
    assert set(statuses) == {401, 429} and statuses[401] <= 30


def _samples(text: str, name: str) -> dict[tuple, float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def test_metrics_count_every_workers_requests(app_settings):
    key = (("method", "GET"), ("route", "/api/v1/health"))
    with bakery_app(app_settings.home) as url:  # two gunicorn workers, each with its own counters in memory
        before = _samples(
            requests.get(f"{url}/metrics", timeout=30).text, "bakery_http_request_duration_seconds_count"
        )
        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = Counter(
                pool.map(lambda _: requests.get(f"{url}/api/v1/health", timeout=30).status_code, range(40))
            )
        assert codes == {200: 40}
        scraped = requests.get(f"{url}/metrics", timeout=30)
    assert scraped.status_code == 200 and scraped.headers["Content-Type"].startswith("text/plain")
    counts = _samples(scraped.text, "bakery_http_request_duration_seconds_count")
    assert counts[key] - before.get(key, 0) == 40, (before, counts)
    ages = _samples(scraped.text, "bakery_data_age_days")
    assert {dict(k)["data"] for k in ages} == {"forecast", "sales"}, ages


@glibc_only
def test_each_worker_trims_malloc_as_configured(app_settings):
    """server.malloc_trim_every_requests reaches the gunicorn workers `bakery app` forks: after enough requests
    that every worker must have passed its count, /metrics shows the trims they made."""
    every = load_app_config(app_settings).get("server.malloc_trim_every_requests")
    workers = load_app_config(app_settings).get("server.workers")
    assert every, "conf/app.yml no longer trims: this test has nothing to check"
    with bakery_app(app_settings.home) as url:
        with ThreadPoolExecutor(max_workers=4) as pool:
            codes = Counter(
                pool.map(
                    lambda _: requests.get(f"{url}/api/v1/health", timeout=30).status_code,
                    range(every * workers),
                )
            )
        scraped = requests.get(f"{url}/metrics", timeout=30).text
    assert codes == {200: every * workers}
    trims = _samples(scraped, "bakery_malloc_trims_total")
    assert sum(trims.values()) >= 1, trims
