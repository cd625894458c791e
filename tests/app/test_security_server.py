"""`bakery app` under gunicorn with two worker processes: the login throttle is shared by the workers, and the
server does not name itself."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.app.test_cli import bakery_app


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
