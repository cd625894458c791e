"""Dashboard render time: the "Forecast accuracy" dashboard on the Cuadros de mando page, served by a real
HTTP server on 127.0.0.1 and loaded as the browser does (page route, filter controls, tiles): the first load
of a freshly started app (cold local engine) and the p95 of 50 loads after it (result cache warm).

Usage: .venv/bin/python bench/dashboards.py [--home HOME] [--stores 6 --products 30 --days 1095] [--loads 50]
Without --home it writes synthetic serving tables of that size (tests/app/sample_tables.py) into a temporary home.
Targets: first render <= 1.5 s and cached p95 <= 300 ms (demo size); <= 3 s first render at 200 stores.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the sample tables are test support (tests/app/sample_tables.py)
sys.path.insert(0, str(ROOT / "src"))
TARGETS = {"first_s": 1.5, "cached_p95_ms": 300.0}
PASSWORD = "bench-password-123"
SLUG = "forecast_accuracy"
SPLIT: dict[str, list[float]] = {}  # server time per callback, to see where a load goes


def _call(s: requests.Session, url: str, output: str, outputs, inputs) -> requests.Response:
    body = {"output": output, "outputs": outputs, "inputs": inputs, "changedPropIds": []}
    r = s.post(
        f"{url}/_dash-update-component",
        json=body,
        headers={"X-CSRFToken": s.cookies.get("_csrf_token", "")},
        timeout=120,
    )
    r.raise_for_status()
    SPLIT.setdefault(output.split(".")[0].strip("."), []).append(r.elapsed.total_seconds() * 1000)
    return r


def load_dashboard(s: requests.Session, url: str) -> None:
    """What opening the page costs: the route, the filter controls, then every tile."""
    _call(
        s,
        url,
        "..app-page.children...app-nav.children..",
        [{"id": "app-page", "property": "children"}, {"id": "app-nav", "property": "children"}],
        [
            {"id": "url", "property": "pathname", "value": "/dashboards"},
            {"id": "url", "property": "search", "value": f"?d={SLUG}"},
        ],
    )
    choice = {"id": "dashboards-choice", "property": "value", "value": SLUG}
    _call(
        s, url, "dashboards-filters.children", {"id": "dashboards-filters", "property": "children"}, [choice]
    )
    r = _call(
        s,
        url,
        "dashboards-tiles.children",
        {"id": "dashboards-tiles", "property": "children"},
        [choice, [], [], []],
    )
    if "dash-error" in r.text or "dash-figure" not in r.text:
        raise SystemExit(f"the dashboard did not render every tile: {r.text[:500]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path)
    ap.add_argument("--stores", type=int, default=6)
    ap.add_argument("--products", type=int, default=30)
    ap.add_argument("--days", type=int, default=1095)
    ap.add_argument("--loads", type=int, default=50)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    os.environ.setdefault("BAKERY_SECRET_KEY", "bench-only-cookie-key-0123456789")
    from tests.app.sample_tables import write_sample_tables

    from bakery.app.accounts import create_user
    from bakery.app.app import create_app
    from bakery.app.appconf import load_app_config
    from bakery.config import load_settings

    home = args.home or Path(tempfile.mkdtemp(prefix="bench-dash-")) / "home"
    settings = load_settings(home=home, conf_dir=ROOT / "conf")
    if args.home is None:
        t0 = time.perf_counter()
        counts = write_sample_tables(
            settings.tables_dir, stores=args.stores, products=args.products, days=args.days
        )
        print(f"synthetic tables {counts} in {time.perf_counter() - t0:.1f}s")
    conf = load_app_config(
        settings, {"auth": {"argon2": {"time_cost": 1, "memory_cost_kib": 1024, "parallelism": 1}}}
    )
    app = create_app(settings, conf=conf)
    user = f"bench{os.getpid()}"  # a home keeps its app.db: a name of this run's own
    create_user(app.server.extensions["bakery"].db, user, "analyst", None, PASSWORD, actor="bench")
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    time.sleep(2)  # as a user arriving after the start: the app's warm-up thread (SQL dialects) has finished
    try:
        s = requests.Session()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', s.get(f"{url}/login", timeout=10).text).group(
            1
        )
        s.post(
            f"{url}/login",
            data={"username": user, "password": PASSWORD, "csrf_token": csrf, "next": "/"},
            timeout=10,
        )
        t0 = time.perf_counter()
        load_dashboard(s, url)
        first = time.perf_counter() - t0
        times = []
        for _ in range(args.loads):
            t0 = time.perf_counter()
            load_dashboard(s, url)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        server.shutdown()
    p95 = statistics.quantiles(times, n=20)[18]
    print(
        f"first render {first:.2f}s (target {TARGETS['first_s']} s, ratio {first / TARGETS['first_s']:.2f})"
    )
    print(
        f"cached p95 {p95:.0f} ms over {args.loads} loads, median {statistics.median(times):.0f} ms "
        f"(target {TARGETS['cached_p95_ms']:.0f} ms, ratio {p95 / TARGETS['cached_p95_ms']:.2f})"
    )
    for name, ms in SPLIT.items():
        print(f"  {name}: median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
