"""Data is shown as text: a product, store or file name written as Markdown or markup stays literal on every
page (no link, no image fetched from elsewhere), and charts write it as entities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from bakery.app import uploads
from bakery.app.auth import Principal
from bakery.app.figures import drivers_figure, store_metric_figure
from bakery.config import Settings
from tests.app.conftest import DashClient, build_app, make_home

EVIL = "[Sesión caducada](https://example.org) ![x](http://127.0.0.1:9999/x.png)"
MARKUP = '<a href="https://example.org">Sesión caducada</a><img src="http://127.0.0.1:9999/x.png">'
ANA = Principal("ana", "analyst", frozenset(), 2)


def rename(settings: Settings, table: str, key: str, value: str, name: str) -> None:
    """Give one row of a silver reference table a new display name (as an accepted upload would)."""
    path = str(settings.tables_dir / "silver" / table)
    df = DeltaTable(path).to_pandas()
    df.loc[df[key] == value, "name"] = name
    write_deltalake(path, pa.Table.from_pandas(df, preserve_index=False), mode="overwrite")


@pytest.fixture
def evil_app(tmp_path: Path):
    settings = make_home(tmp_path)
    rename(settings, "products", "product_id", "P001", EVIL)
    rename(settings, "stores", "store_id", "S01", MARKUP)
    return build_app(settings)


def components(node: Any) -> list[dict]:
    """Every Dash component (as sent to the browser) in a callback response."""
    found = []
    if isinstance(node, dict):
        if "type" in node and "namespace" in node and "props" in node:
            found.append(node)
        for v in node.values():
            found += components(v)
    elif isinstance(node, list):
        for v in node:
            found += components(v)
    return found


def texts(node: Any) -> list[str]:
    """The plain strings a response puts on the page as element children."""
    out = []
    for c in components(node):
        children = c["props"].get("children")
        for child in children if isinstance(children, list) else [children]:
            if isinstance(child, str):
                out.append(child)
    return out


def test_names_written_as_markdown_or_markup_stay_text_on_the_pages(evil_app):
    c = DashClient(evil_app)
    assert c.login("mgr").status_code == 302
    r = c.call(
        [("forecast-graph", "figure"), ("forecast-table", "children"), ("forecast-summary", "children")],
        [
            ("forecast-store", "value", "S01"),
            ("forecast-view", "value", "tomorrow"),
            ("forecast-product", "value", "P001"),
        ],
    )
    assert r.status_code == 200
    table = r.get_json()["response"]["forecast-table"]["children"]
    kinds = {(x["namespace"], x["type"]) for x in components(table)}
    assert kinds <= {
        ("dash_html_components", t)
        for t in ("Div", "Table", "Thead", "Tbody", "Tr", "Th", "Td", "Span", "Small", "Br")
    }
    assert EVIL in texts(table)  # the whole name, verbatim, as one text node
    # the store picker and the product list carry the names as plain option labels
    page = c.page("/").get_json()["response"]["app-page"]
    store_labels = [o["label"] for x in components(page) for o in x["props"].get("options") or []]
    assert f"{MARKUP} (S01)" in store_labels
    r = c.call(
        [("forecast-product", "options"), ("forecast-product", "value")],
        [("forecast-store", "value", "S01"), ("forecast-product", "value", None)],
    )
    assert EVIL in [o["label"] for o in r.get_json()["response"]["forecast-product"]["options"]]
    assert "Markdown" not in json.dumps(page) + r.get_data(as_text=True)


def test_an_uploaded_file_name_is_text_in_the_batch_list(evil_app):
    ctx = evil_app.server.extensions["bakery"]
    staged = uploads.stage(
        ctx, ANA, "sales", f"{EVIL}.csv", b"date,store_id,product_id,quantity_sold\n2026-03-01,S01,P001,12\n"
    )
    assert uploads.commit(
        ctx, ANA, staged, mapping=None, shape=None, on_duplicate="skip", max_error_rate=0.0
    )["accepted"]
    c = DashClient(evil_app)
    assert c.login("ana").status_code == 302
    page = c.page("/uploads").get_json()["response"]["app-page"]
    assert f"{EVIL}.csv" in texts(page)
    assert not any(x["type"] == "Markdown" for x in components(page))


def test_charts_write_data_names_as_entities():
    metrics = pd.DataFrame(
        {
            "store_id": [MARKUP, "S02"],
            "model": ["prophet<b>", "prophet<b>"],
            "horizon": [1, 1],
            "wmape": [0.2, 0.3],
        }
    )
    fig = store_metric_figure(metrics, "wmape", 1, "en")
    trace = fig["data"][0]
    assert trace["name"] == "prophet&lt;b&gt;" and "<" not in json.dumps(trace["x"])
    assert trace["x"][1] == MARKUP.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    drivers = pd.DataFrame(
        {"label": ["fiesta <a href='https://example.org'>x</a>"], "mean_abs": [2.0], "mean": [1.0]}
    )
    assert "<" not in json.dumps(drivers_figure(drivers, "en")["data"][0]["y"])
