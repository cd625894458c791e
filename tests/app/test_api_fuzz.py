"""Property-based fuzzing of the HTTP API against its OpenAPI document (schemathesis), on a real server.

BAKERY_API_FUZZ_EXAMPLES sets the examples per operation (30 here; bench/fuzz_api.py runs many more)."""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.app.conftest import PASSWORDS

pytestmark = pytest.mark.slow  # hundreds of requests: `make test` runs these, not test-fast


@pytest.fixture(scope="module")
def api_schema(live):
    return schemathesis.openapi.from_url(f"{live.url}/api/v1/openapi.json")


@pytest.fixture(scope="module")
def bearer(live) -> dict[str, str]:
    r = requests.post(
        f"{live.url}/api/v1/auth/token", json={"username": "ana", "password": PASSWORDS["ana"]}, timeout=10
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
def revocable(live) -> dict[str, str]:
    """POST /auth/revoke ends every token of its caller: it gets another user's, not the one the rest use."""
    r = requests.post(
        f"{live.url}/api/v1/auth/token", json={"username": "mgr", "password": PASSWORDS["mgr"]}, timeout=10
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("BAKERY_API_FUZZ_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_its_openapi_document(case, bearer, revocable):
    """Every response has a documented status, content type and body shape; no 5xx; bad input is refused.

    An upload whose content fails validation is a documented 422 even when the request itself is well-formed,
    so `positive_data_acceptance` does not apply to POST /uploads (random bytes are not a sales file).
    A negative case that leaves out the bearer token is made valid by the token this test sends (its other
    mutation, if any, may be one the HTTP client drops, such as a query parameter with an empty name), so
    `negative_data_rejection` does not apply to it; 401 without a token is tested in test_api_http.
    """
    excluded = [positive_data_acceptance] if case.path == "/api/v1/uploads" else []
    if "Authorization" not in (case.headers or {}) or "" in (case.query or {}):
        excluded.append(negative_data_rejection)
    headers = revocable if case.path == "/api/v1/auth/revoke" else bearer
    case.call_and_validate(headers=headers, excluded_checks=excluded)
