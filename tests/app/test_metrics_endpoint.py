"""GET /metrics over HTTP: the Prometheus exposition for the configured scrapers, 404 for anyone else."""

from __future__ import annotations

from datetime import date

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.app.conftest import LiveServer, build_app, make_home


def _families(text: str) -> dict[str, list]:
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


@pytest.fixture
def live(tmp_path, request):
    settings = make_home(tmp_path)
    srv = LiveServer(build_app(settings, overrides=getattr(request, "param", None)), settings)
    srv.thread.start()
    yield srv
    srv.server.shutdown()


def test_a_loopback_scraper_reads_latency_answers_and_freshness(live):
    assert requests.get(f"{live.url}/api/v1/stores", timeout=30).status_code == 401
    assert requests.get(f"{live.url}/api/v1/health", timeout=30).status_code == 200
    r = requests.get(f"{live.url}/metrics", timeout=30)
    assert r.status_code == 200, r.text
    families = _families(r.text)
    answers = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in families["bakery_http_responses"]
        if s.name == "bakery_http_responses_total"
    }
    assert answers[("/api/v1/stores", "4xx")] >= 1 and answers[("/api/v1/health", "2xx")] >= 1
    buckets = [s for s in families["bakery_http_request_duration_seconds"] if s.name.endswith("_bucket")]
    assert {s.labels["route"] for s in buckets} >= {"/api/v1/health", "/api/v1/stores"}
    # Freshness from the home's tables: the sample forecasts' as-of date against today.
    fresh = live.ctx.serving.freshness()
    ages = {s.labels["data"]: s.value for s in families["bakery_data_age_days"]}
    expected = (date.today() - date.fromisoformat(fresh["latest_forecast_as_of"])).days
    assert ages["forecast"] == expected


@pytest.mark.parametrize("live", [{"metrics": {"allow": []}}], indirect=True)
def test_anyone_not_allowed_gets_404_and_a_token_opens_it(live, monkeypatch):
    assert requests.get(f"{live.url}/metrics", timeout=30).status_code == 404
    monkeypatch.setenv("BAKERY_METRICS_TOKEN", "scrape-secret-0123")
    wrong = requests.get(f"{live.url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=30)
    assert wrong.status_code == 404
    right = requests.get(
        f"{live.url}/metrics", headers={"Authorization": "Bearer scrape-secret-0123"}, timeout=30
    )
    assert right.status_code == 200 and "bakery_http_request_duration_seconds" in right.text


def test_a_bad_allow_entry_stops_the_app_naming_it(tmp_path):
    settings = make_home(tmp_path)
    with pytest.raises(ValueError, match=r"metrics.allow\[1\]: 'not-an-ip'"):
        build_app(settings, overrides={"metrics": {"allow": ["127.0.0.1", "not-an-ip"]}})
