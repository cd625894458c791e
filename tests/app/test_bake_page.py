"""Hornear hoy: the manager's own store's plan, biggest quantities first, with trays, the forecast behind each
quantity and why they differ; another store is refused; no plan says when it comes."""

from __future__ import annotations

import io
import json

import pandas as pd
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


def test_the_plan_prints_on_one_page_for_the_own_store_only(dash_app):
    """The sheet for the bakery wall: one page, the store and day, every product with its quantity, the biggest
    first, in the user's language; another store gets the same refusal as for the CSV."""
    from pypdf import PdfReader

    from tests.app.conftest import PASSWORDS, DashClient

    client = DashClient(dash_app)
    client.login("mgr", PASSWORDS["mgr"])
    got = client.client.get("/download/bake-plan/S01.pdf")
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    pdf = PdfReader(io.BytesIO(got.get_data()))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    ctx = dash_app.server.extensions["bakery"]
    plan = ctx.serving.bake_plan("S01").sort_values(["quantity", "product_id"], ascending=[False, True])
    names = ctx.serving.product_names()
    assert "Hornear hoy" in text and "S01" in text and "Plan para el" in text and "Por qué" in text
    lines = text.splitlines()
    where = [next(i for i, line in enumerate(lines) if line.startswith(names[p])) for p in plan["product_id"]]
    assert where == sorted(where)  # the biggest quantity first
    for r in plan.itertuples():
        assert any(line.startswith(names[r.product_id]) and f" {int(r.quantity)} " in line for line in lines)
    assert client.client.get("/download/bake-plan/S02.pdf").status_code == 403
    assert client.client.get("/download/bake-plan/S99.pdf").status_code == 403
    client.client.set_cookie("bakery_lang", "en")
    english = PdfReader(io.BytesIO(client.client.get("/download/bake-plan/S01.pdf").get_data()))
    assert "Bake today" in english.pages[0].extract_text()


def test_a_long_plan_with_any_characters_still_prints(ctx):
    """Thirty products on one page; characters the PDF font lacks are spelt out or replaced, never an error."""
    from pypdf import PdfReader

    from bakery.app.exports import bake_plan_pdf

    plan = ctx.serving.bake_plan("S01")
    many = pd.concat([plan.assign(product_id=plan["product_id"] + f"-{i}") for i in range(8)]).head(30)
    names = {p: f"Pan nº {i} – con ñ, €, ★" for i, p in enumerate(many["product_id"])}
    pdf = PdfReader(io.BytesIO(bake_plan_pdf(many, names, "Panadería Ávila (S01)", "es")))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert "Panadería Ávila" in text and "Pan nº 0 - con ñ, EUR, ?" in text and text.count("Pan nº") == 30


SAVE = [
    ("bake-ov-message", "children"),
    ("bake-plan", "children"),
    ("bake-ov-confirm-row", "style"),
    ("bake-ov-quantity", "value"),
    ("bake-ov-note", "value"),
    ("bake-ov-confirm", "value"),
]


def _save(
    client, store: str, product: str, quantity: str, note: str = "", confirm: bool = False, reason="event"
):
    """Press "Guardar el cambio" the way the browser does: the form's values go as the callback's state."""
    return client.call(
        SAVE,
        [("bake-ov-save", "n_clicks", 1)],
        [
            ("bake-store", "value", store),
            ("bake-ov-product", "value", product),
            ("bake-ov-quantity", "value", quantity),
            ("bake-ov-reason", "value", reason),
            ("bake-ov-note", "value", note),
            ("bake-ov-confirm", "value", ["yes"] if confirm else []),
        ],
    )


def test_a_manager_overrides_a_quantity_confirming_a_large_change(dash_app):
    """Over the Dash callback endpoint: a negative quantity is refused naming the field, a change 3x the plan asks
    for a note and a confirmation first, then the card shows the new quantity with the plan's struck beside it,
    who changed it and why; the change is in the app database, the audit log and the landing zone."""
    from sqlalchemy import select

    from bakery.app import audit
    from bakery.app.db import BakeOverride
    from tests.app.conftest import DashClient

    ctx = dash_app.server.extensions["bakery"]
    plan = ctx.serving.bake_plan("S01")
    row = plan.iloc[0]
    far = str(int(3 * row.quantity + 3))
    client = DashClient(dash_app)
    client.login("mgr")

    def texts(resp) -> tuple[str, dict]:
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()["response"]
        return json.dumps(body, ensure_ascii=False), body

    text, body = texts(_save(client, "S01", row.product_id, "-3"))
    assert "Cantidad: no puede ser negativa" in text and body["bake-ov-message"]["children"]
    text, _ = texts(_save(client, "S01", row.product_id, "abc"))
    assert "Cantidad: «abc» no es un número" in text
    text, body = texts(_save(client, "S01", row.product_id, far))
    assert "Nota:" in text and "muy lejos del plan" in text
    assert body["bake-ov-confirm-row"]["style"] == {}  # the confirmation shows
    text, _ = texts(_save(client, "S01", row.product_id, far, note="feria en la plaza"))
    assert "Marque la confirmación" in text
    with ctx.db.session() as s:
        assert s.scalars(select(BakeOverride)).all() == []  # nothing saved until confirmed

    text, body = texts(_save(client, "S01", row.product_id, far, note="feria en la plaza", confirm=True))
    assert f"pasa de {int(row.quantity)} a {far}" in text
    assert body["bake-ov-quantity"]["value"] == "" and body["bake-ov-confirm"]["value"] == []
    card = next(
        c
        for c in body["bake-plan"]["children"]["props"]["children"][-1]["props"]["children"]
        if c["props"]["id"]["product"] == row.product_id
    )
    shown = json.dumps(card, ensure_ascii=False)
    assert f"Hornear {far}" in shown and f"Plan {int(row.quantity)}" in shown
    assert '"type": "S"' in shown  # the plan's quantity struck
    assert "Cambiado por mgr · Evento" in shown and "feria en la plaza" in shown

    with ctx.db.session() as s:
        saved = s.scalars(select(BakeOverride)).one()
    assert (saved.store_id, saved.product_id, saved.quantity, saved.plan_quantity) == (
        "S01",
        row.product_id,
        float(far),
        float(row.quantity),
    )
    assert saved.username == "mgr" and saved.reason_code == "event" and saved.note == "feria en la plaza"
    records, _ = audit.query(ctx.db, audit.AuditQuery(action="bake.override"))
    assert len(records) == 1 and records[0]["actor"] == "mgr"
    assert records[0]["detail"]["quantity"] == float(far) and records[0]["detail"]["override_id"] == saved.id
    landed = list((ctx.settings.landing_dir / "overrides").glob("app_override_S01_*.csv"))
    assert [p.relative_to(ctx.settings.landing_dir).as_posix() for p in landed] == [
        records[0]["detail"]["file"]
    ]
    header, line = landed[0].read_text(encoding="utf-8").strip().splitlines()
    assert header.startswith("override_id,store_id,product_id,date") and line.startswith(f"{saved.id},S01,")

    # The downloaded plan carries the change beside the plan's quantity.
    sheet = client.client.get("/download/bake-plan/S01.csv").get_data().decode("utf-8-sig").splitlines()
    assert sheet[0].endswith(",cambio,cambio_motivo,cambio_por,cambio_nota")
    changed = next(line for line in sheet if line.startswith(f"{row.product_id},"))
    assert changed.endswith(f",{far}.0,event,mgr,feria en la plaza")

    # Another store's plan cannot be changed, and nothing is written.
    other = ctx.serving.bake_plan("S02").iloc[0]
    refused = _save(client, "S02", other.product_id, "5")
    assert refused.status_code == 403
    with ctx.db.session() as s:
        assert len(s.scalars(select(BakeOverride)).all()) == 1


def test_a_later_override_replaces_the_earlier_and_the_page_without_overrides_is_unchanged(dash_app):
    from tests.app.conftest import DashClient

    ctx = dash_app.server.extensions["bakery"]
    row = ctx.serving.bake_plan("S01").iloc[1]
    client = DashClient(dash_app)
    client.login("admin")
    plain = bake_page.plan_view(ctx, Principal("admin", "admin", frozenset(), 1), "es", "S01")
    assert "Cambiado por" not in _text(plain)
    near = str(int(row.quantity) + 1)
    for quantity, reason in ((near, "weather"), (str(int(row.quantity)), "supplier")):
        resp = _save(client, "S01", row.product_id, quantity, reason=reason)
        assert resp.status_code == 200 and "Guardado" in resp.get_data(as_text=True)
    view = _text(bake_page.plan_view(ctx, MGR, "en", "S01"))
    assert "Changed by admin · Supplier" in view and "Weather" not in view
