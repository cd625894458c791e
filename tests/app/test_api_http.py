"""The HTTP API against a real running server: login, tokens, 401/403/422, scoping, uploads, downloads."""

from __future__ import annotations

import http.client
import io
import re
import shutil
from datetime import date, timedelta

import pytest
import requests
from deltalake import DeltaTable

from bakery.app import audit
from bakery.app.freshness import run_date
from tests.app.conftest import PASSWORDS, LiveServer, build_app, make_home
from tests.app.sample_tables import write_sample_tables


def token(live, user: str) -> str:
    r = requests.post(
        f"{live.url}/api/v1/auth/token", json={"username": user, "password": PASSWORDS[user]}, timeout=10
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    return body["access_token"]


def get(live, path: str, tok: str | None = None, **params):
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    return requests.get(f"{live.url}{path}", params=params, headers=headers, timeout=30)


def test_health_needs_no_auth_and_reports_freshness(live):
    r = get(live, "/api/v1/health")
    assert r.status_code == 200
    # The sample data ends on 2026-04-30, long before the run date: the health answer says the forecast is stale.
    data = r.json()["data"]
    assert data["forecast_days_old"] == (run_date() - date(2026, 4, 30)).days
    assert data == {
        "latest_sales_date": "2026-04-30",
        "latest_forecast_as_of": "2026-04-30",
        "forecast_stores": 2,
        "forecast_stale": True,
        "forecast_days_old": data["forecast_days_old"],
        "forecast_degraded": False,
    }
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_token_by_form_and_bad_credentials(live):
    r = requests.post(
        f"{live.url}/api/v1/auth/token", data={"username": "ana", "password": PASSWORDS["ana"]}, timeout=10
    )
    assert r.status_code == 200 and r.json()["access_token"]
    r = requests.post(
        f"{live.url}/api/v1/auth/token", json={"username": "ana", "password": "wrong"}, timeout=10
    )
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    r = requests.post(f"{live.url}/api/v1/auth/token", json={"username": "ana"}, timeout=10)
    assert r.status_code == 422 and r.json()["error"]["parameter"] == "password"


@pytest.mark.parametrize("path", ["/api/v1/stores", "/api/v1/forecasts", "/api/v1/sales"])
def test_missing_or_bad_token_is_401(live, path):
    assert get(live, path).status_code == 401
    assert get(live, path, "not-a-token").status_code == 401
    r = requests.get(f"{live.url}{path}", headers={"Authorization": "Basic YW5hOng="}, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["status"] == 401


def test_stores_are_scoped(live):
    assert [s["store_id"] for s in get(live, "/api/v1/stores", token(live, "mgr")).json()["items"]] == ["S01"]
    assert [s["store_id"] for s in get(live, "/api/v1/stores", token(live, "ana")).json()["items"]] == [
        "S01",
        "S02",
    ]


def test_forecasts_with_intervals_and_model_version(live):
    tok = token(live, "mgr")
    r = get(live, "/api/v1/forecasts", tok, store_id="S01", product_id="P001", horizon=1)
    body = r.json()
    assert r.status_code == 200 and body["as_of"] == "2026-04-30" and body["total"] == 1
    assert body["stale"] is True and body["degraded"] is False
    assert body["reason"].startswith("made with data up to 2026-04-30")
    item = body["items"][0]
    assert item["date"] == "2026-05-01" and item["horizon"] == 1 and item["role"] == "champion"
    assert item["yhat_lower"] <= item["yhat"] <= item["yhat_upper"] and item["model_version"] == "3"
    all_mine = get(live, "/api/v1/forecasts", tok).json()
    assert {i["store_id"] for i in all_mine["items"]} == {"S01"} and all_mine["total"] == 4 * 28
    paged = get(live, "/api/v1/forecasts", tok, limit=10, offset=100).json()
    assert paged["count"] == 10 and paged["offset"] == 100
    dated = get(live, "/api/v1/forecasts", tok, date="2026-05-07").json()
    assert {i["horizon"] for i in dated["items"]} == {7}
    challenger = get(live, "/api/v1/forecasts", token(live, "ana"), store_id="S02", role="challenger").json()
    assert {i["model_version"] for i in challenger["items"]} == {"4"}


def test_manager_asking_for_another_store_gets_403_either_way(live):
    tok = token(live, "mgr")
    for path in ("/api/v1/forecasts", "/api/v1/sales"):
        other = get(live, path, tok, store_id="S02")
        ghost = get(live, path, tok, store_id="S404")
        assert other.status_code == ghost.status_code == 403
        assert other.json() == ghost.json()
    denied, _ = audit.query(live.ctx.db, audit.AuditQuery(action="access.denied", actor="mgr"))
    assert {(d["target"], d["detail"]["method"]) for d in denied} >= {
        ("/api/v1/forecasts", "GET"),
        ("/api/v1/sales", "GET"),
    }
    scoped = [d for d in denied if d["target"] in ("/api/v1/forecasts", "/api/v1/sales")]
    assert len(scoped) == 4 and all(not d["success"] and d["ip"] == "127.0.0.1" for d in scoped)
    assert {d["detail"]["reason"] for d in scoped} == {"this store is outside your scope"}
    assert get(live, "/api/v1/forecasts", token(live, "ana"), store_id="S404").json()["items"] == []


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"horizon": "0"}, "horizon"),
        ({"horizon": "x"}, "horizon"),
        ({"horizon": "29"}, "horizon"),
        ({"date": "2026-13-01"}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"store_id": "S 01"}, "store_id"),
        ({"role": "boss"}, "role"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"offset": "-1"}, "offset"),
    ],
)
def test_bad_parameters_get_422_naming_them(live, params, name):
    r = get(live, "/api/v1/forecasts", token(live, "ana"), **params)
    assert (
        r.status_code == 422
        and r.json()["error"]["parameter"] == name
        and name in r.json()["error"]["message"]
    )


def test_sales_actuals(live):
    tok = token(live, "mgr")
    r = get(
        live, "/api/v1/sales", tok, store_id="S01", product_id="P002", start="2026-04-20", end="2026-04-26"
    )
    items = r.json()["items"]
    assert r.status_code == 200 and len(items) == 7
    closed = [i for i in items if i["status"] == "closed"]
    assert closed and all(i["quantity_sold"] is None for i in closed)  # closed day: no observation, not zero
    assert {i["store_id"] for i in get(live, "/api/v1/sales", tok, limit=50).json()["items"]} == {"S01"}
    empty = get(live, "/api/v1/sales", tok, start="2026-04-30", end="2026-04-01")
    assert empty.status_code == 200 and empty.json()["items"] == []


def test_openapi_document_lists_every_route(live):
    spec = get(live, "/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/api/v1/auth/token",
        "/api/v1/auth/revoke",
        "/api/v1/health",
        "/api/v1/stores",
        "/api/v1/forecasts",
        "/api/v1/sales",
        "/api/v1/bake-plan",
        "/api/v1/uploads",
        "/api/v1/openapi.json",
    }
    rules = {r.rule for r in live.app.server.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert rules == set(spec["paths"])


def test_uploads_are_for_analysts_and_validate(live):
    csv_ok = "date,store_id,product_id,quantity_sold\n2026-03-01,S01,P001,12\n2026-03-02,S01,P001,9\n"
    files = {"file": ("ventas.csv", csv_ok.encode(), "text/csv")}
    r = requests.post(
        f"{live.url}/api/v1/uploads",
        data={"kind": "sales"},
        files=files,
        headers={"Authorization": f"Bearer {token(live, 'mgr')}"},
        timeout=60,
    )
    assert r.status_code == 403
    ana = {"Authorization": f"Bearer {token(live, 'ana')}"}
    r = requests.post(
        f"{live.url}/api/v1/uploads", data={"kind": "sales"}, files=files, headers=ana, timeout=60
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["accepted"] and body["batch_id"].startswith("upl-") and body["totals"]["rows_written"] == 2
    assert list((live.settings.landing_dir / "sales").glob("import_*.parquet"))
    bad = "date,store_id,product_id,quantity_sold\n2030-01-01,S01,P001,-3\n"
    r = requests.post(
        f"{live.url}/api/v1/uploads",
        data={"kind": "sales"},
        files={"file": ("bad.csv", bad.encode(), "text/csv")},
        headers=ana,
        timeout=60,
    )
    assert r.status_code == 422 and not r.json()["accepted"]
    assert {e["column"] for e in r.json()["errors"]} == {"date", "quantity_sold"}
    r = requests.post(
        f"{live.url}/api/v1/uploads", data={"kind": "nope"}, files=files, headers=ana, timeout=60
    )
    assert r.status_code == 422 and r.json()["error"]["parameter"] == "kind"
    r = requests.post(
        f"{live.url}/api/v1/uploads",
        data={"kind": "sales", "mapping": "{oops"},
        files=files,
        headers=ana,
        timeout=60,
    )
    assert r.status_code == 422 and r.json()["error"]["parameter"] == "mapping"


def test_upload_too_large_is_413(live):
    ana = {"Authorization": f"Bearer {token(live, 'ana')}"}
    big = io.BytesIO(b"date,store_id,product_id,quantity_sold\n" + b"2026-03-01,S01,P001,1\n" * (2_600_000))
    r = requests.post(
        f"{live.url}/api/v1/uploads",
        data={"kind": "sales"},
        files={"file": ("big.csv", big)},
        headers=ana,
        timeout=120,
    )
    assert r.status_code == 413


def test_login_form_session_cookie_and_downloads(live):
    s = requests.Session()
    page = s.get(f"{live.url}/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = s.post(
        f"{live.url}/login", data={"username": "ana", "password": "wrong", "csrf_token": csrf}, timeout=10
    )
    assert r.status_code == 401 and "incorrectos" in r.text
    r = s.post(
        f"{live.url}/login",
        data={"username": "ana", "password": PASSWORDS["ana"], "csrf_token": "forged"},
        timeout=10,
    )
    assert r.status_code == 400
    r = s.post(
        f"{live.url}/login",
        data={
            "username": "ana",
            "password": PASSWORDS["ana"],
            "csrf_token": csrf,
            "next": "https://evil.example/",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302 and r.headers["Location"] == "/"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    t = s.get(f"{live.url}/download/template/sales.xlsx", timeout=10)
    assert t.status_code == 200 and t.content.startswith(b"PK")
    t = s.get(f"{live.url}/download/template/sales.csv", timeout=10)
    assert t.text.splitlines()[0] == "date,store_id,product_id,quantity_sold,revenue,promotion_id"
    assert s.get(f"{live.url}/download/template/nope.csv", timeout=10).status_code == 404
    assert s.get(f"{live.url}/download/staging/{'x' * 22}/bad_rows.csv", timeout=10).status_code == 403
    # logging out kills the session
    s.post(f"{live.url}/logout", data={"csrf_token": s.cookies.get("_csrf_token")}, timeout=10)
    assert s.get(f"{live.url}/", allow_redirects=False, timeout=10).status_code == 302


def test_manager_cannot_download_templates(live):
    s = requests.Session()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', s.get(f"{live.url}/login", timeout=10).text).group(
        1
    )
    s.post(
        f"{live.url}/login",
        data={"username": "mgr", "password": PASSWORDS["mgr"], "csrf_token": csrf},
        timeout=10,
    )
    assert s.get(f"{live.url}/download/template/sales.csv", timeout=10).status_code == 403
    assert (
        s.get(f"{live.url}/download/batch/upl-20260101T000000-abcdef/bad_rows.csv", timeout=10).status_code
        == 403
    )


def test_ids_must_match_whole_and_unknown_names_are_echoed_short(live):
    tok = token(live, "ana")
    for path in ("/api/v1/forecasts", "/api/v1/sales"):
        for name, value in (("store_id", "S01\n"), ("product_id", "P001\n")):
            r = get(live, path, tok, **{name: value})
            assert r.status_code == 422 and r.json()["error"]["parameter"] == name, (path, name, r.text)
    name = 'x"\\\n</script><b>' + "y" * 5000
    r = requests.get(
        f"{live.url}/api/v1/stores",
        params={name: "1"},
        headers={"Authorization": f"Bearer {tok}"},
        timeout=30,
    )
    error = r.json()["error"]
    assert r.status_code == 422 and error["parameter"] == name[:40] + "…"
    assert (
        error["message"].startswith(name[:40] + "…: unknown query parameter") and len(error["message"]) < 120
    )
    assert "y" * 41 not in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/dash/../../x.js",
        "/_dash-component-suites/nope/x.js",
        "/_dash-component-suites/dash/deps/nope.js",
    ],
)
def test_unknown_dash_bundles_are_a_plain_404_for_anyone(live, path):
    host, port = live.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path)  # sent as is: no client-side removal of "../"
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    assert resp.status == 404 and "Traceback" not in body and "registered" not in body


def test_an_unexpected_error_is_a_plain_500_and_is_logged(tmp_path, caplog):
    settings = make_home(tmp_path)
    srv = LiveServer(build_app(settings), settings)
    srv.thread.start()
    try:
        for part in (settings.tables_dir / "gold" / "daily_sales").glob("*.parquet"):
            part.unlink()  # a table whose data files are gone: reading it fails on the server
        r = get(srv, "/api/v1/sales", token(srv, "ana"), store_id="S01")
        assert r.status_code == 500 and r.json() == {
            "error": {"status": 500, "message": "internal error (logged)"}
        }
        assert "Traceback" not in r.text
        assert any(rec.exc_info and "/api/v1/sales" in rec.getMessage() for rec in caplog.records)
    finally:
        srv.server.shutdown()
        srv.thread.join(timeout=5)


def test_forecast_of_yesterday_is_current_and_a_lagging_store_makes_it_degraded(tmp_path):
    """Data up to the run date's eve: not stale. A store whose sales stop three days early: degraded, and only
    for the callers who see that store (a one-day gap is the store's closing day: the sample closes Sundays)."""
    settings = make_home(tmp_path / "x")  # the users' database and folders; the tables are replaced below
    shutil.rmtree(settings.tables_dir)
    eve = run_date() - timedelta(days=1)
    write_sample_tables(settings.tables_dir, stores=2, products=2, days=40, end=eve, past_as_of=0)
    DeltaTable(str(settings.tables_dir / "gold" / "daily_sales")).delete(
        f"store_id = 'S02' AND date > '{(eve - timedelta(days=3)).isoformat()}'"
    )
    last_s02 = max(d for d in (eve - timedelta(days=k) for k in range(3, 5)) if d.weekday() != 6)
    srv = LiveServer(build_app(settings, warm=False), settings)
    srv.thread.start()
    try:
        mine = get(srv, "/api/v1/forecasts", token(srv, "mgr")).json()
        assert mine["as_of"] == eve.isoformat()
        assert (mine["stale"], mine["degraded"], mine["reason"]) == (False, False, None)
        theirs = get(srv, "/api/v1/forecasts", token(srv, "mgr2")).json()
        assert theirs["stale"] is False and theirs["degraded"] is True
        assert theirs["reason"] == f"sales of S02 end on {last_s02}, before the forecast's data date"
        health = get(srv, "/api/v1/health").json()["data"]
        assert health["forecast_stale"] is False and health["forecast_degraded"] is True
    finally:
        srv.server.shutdown()
        srv.thread.join(timeout=5)
