"""Hornear hoy: the manager's own store's plan, biggest quantities first, with trays, the forecast behind each
quantity and why they differ; another store is refused; no plan says when it comes."""

from __future__ import annotations

import json

import pytest
from plotly.io.json import to_json_plotly

from bakery.app.app import build_context
from bakery.app.auth import Forbidden, Principal
from bakery.app.pages import bake as bake_page
from tests.app.sample_tables import write_sample_tables

MGR = Principal("mgr", "manager", frozenset({"S01"}))


def _text(component) -> str:
    return json.dumps(json.loads(to_json_plotly(component)), ensure_ascii=False)


@pytest.fixture
def ctx(settings):
    write_sample_tables(settings.tables_dir, stores=2, products=4, days=70, past_as_of=0)
    return build_context(settings)


def test_the_plan_reads_as_quantities_to_bake_with_their_reasons(ctx):
    plan = ctx.serving.bake_plan("S01")
    assert len(plan) == 4
    view = bake_page.plan_view(ctx, MGR, "es", "S01")
    text = _text(view)
    cards = view.children[-1].children
    names = ctx.serving.product_names()
    biggest = plan.sort_values(["quantity", "product_id"], ascending=[False, True]).iloc[0]
    assert names[biggest.product_id] in _text(cards[0])  # the biggest quantity first
    assert f"Hornear {int(biggest.quantity)}" in _text(cards[0])
    assert "Plan para el" in text and "Previsión" in text and "% de los días" in text
    assert all(r in text for r in plan["reason"])  # why each quantity differs from its forecast
    # S01 had no stock count that day in the sample: the plan says it was made from incomplete data.
    assert "datos incompletos" in text and "sin inventario de ayer" in text


def test_another_store_is_refused_and_no_plan_says_when_it_comes(ctx, settings):
    with pytest.raises(Forbidden):
        bake_page.plan_view(ctx, MGR, "es", "S02")
    admin = Principal("admin", "admin", frozenset(), 1)
    assert "Todavía no hay plan" in _text(bake_page.plan_view(ctx, admin, "es", "S99"))
    assert "Bake" in _text(bake_page.plan_view(ctx, admin, "en", "S02"))


def test_the_plan_downloads_as_csv_for_the_own_store_only(dash_app):
    from tests.app.conftest import PASSWORDS, DashClient

    client = DashClient(dash_app)
    client.login("mgr", PASSWORDS["mgr"])
    got = client.client.get("/download/bake-plan/S01.csv")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    text = got.get_data().decode("utf-8-sig")
    header, *rows = text.strip().splitlines()
    assert header.startswith("producto,nombre,hornear,bandejas") and len(rows) == 4
    assert all(",'+" in r or ",'-" in r or ",igual" in r for r in rows)  # reasons kept as text, not formulas
    assert client.client.get("/download/bake-plan/S02.csv").status_code == 403
    assert client.client.get("/download/bake-plan/S99.csv").status_code == 403  # same answer as a real store
    assert client.client.get("/download/bake-plan/S0%201.csv").status_code == 404  # not a store id
