"""The Cuadros de mando page over a real Dash server on 127.0.0.1, through HTTP as a browser calls it: an
analyst gets every tile of every dashboard with data, filters narrow them, a broken tile names its file and
dataset while the others render, and a manager is refused like on any analyst page."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest
import requests

from bakery.config import load_settings
from tests.app.conftest import LiveServer, build_app, form_login, make_home

from .conftest import REPO_DASHBOARDS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    mp = pytest.MonkeyPatch()
    mp.setenv("BAKERY_SECRET_KEY", "test-only-cookie-key-01234567890")
    root = tmp_path_factory.mktemp("dash_live")
    # A conf dir of its own, so its dashboards/ (beside it) can hold a broken copy for one dashboard.
    shutil.copytree(REPO_DASHBOARDS.parent / "conf", root / "conf")
    shutil.copytree(REPO_DASHBOARDS, root / "dashboards")
    settings = make_home(root)
    settings = load_settings(home=settings.home, conf_dir=root / "conf")
    srv = LiveServer(build_app(settings), settings)
    srv.thread.start()
    yield srv
    srv.server.shutdown()
    srv.thread.join(timeout=5)
    mp.undo()


class HttpDash:
    """Logs in through the form and calls Dash callbacks over HTTP, as dash-renderer does."""

    def __init__(self, url: str, user: str) -> None:
        self.url, self.s = url, form_login(url, user)

    def call(self, output: str, inputs: list[dict]) -> requests.Response:
        out_id, prop = output.rsplit(".", 1)
        body = {
            "output": output,
            "outputs": {"id": out_id, "property": prop},
            "inputs": inputs,
            "changedPropIds": [],
        }
        headers = {"X-CSRFToken": self.s.cookies.get("_csrf_token", "")}
        return self.s.post(f"{self.url}/_dash-update-component", json=body, headers=headers, timeout=60)

    def page(self, path: str) -> requests.Response:
        body = {
            "output": "..app-page.children...app-nav.children..",
            "outputs": [
                {"id": "app-page", "property": "children"},
                {"id": "app-nav", "property": "children"},
            ],
            "inputs": [
                {"id": "url", "property": "pathname", "value": path},
                {"id": "url", "property": "search", "value": ""},
            ],
            "changedPropIds": ["url.pathname"],
        }
        headers = {"X-CSRFToken": self.s.cookies.get("_csrf_token", "")}
        return self.s.post(f"{self.url}/_dash-update-component", json=body, headers=headers, timeout=60)

    def tiles(self, slug: str, selects: list[tuple[str, object]] = (), ranges=()) -> requests.Response:
        return self.call(
            "dashboards-tiles.children",
            [
                {"id": "dashboards-choice", "property": "value", "value": slug},
                [
                    {"id": {"name": n, "type": "dashboards-select"}, "property": "value", "value": v}
                    for n, v in selects
                ],
                [
                    {"id": {"name": n, "type": "dashboards-range"}, "property": "start_date", "value": a}
                    for n, a, _ in ranges
                ],
                [
                    {"id": {"name": n, "type": "dashboards-range"}, "property": "end_date", "value": b}
                    for n, _, b in ranges
                ],
            ],
        )


def sections(payload: dict) -> list[dict]:
    """Every tile section in a callback answer (Dash's JSON of the component tree)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            props = node.get("props", {})
            if node.get("type") == "Section" and "dash-tile" in props.get("className", ""):
                found.append(props)
            for v in props.values() if "props" in node else node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(payload)
    return found


def tile_text(props: dict) -> str:
    return json.dumps(props)


@pytest.mark.parametrize(
    "slug", ["forecast_accuracy", "sales_forecasts", "data_quality", "stock_waste", "waste_ledger"]
)
def test_analyst_sees_every_tile_with_data(server, slug):
    ana = HttpDash(server.url, "ana")
    page = ana.page("/dashboards")
    assert page.status_code == 200 and "page-forbidden" not in page.text
    assert "Bakery · Forecast accuracy" in page.text
    r = ana.tiles(slug)
    assert r.status_code == 200
    tiles = sections(r.json())
    assert len(tiles) >= 5
    for props in tiles:
        kind = props["className"].split("dash-")[-1]
        text = tile_text(props)
        assert kind in ("text", "counter", "table", "figure"), text[:300]
        if kind == "figure":
            assert '"x":' in text or '"x": ' in text, props["id"]
        if kind == "table":
            assert "<td" in text.lower() or '"Td"' in text, props["id"]
        if kind == "counter":
            assert "—" not in text, props["id"]


def test_the_ledger_tiles_follow_the_store_and_date_filters(server):
    """Waste and lost sales in units and euros (gold.ledger): one store's table has only that store, and a week's
    waste in euros is not the whole period's."""
    ana = HttpDash(server.url, "ana")
    tiles = {
        p["id"]: tile_text(p)
        for p in sections(ana.tiles("waste_ledger", selects=[("f_store", ["S02"])]).json())
    }
    per_store = tiles["dashboards-tile-ledger_store"]
    assert '"S02"' in per_store and '"S01"' not in per_store and "Lost margin" in per_store
    assert (
        "Waste" in tiles["dashboards-tile-ledger_eur"]
        and "Lost sales" in tiles["dashboards-tile-ledger_units"]
    )
    week = ana.tiles("waste_ledger", ranges=[("f_dates", "2026-04-01", "2026-04-07")])
    waste_week = next(p for p in sections(week.json()) if p["id"] == "dashboards-tile-c_waste_eur")
    whole = next(
        p for p in sections(ana.tiles("waste_ledger").json()) if p["id"] == "dashboards-tile-c_waste_eur"
    )
    assert tile_text(waste_week) != tile_text(whole)


def test_filters_narrow_the_tiles(server):
    ana = HttpDash(server.url, "ana")
    filters = ana.call(
        "dashboards-filters.children",
        [{"id": "dashboards-choice", "property": "value", "value": "forecast_accuracy"}],
    )
    assert filters.status_code == 200
    assert '"S01"' in filters.text and '"D+7"' in filters.text
    everything = ana.tiles("forecast_accuracy")
    one_store = ana.tiles("forecast_accuracy", selects=[("f_store", ["S02"]), ("f_horizon", "D+7")])
    per_store = next(p for p in sections(one_store.json()) if p["id"] == "dashboards-tile-per_store")
    assert '"S02"' in tile_text(per_store) and '"S01"' not in tile_text(per_store)
    assert '"D+1"' not in tile_text(per_store)
    all_stores = next(p for p in sections(everything.json()) if p["id"] == "dashboards-tile-per_store")
    assert '"S01"' in tile_text(all_stores)
    dated = ana.tiles("sales_forecasts", ranges=[("f_dates", "2026-04-01", "2026-04-07")])
    units = next(p for p in sections(dated.json()) if p["id"] == "dashboards-tile-c_units")
    whole = next(
        p for p in sections(ana.tiles("sales_forecasts").json()) if p["id"] == "dashboards-tile-c_units"
    )
    assert tile_text(units) != tile_text(whole)


def test_a_broken_tile_names_file_and_dataset_and_the_others_render(server):
    path = server.settings.conf_dir.parent / "dashboards" / "stock_waste.lvdash.json"
    original = path.read_text()
    raw = json.loads(original)
    layout = raw["pages"][0]["layout"]
    table = next(i for i in layout if i["widget"].get("spec", {}).get("widgetType") == "table")
    table["widget"]["queries"][0]["query"]["fields"][0]["expression"] = "`no_such_column`"
    layout.append(
        {
            "widget": {
                "name": "sankey",
                "queries": [],
                "spec": {"version": 1, "widgetType": "sankey", "encodings": {}},
            },
            "position": {"x": 0, "y": 40, "width": 6, "height": 4},
        }
    )
    path.write_text(json.dumps(raw))
    try:
        tiles = sections(HttpDash(server.url, "ana").tiles("stock_waste").json())
    finally:
        path.write_text(original)
    by_id = {p["id"]: p for p in tiles}
    broken = tile_text(by_id["dashboards-tile-per_product"])
    assert "dash-error" in by_id["dashboards-tile-per_product"]["className"]
    assert "stock_waste.lvdash.json" in broken and "'inventory'" in broken and "no_such_column" in broken
    unsupported = by_id["dashboards-tile-sankey"]
    assert "dash-unsupported" in unsupported["className"] and "no se puede mostrar" in tile_text(unsupported)
    assert "dash-figure" in by_id["dashboards-tile-flows"]["className"]
    assert "dash-counter" in by_id["dashboards-tile-c_stockouts"]["className"]


def test_manager_is_refused_like_on_any_analyst_page(server):
    mgr = HttpDash(server.url, "mgr")
    for path in ("/dashboards", "/accuracy"):
        r = mgr.page(path)
        assert r.status_code == 200 and "page-forbidden" in r.text, path
    assert "nav-dashboards" not in mgr.page("/").text
    assert mgr.tiles("forecast_accuracy").status_code == 403
    assert "nav-dashboards" in HttpDash(server.url, "ana").page("/").text
