"""Upload problems reach a Spanish analyst in Spanish, through the page's own callbacks and the real validator: the
row details, a file missing columns, an unsupported file and a broken shape; English users keep the ingest's
wording."""

from __future__ import annotations

import base64
import json

import pytest

from bakery.app.server.security import LANG_COOKIE

STAGE = [
    ("uploads-token", "data"),
    ("uploads-file-message", "children"),
    ("uploads-mapping", "children"),
    ("uploads-preview", "children"),
]
VALIDATE = [("uploads-report", "children"), ("uploads-load-button", "disabled")]
COLUMNS = ("date", "store_id", "product_id", "quantity_sold", "revenue", "promotion_id")
BAD_ROWS = (
    b"Fecha,Tienda,Producto,Cantidad\n2026-03-01,S01,P001,12\n2026-03-02,S01,P001,-3\n"
    b"2026-03-03,S01,P002,=1+1\n2026-13-45,S01,P002,4\n"
)


def _client(browser_client, lang: str):
    c = browser_client("ana")
    c.client.set_cookie(LANG_COOKIE, lang)
    return c


def stage(c, data: bytes, name: str = "ventas.csv", shape: str | None = None):
    contents = "data:text/csv;base64," + base64.b64encode(data).decode()
    r = c.call(
        STAGE,
        [
            ("uploads-file", "contents", contents),
            ("uploads-kind", "value", "sales"),
            ("uploads-shape-apply", "n_clicks", 0),
        ],
        [
            ("uploads-file", "filename", name),
            ("uploads-shape", "value", shape),
            ("uploads-token", "data", None),
        ],
    )
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return r.get_json()["response"]


def validate(c, token, values: list[str]) -> str:
    ids = [{"type": "uploads-map", "col": col} for col in COLUMNS]
    state = [
        ("uploads-token", "data", token),
        (ids, "id", ids),
        (ids, "value", values),
        ("uploads-dup", "value", "skip"),
        ("uploads-rate", "value", 0.5),
        ("uploads-shape", "value", None),
        ("uploads-replaces", "value", None),
    ]
    r = c.call(VALIDATE, [("uploads-validate", "n_clicks", 1)], state)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return json.dumps(r.get_json(), ensure_ascii=False)


MAPPED = ["Fecha", "Tienda", "Producto", "Cantidad", "__none__", "__none__"]


def test_row_details_are_spanish_for_a_spanish_user(browser_client):
    c = _client(browser_client, "es")
    token = stage(c, BAD_ROWS)["uploads-token"]["data"]
    text = validate(c, token, MAPPED)
    assert "Detalle" in text and "uploads-errors" in text
    assert "'-3' está fuera del rango permitido, de 0 a" in text
    assert "'=1+1' no es un número" in text
    assert "'2026-13-45' no es una fecha (AAAA-MM-DD)" in text
    for english in ("outside the allowed range", "is not a", "a date as YYYY-MM-DD", "whole number"):
        assert english not in text


def test_row_details_keep_the_ingest_wording_in_english(browser_client):
    c = _client(browser_client, "en")
    token = stage(c, BAD_ROWS)["uploads-token"]["data"]
    text = validate(c, token, MAPPED)
    assert (
        "outside the allowed range" in text
        and "a date as YYYY-MM-DD" in text
        and "fuera del rango" not in text
    )


def test_a_file_missing_columns_is_explained_in_spanish(browser_client):
    c = _client(browser_client, "es")
    token = stage(c, b"fecha,tienda\n2026-03-01,S01\n")["uploads-token"]["data"]
    text = validate(c, token, ["fecha", "tienda", "__none__", "__none__", "__none__", "__none__"])
    assert "faltan columnas obligatorias: product_id, quantity_sold" in text
    assert "missing required" not in text and "rename them" not in text


@pytest.mark.parametrize(
    ("data", "name", "shape", "spanish", "english"),
    [
        (b"a,b\n1,2\n", "ventas.txt", None, "tipo de archivo no admitido (.txt)", "unsupported file type"),
        (b"\xef\xbb\xbf", "ventas.csv", None, "el archivo está vacío", "the file is empty"),
        (BAD_ROWS, "ventas.csv", '{"shape": ', "no es un objeto JSON v", "not valid JSON"),
        (BAD_ROWS, "ventas.csv", '{"shape": "items"}', "revise «date»", "'date' is required"),
    ],
)
def test_whole_file_rejections_are_spanish(browser_client, data, name, shape, spanish, english):
    es = str(stage(_client(browser_client, "es"), data, name, shape)["uploads-file-message"])
    assert "Archivo rechazado: " in es and spanish in es
    assert english not in es
    en = str(stage(_client(browser_client, "en"), data, name, shape)["uploads-file-message"])
    assert english in en
