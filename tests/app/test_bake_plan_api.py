"""GET /api/v1/bake-plan over HTTP against a real server: the plan per product with the forecast and quantiles
behind each quantity, its reason and degradation, the same auth and store scoping as the other endpoints, and the
OpenAPI document."""

from __future__ import annotations

import requests

from tests.app.test_api_http import get, token

TOMORROW = "2026-05-01"  # the sample home's forecasts are as of 2026-04-30


def test_a_manager_gets_the_plan_of_their_store_per_product(live):
    r = get(live, "/api/v1/bake-plan", token(live, "mgr"), store_id="S01")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["store_id"] == "S01" and body["date"] == TOMORROW and body["as_of"] == "2026-04-30"
    assert body["model_version"] == "3" and len(body["items"]) == 4
    forecasts = get(live, "/api/v1/forecasts", token(live, "mgr"), store_id="S01", horizon=1).json()["items"]
    yhat = {f["product_id"]: f["yhat"] for f in forecasts}
    for item in body["items"]:
        assert item["forecast"] == yhat[item["product_id"]] and item["name"]
        levels = sorted(item["quantiles"], key=float)
        assert float(levels[0]) <= 0.1 and float(levels[-1]) >= 0.95
        values = [item["quantiles"][k] for k in levels]
        assert values == sorted(values)
        assert item["quantity"] >= 0 and item["quantity"] == item["batches"] * item["batch_size"]
        assert item["quantity"] >= item["quantile"] - item["carried_over"] - 1e-9
        assert 0.5 < item["quantile_level"] < 1 and item["cost_source"] == "product"
        assert "previsión" in item["reason"] and item["override"] is None
    # The first product keeps two days and the store has no stock record: its carry-over is unknown, and it says so.
    first = body["items"][0]
    assert first["degraded"] and first["degraded_reason"].startswith("sin inventario")
    assert body["degraded"] and body["degraded_reason"] == first["degraded_reason"]
    assert not any(i["degraded"] for i in body["items"][1:])


def test_a_day_without_a_plan_is_an_empty_plan_not_an_error(live):
    r = get(live, "/api/v1/bake-plan", token(live, "ana"), store_id="S02", date="2026-06-01")
    assert (
        r.status_code == 200
        and r.json()["items"] == []
        and "no bake plan for 2026-06-01" in r.json()["message"]
    )
    r = get(live, "/api/v1/bake-plan", token(live, "ana"), store_id="S02", date=TOMORROW)
    assert r.status_code == 200 and len(r.json()["items"]) == 4


def test_bake_plan_auth_and_scoping(live):
    assert get(live, "/api/v1/bake-plan", store_id="S01").status_code == 401
    assert get(live, "/api/v1/bake-plan", "not-a-token", store_id="S01").status_code == 401
    tok = token(live, "mgr")
    other = get(live, "/api/v1/bake-plan", tok, store_id="S02")
    ghost = get(live, "/api/v1/bake-plan", tok, store_id="S99")
    assert other.status_code == ghost.status_code == 403
    assert other.json()["error"]["message"] == ghost.json()["error"]["message"]
    for params, name in (
        ({}, "store_id"),
        ({"store_id": "S01", "date": "2026-13-01"}, "date"),
        ({"store_id": "S0 1"}, "store_id"),
        ({"store_id": "S01", "store": "S02"}, "store"),
    ):
        r = get(live, "/api/v1/bake-plan", tok, **params)
        assert r.status_code == 422 and r.json()["error"]["parameter"] == name, (params, r.text)


def test_bake_plan_is_in_the_openapi_document(live):
    spec = requests.get(f"{live.url}/api/v1/openapi.json", timeout=10).json()
    op = spec["paths"]["/api/v1/bake-plan"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert params["store_id"]["required"] is True and params["date"]["schema"]["format"] == "date"
    assert {"200", "401", "403", "422"} <= set(op["responses"])
    item = spec["components"]["schemas"]["BakePlanItem"]["properties"]
    assert {"quantity", "forecast", "quantiles", "reason", "override", "degraded", "degraded_reason"} <= set(
        item
    )


def test_the_plan_carries_the_managers_override_of_a_product(live):
    """An override saved on the Hornear hoy page is in the API's plan: {quantity, reason_code, note, by, at} on its
    product, null on the others; the schema says so."""
    from datetime import date

    from bakery.app.auth import Principal
    from bakery.app.overrides import OverrideRequest, save_override
    from bakery.decisions.overrides import load_override_rules

    before = get(live, "/api/v1/bake-plan", token(live, "mgr2"), store_id="S02").json()["items"]
    target = before[-1]
    req = OverrideRequest(
        "S02",
        target["product_id"],
        date.fromisoformat(TOMORROW),
        target["quantity"],
        "0",
        "supplier",
        "sin harina",
        confirmed=True,
    )
    mgr2 = Principal("mgr2", "manager", frozenset({"S02"}))
    save_override(live.settings, live.ctx.db, mgr2, req, load_override_rules(live.settings.conf_dir))
    for user in ("mgr2", "ana"):
        items = get(live, "/api/v1/bake-plan", token(live, user), store_id="S02").json()["items"]
        changed = {i["product_id"]: i["override"] for i in items if i["override"] is not None}
        assert list(changed) == [target["product_id"]]
        got = changed[target["product_id"]]
        assert {k: got[k] for k in ("quantity", "reason_code", "note", "by")} == {
            "quantity": 0,
            "reason_code": "supplier",
            "note": "sin harina",
            "by": "mgr2",
        }
        assert got["at"].endswith("+00:00")
        assert (
            next(i for i in items if i["product_id"] == target["product_id"])["quantity"]
            == target["quantity"]
        )
    spec = requests.get(f"{live.url}/api/v1/openapi.json", timeout=10).json()["components"]["schemas"]
    assert spec["BakeOverride"]["required"] == ["quantity", "reason_code", "note", "by", "at"]
    assert spec["BakeOverride"]["properties"]["reason_code"]["enum"] == [
        "event",
        "weather",
        "supplier",
        "other",
    ]
