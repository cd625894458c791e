"""Mermas y ventas perdidas over real HTTP: an analyst reads the ledger's waste and lost sales in Spanish euros,
per store and over time, and the plan against what was baked; a manager is refused like on any analyst page;
what is missing is said in Spanish."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest
import requests
from deltalake import DeltaTable
from plotly.io.json import to_json_plotly

from bakery.app.auth import Principal
from bakery.app.formatting import fmt_eur, fmt_pct
from bakery.app.pages import waste
from bakery.decisions.compare import compare_totals, plan_vs_actual
from bakery.decisions.overrides import fva_summary
from tests.app.conftest import build_app, callback_body, form_login, make_home

END = date(2026, 4, 30)  # the sample home's last day
OUT = [
    ("waste-kpis", "children"),
    ("waste-graph", "figure"),
    ("waste-stores", "children"),
    ("waste-compare", "children"),
    ("waste-fva", "children"),
]


def _inputs(start=None, end=None, store="__chain__", product=None, measure="eur"):
    return [
        ("waste-range", "start_date", start),
        ("waste-range", "end_date", end),
        ("waste-store", "value", store),
        ("waste-product", "value", product),
        ("waste-measure", "value", measure),
    ]


class HttpUser:
    """A user of the running server: signs in through the form, then calls Dash callbacks over HTTP."""

    def __init__(self, live, username: str) -> None:
        self.live, self.s = live, form_login(live.url, username)

    def call(self, outputs, inputs) -> requests.Response:
        return self.s.post(
            f"{self.live.url}/_dash-update-component",
            json=callback_body(self.live.app, outputs, inputs),
            headers={"X-CSRFToken": self.s.cookies.get("_csrf_token")},
            timeout=60,
        )

    def page(self, path: str) -> str:
        r = self.call(
            [("app-page", "children"), ("app-nav", "children")],
            [("url", "pathname", path), ("url", "search", "")],
        )
        assert r.status_code == 200
        return json.dumps(r.json(), ensure_ascii=False)


def _table(live, name: str) -> pd.DataFrame:
    df = DeltaTable(str(live.settings.tables_dir / "gold" / name)).to_pandas()
    df["date"] = pd.to_datetime(df["date"]).dt.date
    return df


def test_an_analyst_reads_waste_and_lost_sales_in_euros_per_store_and_day(live):
    ana = HttpUser(live, "ana")
    assert ana.s.get(f"{live.url}/waste", timeout=10).status_code == 200
    page = ana.page("/waste")
    assert "page-forbidden" not in page and "Mermas y ventas perdidas" in page and "nav-waste" in page
    r = ana.call(OUT, _inputs())
    assert r.status_code == 200, r.text
    out = r.json()["response"]
    tiles, fig, stores = (
        json.dumps(out[k], ensure_ascii=False) for k in ("waste-kpis", "waste-graph", "waste-stores")
    )
    # the default window is the ledger's last 28 days; the tiles are its sums, the Spanish way
    ledger = _table(live, "ledger")
    window = ledger[ledger["date"] >= END - timedelta(days=27)]
    assert "Del 03/04/2026 al 30/04/2026" in tiles
    assert fmt_eur(window["wasted_eur"].sum(), "es") in tiles and "\u00a0€" in tiles
    assert fmt_eur(window["lost_sales_eur"].sum(), "es") in tiles
    assert fmt_pct(window["wasted"].sum() / window["baked"].sum(), "es") in tiles
    assert "1 día agotado sin estimación de la demanda" in tiles  # a stock-out older than the D+1 forecasts
    # one bar per day for the waste and for the lost sales
    figure = out["waste-graph"]["figure"]
    assert [d["name"] for d in figure["data"]] == ["Mermas", "Ventas perdidas"] and len(
        figure["data"][0]["x"]
    ) == 28
    assert "Panadería Madrid 1" in stores and "Panadería Sevilla 2" in stores and "Mermas (€)" in stores
    # the plan's policy against what was baked, on the days that have both
    plan, lo = _table(live, "bake_plan"), END - timedelta(days=27)
    planned, _ = waste.with_salvage_and_goodwill(live.ctx, plan[(plan["date"] >= lo) & (plan["date"] <= END)])
    expected = compare_totals(plan_vs_actual(planned, window))
    compare = json.dumps(out["waste-compare"], ensure_ascii=False)
    assert "Coste con el plan" in compare and "Coste de lo horneado" in compare and expected["n"] > 0
    assert fmt_eur(expected["plan_cost_eur"], "es") in compare
    assert fmt_eur(expected["actual_cost_eur"], "es") in compare
    assert "salvage" not in compare and "Sin el modelo de costes" not in compare
    # one store, one product, in units: only that store's row, and the chart in units
    r = ana.call(OUT, _inputs("2026-04-20", "2026-04-26", "S02", "P002", "units"))
    one = r.json()["response"]
    assert "Panadería Madrid 1" not in json.dumps(one["waste-stores"], ensure_ascii=False)
    assert one["waste-graph"]["figure"]["layout"]["yaxis"]["title"]["text"] == "Unidades"
    assert len(one["waste-graph"]["figure"]["data"][0]["x"]) == 7


def test_an_analyst_sees_whether_the_managers_changes_to_the_plan_added_value(live):
    ana = HttpUser(live, "ana")
    out = ana.call(OUT, _inputs()).json()["response"]
    fva = json.dumps(out["waste-fva"], ensure_ascii=False)
    scores = _table(live, "override_scores")
    window = scores[scores["date"] >= END - timedelta(days=27)]
    assert len(window) and "¿Mejoran el plan" not in fva  # the card's title is in the layout, not here
    assert fmt_eur(window["fva_eur"].sum(), "es") in fva
    # per manager and per reason, in Spanish, each group's value added as the scores sum it
    for by, label in (
        ("username", {"mgr": "mgr", "mgr2": "mgr2"}),
        ("reason_code", {"event": "Evento", "weather": "Tiempo"}),
    ):
        for r in fva_summary(window, by=by).itertuples(index=False):
            assert label[getattr(r, by)] in fva and fmt_eur(r.fva_eur, "es") in fva
    # one store: only its changes count
    one = ana.call(OUT, _inputs(store="S02")).json()["response"]
    mine = window[window["store_id"] == "S02"]
    assert fmt_eur(mine["fva_eur"].sum(), "es") in json.dumps(one["waste-fva"], ensure_ascii=False)
    # days before any change: said in words
    early = ana.call(OUT, _inputs("2026-03-01", "2026-03-31")).json()["response"]
    assert "Todavía no hay cambios del plan puntuados" in json.dumps(early["waste-fva"], ensure_ascii=False)


def test_a_manager_gets_the_same_refusal_as_on_other_analyst_pages(live):
    mgr = HttpUser(live, "mgr")
    page = mgr.page("/waste")
    assert "page-forbidden" in page and "nav-waste" not in page
    assert mgr.page("/accuracy").count("page-forbidden") == page.count("page-forbidden")
    assert mgr.call(OUT, _inputs(store="S01")).status_code == 403
    assert mgr.call(OUT, _inputs()).status_code == 403


def test_missing_data_is_said_in_spanish(live, tmp_path):
    ana = HttpUser(live, "ana")
    body = json.dumps(ana.call(OUT, _inputs("2020-01-01", "2020-01-31")).json(), ensure_ascii=False)
    assert "No hay datos de mermas para estas fechas" in body and "va del 20/02/2026 al 30/04/2026" in body
    # before the first plan: the ledger shows, the comparison says what it needs
    early = ana.call(OUT, _inputs("2026-03-01", "2026-03-31")).json()["response"]
    assert "No hay plan de horneado para estos días" in json.dumps(early["waste-compare"], ensure_ascii=False)
    # a home that has no ledger yet
    app = build_app(make_home(tmp_path, forecasts=False))
    ctx = app.server.extensions["bakery"]
    analyst = Principal("ana", "analyst", frozenset(), 2)
    head, *_ = waste.waste_view(ctx, analyst, "es", None, None, waste.CHAIN, None, "eur")
    assert "Aún no hay libro de mermas (gold.ledger)" in json.dumps(
        json.loads(to_json_plotly(head)), ensure_ascii=False
    )
    head, *_ = waste.waste_view(ctx, analyst, "en", None, None, waste.CHAIN, None, "eur")
    assert "No waste ledger yet" in json.dumps(json.loads(to_json_plotly(head)))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_euros_read_the_languages_way(lang):
    assert fmt_eur(1234.5, lang) == {"es": "1.234,50\u00a0€", "en": "€1,234.50"}[lang]
