"""GET /metrics: the app's operational metrics in the Prometheus text format.

Request latency (a histogram per route and method) and answers by status class come from every worker
process: gunicorn's workers share them through prometheus_client's multiprocess mode (`prepare_multiprocess`,
called before the workers start). Data and forecast freshness and the last run of each nightly step are read
from the lakehouse when a scraper asks. The endpoint answers the configured scrapers only (`metrics.allow`
networks, or a bearer token from the `metrics.token_env` variable); anyone else gets 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import flask
from flask import g, request

from bakery.app.context import AppContext

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds; a page load is a handful of callbacks, an upload validation up to tens of seconds.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_instruments: dict[str, Any] = {}


def prepare_multiprocess(directory: Path) -> None:
    """Share the workers' counters through `directory` (emptied: values of a previous server would be summed
    in). Must run before prometheus_client is imported; an environment that sets the variable already wins."""
    if os.environ.get(MULTIPROC_ENV):
        return
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROC_ENV] = str(directory)


def _metrics() -> dict[str, Any]:
    """This process's instruments, made once (a test process builds many apps)."""
    if not _instruments:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        registry = CollectorRegistry(auto_describe=True)
        _instruments["registry"] = registry
        _instruments["latency"] = Histogram(
            "bakery_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=BUCKETS,
            registry=registry,
        )
        _instruments["responses"] = Counter(
            "bakery_http_responses_total",
            "HTTP answers by route template and status class (2xx, 3xx, 4xx, 5xx).",
            ["route", "status"],
            registry=registry,
        )
        _instruments["malloc_trims"] = Counter(
            "bakery_malloc_trims_total",
            "Times a worker handed the memory glibc malloc held free back to the system "
            "(server.malloc_trim_every_requests), by whether any was released.",
            ["released"],
            registry=registry,
        )
    return _instruments


def count_malloc_trim(released: bool) -> None:
    """Count one malloc_trim call of this process (see bakery.app.server.memory.MallocTrimmer)."""
    _metrics()["malloc_trims"].labels("yes" if released else "no").inc()


def _route() -> str:
    """The matched route template (bounded: never the raw path, which a client chooses)."""
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


class FreshnessCollector:
    """Gauges read from the lakehouse at scrape time: forecast and data age, each source's last arrival,
    the last run of each nightly step."""

    def __init__(self, ctx: AppContext, today: date | None = None) -> None:
        self.ctx = ctx
        self.today = today

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        today = self.today or datetime.now(UTC).date()
        fresh = self.ctx.serving.freshness()
        ages = GaugeMetricFamily(
            "bakery_data_age_days",
            "Days from the latest forecast's as-of date and the latest sales day to today.",
            labels=["data"],
        )
        for name, key in (("forecast", "latest_forecast_as_of"), ("sales", "latest_sales_date")):
            if fresh.get(key):
                ages.add_metric([name], float((today - date.fromisoformat(fresh[key])).days))
        yield ages
        now = datetime.now(UTC).replace(tzinfo=None)
        arrivals = GaugeMetricFamily(
            "bakery_source_age_seconds",
            "Seconds since each source's latest landing file was taken into bronze.",
            labels=["source"],
        )
        for source, at in sorted(self.ctx.serving.source_arrivals().items()):
            arrivals.add_metric([source], max(0.0, (now - at.replace(tzinfo=None)).total_seconds()))
        yield arrivals
        ok = GaugeMetricFamily(
            "bakery_last_run_success",
            "1 when the latest run of a step succeeded, 0 when it failed.",
            labels=["job"],
        )
        started = GaugeMetricFamily(
            "bakery_last_run_started_timestamp_seconds",
            "When the latest run of a step started.",
            labels=["job"],
        )
        runs = self.ctx.serving.runs()
        if len(runs):
            finished = runs[runs["status"] != "running"]
            for job, row in finished.groupby("job").head(1).set_index("job").iterrows():
                ok.add_metric([str(job)], 1.0 if row["status"] == "success" else 0.0)
                started.add_metric([str(job)], row["started"].replace(tzinfo=UTC).timestamp())
        yield ok
        yield started


def _allowed(ctx: AppContext) -> bool:
    from bakery.app.server.security import client_ip

    token = os.environ.get(str(ctx.conf.get("metrics.token_env", "BAKERY_METRICS_TOKEN")), "")
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:
        addr = ipaddress.ip_address(client_ip())
    except ValueError:
        return False
    return any(addr in net for net in ctx.metrics_clients)


def scrape(ctx: AppContext) -> bytes:
    """The text exposition: every worker's request metrics, then the freshness gauges."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Own())
    registry.register(FreshnessCollector(ctx))
    return generate_latest(registry)


class _Own:
    """This process's instruments, when the workers do not share them (one process, e.g. tests)."""

    def collect(self) -> Iterator[Any]:
        yield from _metrics()["registry"].collect()


def install(server: flask.Flask, ctx: AppContext) -> None:
    """Time every request, and serve GET /metrics to the configured scrapers."""
    from prometheus_client import CONTENT_TYPE_LATEST

    ctx.metrics_clients  # a bad metrics.allow entry stops the app at start-up  # noqa: B018
    instruments = _metrics()

    @server.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @server.after_request
    def _observe(resp: flask.Response) -> flask.Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            route = _route()
            instruments["latency"].labels(route, request.method).observe(time.perf_counter() - started)
            instruments["responses"].labels(route, f"{resp.status_code // 100}xx").inc()
        return resp

    @server.get("/metrics", provide_automatic_options=False)
    def metrics() -> flask.Response:
        if not _allowed(ctx):
            return flask.Response("not found", status=404, mimetype="text/plain")
        return flask.Response(scrape(ctx), mimetype=CONTENT_TYPE_LATEST)
