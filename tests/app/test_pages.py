"""Pages and callbacks through Dash's own endpoint: role and store scope enforced on the server."""

from __future__ import annotations

import csv
import json

import pytest
from plotly.io.json import to_json_plotly

from bakery.app import audit
from bakery.app.accounts import list_users
from bakery.app.auth import Principal
from bakery.app.pages import events as events_page
from bakery.app.pages import forecast as forecast_page
from bakery.app.serving import LocalDeltaReader, ServingData
from tests.app.sample_tables import write_sample_tables

FC_OUT = [("forecast-graph", "figure"), ("forecast-table", "children"), ("forecast-summary", "children")]


def _json(component) -> str:
    """A page part as the browser receives it (components or prebuilt JSON alike), as readable JSON text."""
    return json.dumps(json.loads(to_json_plotly(component)), ensure_ascii=False)


def _fc_inputs(store, view="tomorrow", product="P001"):
    return [
        ("forecast-store", "value", store),
        ("forecast-view", "value", view),
        ("forecast-product", "value", product),
    ]


def test_pages_need_a_login(dash_app):
    c = dash_app.server.test_client()
    r = c.get("/accuracy")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=/accuracy")
    assert c.get("/_dash-layout").status_code == 401
    assert c.post("/_dash-update-component", json={}).status_code == 401


@pytest.mark.parametrize(
    ("user", "allowed", "denied"),
    [
        (
            "mgr",
            ["/", "/history", "/stock", "/events"],
            ["/accuracy", "/waste", "/models", "/drivers", "/uploads", "/admin/users", "/admin/audit"],
        ),
        (
            "ana",
            ["/", "/accuracy", "/waste", "/models", "/drivers", "/uploads"],
            ["/admin/users", "/admin/settings", "/admin/health", "/admin/audit"],
        ),
        (
            "admin",
            [
                "/",
                "/accuracy",
                "/uploads",
                "/admin/users",
                "/admin/settings",
                "/admin/health",
                "/admin/audit",
            ],
            [],
        ),
    ],
)
def test_router_enforces_roles(browser_client, ctx, user, allowed, denied):
    c = browser_client(user)
    for path in allowed:
        r = c.page(path)
        assert r.status_code == 200 and "page-forbidden" not in r.get_data(as_text=True), path
    for path in denied:
        assert "page-forbidden" in c.page(path).get_data(as_text=True), path
    nav = json.dumps(c.page("/").get_json()["response"]["app-nav"])
    assert ("nav-accuracy" in nav) == (user != "mgr") and ("nav-admin-audit" in nav) == (user == "admin")
    if denied:
        assert audit.query(ctx.db, audit.AuditQuery(action="access.denied"))[1] == len(denied)


def test_manager_gets_403_for_another_store_whether_or_not_it_exists(browser_client):
    c = browser_client("mgr")
    ok = c.call(FC_OUT, _fc_inputs("S01"))
    assert ok.status_code == 200
    assert "forecast-rows" in ok.get_data(as_text=True)
    other, missing, chain = (c.call(FC_OUT, _fc_inputs(s)) for s in ("S02", "S999", "__chain__"))
    assert other.status_code == missing.status_code == chain.status_code == 403
    assert other.get_data() == missing.get_data()
    # the other callbacks that take a store are guarded the same way
    for outputs, inputs in (
        ([("stock-alerts", "children")], [("stock-store", "value", "S02")]),
        (
            [("history-graph", "figure"), ("history-kpis", "children")],
            [
                ("history-store", "value", "S02"),
                ("history-product", "value", "P001"),
                ("history-horizon", "value", 1),
                ("history-weeks", "value", 4),
            ],
        ),
    ):
        assert c.call(outputs, inputs).status_code == 403


def test_analyst_only_callbacks_refuse_managers(browser_client):
    c = browser_client("mgr")
    r = c.call(
        [
            ("metrics-evaluated", "children"),
            ("metrics-global", "figure"),
            ("metrics-global-table", "children"),
            ("metrics-stores", "figure"),
            ("metrics-store-table", "children"),
        ],
        [("metrics-metric", "value", "wmape"), ("metrics-horizon", "value", 1)],
    )
    assert r.status_code == 403
    assert (
        c.call([("uploads-templates", "children")], [("uploads-kind", "value", "sales")]).status_code == 403
    )
    assert c.client.get("/download/template/sales.csv").status_code == 403


def test_callbacks_need_the_csrf_header(browser_client):
    c = browser_client("ana")
    assert c.call(FC_OUT, _fc_inputs("S01"), csrf=False).status_code == 403


def test_forecast_page_for_the_chain_and_every_view(browser_client):
    c = browser_client("ana")
    for view in ("tomorrow", "week", "month"):
        r = c.call(FC_OUT, _fc_inputs("__chain__", view))
        assert r.status_code == 200, view
        names = [tr["name"] for tr in r.get_json()["response"]["forecast-graph"]["figure"]["data"]]
        assert names == ["Intervalo", "Intervalo", "Previsión", "Ventas reales"]


def test_no_forecasts_yet_state(tmp_path, settings):
    write_sample_tables(settings.tables_dir, stores=1, products=2, days=10, with_forecasts=False)
    from bakery.app.app import build_context

    ctx = build_context(settings)
    p = Principal("ana", "analyst", frozenset())
    fig, table, summary = forecast_page.forecast_view(ctx, p, "en", "S01", "tomorrow", None)
    assert "No forecasts yet: run `bakery pipeline`" in json.dumps(table.to_plotly_json(), default=str)
    assert summary is None and fig["data"] == []


EV_OUT = [
    ("events-message", "children"),
    ("events-list", "children"),
    ("events-name", "value"),
    ("events-type", "value"),
    ("events-start", "value"),
    ("events-end", "value"),
    ("events-editing", "data"),
    ("events-submit", "children"),
    ("events-cancel", "style"),
]


def _events_call(c, trigger: str | dict, form: dict, editing: str | None = None, files: tuple[str, ...] = ()):
    """POST the events page's one callback as dash-renderer does: the button clicked, the wildcard Change and
    Delete buttons of the listed files, the form's state."""
    key = next(k for k in c.app.callback_map if k.startswith("..events-message.children"))

    def wild(kind: str) -> list[dict]:
        return [
            {
                "id": {"type": kind, "file": f},
                "property": "n_clicks",
                "value": int(trigger == {"type": kind, "file": f}),
            }
            for f in files
        ]

    body = {
        "output": key,
        "outputs": [{"id": i, "property": p} for i, p in EV_OUT],
        "inputs": [
            {"id": "events-submit", "property": "n_clicks", "value": int(trigger == "events-submit")},
            {"id": "events-cancel", "property": "n_clicks", "value": int(trigger == "events-cancel")},
            wild("events-edit"),
            wild("events-delete"),
        ],
        "state": [
            {"id": "events-store", "property": "value", "value": form.get("store", "S01")},
            {"id": "events-name", "property": "value", "value": form.get("name", "Fiesta del barrio")},
            {"id": "events-type", "property": "value", "value": form.get("kind", "event")},
            {"id": "events-start", "property": "value", "value": form.get("start", "01/06/2026")},
            {"id": "events-end", "property": "value", "value": form.get("end", "02/06/2026")},
            {"id": "events-editing", "property": "data", "value": editing},
        ],
        "changedPropIds": [
            (
                json.dumps(trigger, separators=(",", ":"), sort_keys=True)
                if isinstance(trigger, dict)
                else trigger
            )
            + ".n_clicks"
        ],
    }
    return c.client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": c.csrf})


def test_events_form_lands_a_csv_for_the_managers_store(browser_client, app_settings, ctx):
    c = browser_client("mgr")
    folder = app_settings.landing_dir / "events"

    r = _events_call(c, "events-submit", {})
    body = r.get_json()["response"]
    assert r.status_code == 200 and "events-ok" in json.dumps(body)
    files = list(folder.glob("app_event_S01_*.csv"))
    assert len(files) == 1
    rows = list(csv.DictReader(files[0].open(encoding="utf-8")))
    assert rows == [
        {
            "event_date_start": "2026-06-01",
            "event_date_end": "2026-06-02",
            "event_name": "Fiesta del barrio",
            "event_type": "event",
            "scope": "S01",
        }
    ]
    listing = json.dumps(body["events-list"], ensure_ascii=False)
    assert "Fiesta del barrio" in listing and "01/06/2026 – 02/06/2026" in listing
    # the form is cleared after saving
    assert body["events-name"]["value"] == "" and body["events-start"]["value"] == ""
    assert _events_call(c, "events-submit", {"store": "S02"}).status_code == 403
    bad = _events_call(c, "events-submit", {"start": "05/06/2026", "end": "01/06/2026"})
    assert "events-error" in bad.get_data(as_text=True)
    assert len(list(folder.glob("*.csv"))) == 1
    assert audit.query(ctx.db, audit.AuditQuery(action="event.created"))[1] == 1


def test_events_warn_on_a_duplicate_and_a_pending_one_can_be_changed_or_deleted(
    browser_client, app_settings, ctx
):
    c = browser_client("mgr")
    folder = app_settings.landing_dir / "events"
    assert _events_call(c, "events-submit", {}).status_code == 200
    again = _events_call(c, "events-submit", {"name": "  fiesta DEL barrio "}).get_json()["response"]
    assert "events-duplicate" in json.dumps(again) and "ya está apuntado" in json.dumps(
        again, ensure_ascii=False
    )
    assert "events-name" not in again  # the form keeps what was typed
    (first,) = [p.name for p in folder.glob("*.csv")]
    listing = json.dumps(again["events-list"], ensure_ascii=False)
    assert "Cambiar" in listing and "Borrar" in listing and "pendiente" in listing

    edit = _events_call(c, {"type": "events-edit", "file": first}, {}, files=(first,)).get_json()["response"]
    assert (
        edit["events-name"]["value"] == "Fiesta del barrio" and edit["events-start"]["value"] == "01/06/2026"
    )
    assert edit["events-editing"]["data"] == first and edit["events-submit"]["children"] == "Guardar cambios"
    changed = _events_call(c, "events-submit", {"name": "Fiesta mayor", "end": "03/06/2026"}, editing=first)
    assert "Cambiado «Fiesta mayor»" in json.dumps(changed.get_json()["response"], ensure_ascii=False)
    (second,) = [p.name for p in folder.glob("*.csv")]
    assert second != first
    assert list(csv.DictReader((folder / second).open(encoding="utf-8")))[0]["event_date_end"] == "2026-06-03"

    gone = _events_call(c, {"type": "events-delete", "file": second}, {}, files=(second,))
    assert gone.status_code == 200 and list(folder.glob("*.csv")) == []
    assert audit.query(ctx.db, audit.AuditQuery(action="event.deleted"))[1] == 2  # the change and the delete
    # a file name that is not an app event is refused; so is another store's manager
    refused = _events_call(c, {"type": "events-delete", "file": "../x.csv"}, {}, files=("../x.csv",))
    assert "events-error" in refused.get_data(as_text=True)
    assert _events_call(c, "events-submit", {}).status_code == 200
    (third,) = [p.name for p in folder.glob("*.csv")]
    other = browser_client("mgr2")
    assert (
        _events_call(other, {"type": "events-delete", "file": third}, {}, files=(third,)).status_code == 403
    )
    assert [p.name for p in folder.glob("*.csv")] == [third]


def test_event_form_checks(app_settings):
    with pytest.raises(events_page.EventError):
        events_page.check_form("S01", "   ", "event", "2026-06-01", "2026-06-01")
    with pytest.raises(events_page.EventError):
        events_page.check_form("S01", "x", "party", "2026-06-01", "2026-06-01")
    with pytest.raises(events_page.EventError):
        events_page.check_form("S01", "x", "event", "2026-06-01", "2026-09-01")
    with pytest.raises(events_page.EventError):
        events_page.check_form("S01", "x", "event", "31/02/2026", "31/02/2026")
    # a manager writes dd/mm/aaaa (or d/m/aa)
    event = events_page.check_form("S01", "x", "event", "1/6/26", "02/06/2026")
    assert (event.start.isoformat(), event.end.isoformat()) == ("2026-06-01", "2026-06-02")


def test_admin_manages_users_and_settings_through_callbacks(browser_client, ctx):
    c = browser_client("admin")
    outputs = [("users-message", "children"), ("users-list", "children")]
    state = [
        ("users-new-name", "value", "nuevo"),
        ("users-new-role", "value", "manager"),
        ("users-new-stores", "value", "S02"),
        ("users-new-password", "value", "nuevo-pass-123"),
        ("users-edit-name", "value", None),
        ("users-edit-role", "value", None),
        ("users-edit-stores", "value", None),
        ("users-edit-active", "value", ["on"]),
        ("users-edit-password", "value", None),
    ]
    r = c.call(outputs, [("users-create", "n_clicks", 1), ("users-update", "n_clicks", 0)], state)
    assert "users-ok" in r.get_data(as_text=True)
    assert {a.username: a.stores for a in list_users(ctx.db)}["nuevo"] == ["S02"]
    ids = [{"type": "settings-input", "key": k} for k in ("retrain_fraction", "stockout_lookback_days")]
    r = c.call(
        [("settings-message", "children")],
        [("settings-save", "n_clicks", 1)],
        [(ids, "id", ids), (ids, "value", ["0.3", "oops"])],
    )
    assert r.status_code == 200 and "settings-error" in r.get_data(as_text=True)
    assert ctx.options.get("retrain_fraction") == 0.10  # nothing half-applied on a bad value
    assert (
        browser_client("ana")
        .call(outputs, [("users-create", "n_clicks", 1), ("users-update", "n_clicks", 0)], state)
        .status_code
        == 403
    )


def test_health_and_audit_pages_render_for_admins(browser_client):
    c = browser_client("admin")
    r = c.call([("health-body", "children")], [("health-refresh", "n_clicks", 0)])
    text = r.get_data(as_text=True)
    assert (
        r.status_code == 200
        and "boom: weather API timed out" in text
        and "fuera de rango (quantity_sold)" in text
    )
    r = c.call(
        [("audit-total", "children"), ("audit-table", "children")],
        [("audit-action", "value", "login"), ("audit-actor", "value", None), ("audit-more", "n_clicks", 0)],
        [("audit-more", "n_clicks", 0)],
    )
    assert r.status_code == 200 and "Inicio de sesión" in r.get_data(as_text=True)


def test_serving_reads_delta_without_spark_or_models(dash_app, browser_client):
    """The request path uses delta-rs only: no SparkSession, no model is loaded."""
    import subprocess
    import sys

    ctx = dash_app.server.extensions["bakery"]
    assert isinstance(ctx.serving, ServingData) and isinstance(ctx.serving.reader, LocalDeltaReader)
    code = (
        "import sys; sys.path.insert(0, '.'); from tests.app.conftest import make_home, build_app, DashClient;"
        "import tempfile, pathlib; s = make_home(pathlib.Path(tempfile.mkdtemp()) / 'x'); app = build_app(s);"
        "c = DashClient(app); c.login('ana');"
        "assert c.call([('forecast-graph','figure'),('forecast-table','children'),('forecast-summary','children')],"
        "[('forecast-store','value','S01'),('forecast-view','value','week'),('forecast-product','value','P001')]"
        ").status_code == 200;"
        "bad = [m for m in ('pyspark', 'prophet', 'mlflow', 'lightgbm') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "BAKERY_SECRET_KEY": "k" * 32},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_databricks_apps_identity_comes_from_headers_and_roles_from_the_table(app_settings):
    from tests.app.conftest import build_app

    app = build_app(
        app_settings,
        overrides={
            "auth": {
                "mode": "databricks",
                "argon2": {"time_cost": 1, "memory_cost_kib": 1024, "parallelism": 1},
            }
        },
    )
    c = app.server.test_client()
    assert c.get("/", headers={"X-Forwarded-Email": "stranger@example.com"}).status_code == 403
    assert c.get("/login").status_code == 302  # no password form on Databricks Apps
    r = c.get("/api/v1/forecasts?store_id=S02", headers={"X-Forwarded-Email": "MGR"})
    assert r.status_code == 403
    r = c.get("/api/v1/forecasts?store_id=S01&horizon=1", headers={"X-Forwarded-Email": "mgr"})
    assert r.status_code == 200 and r.get_json()["total"] == 4


def test_cookies_are_secure_off_loopback(app_settings):
    from bakery.app.app import _secure_cookies
    from bakery.app.appconf import load_app_config

    conf = load_app_config(app_settings)
    assert _secure_cookies(conf, "0.0.0.0") and _secure_cookies(conf, "bakery.example.com")
    assert not _secure_cookies(conf, "127.0.0.1") and not _secure_cookies(conf, "localhost")
    assert _secure_cookies(load_app_config(app_settings, {"auth": {"cookie_secure": True}}), "127.0.0.1")


def test_a_launching_product_shows_in_the_week_with_a_new_product_note_and_its_own_chart(tmp_path, settings):
    """A cold-start product (forecasts from its launch day, no sales yet): listed in the week and month views with
    "New product, on sale from ...", absent from tomorrow's list before its launch, and its chart has no history."""
    from datetime import date, timedelta

    import pandas as pd
    import pyarrow as pa
    from deltalake import write_deltalake

    from bakery.app.app import build_context
    from tests.app.sample_tables import FORECAST_SCHEMA

    end = date(2026, 4, 30)
    write_sample_tables(settings.tables_dir, stores=1, products=2, days=28, end=end, past_as_of=0)
    launch = end + timedelta(days=3)
    days = [launch + timedelta(days=k) for k in range(26)]
    reason = f"cold_start: not sold here yet (launched {launch}); forecast from the median of this store's 2 other bread"
    rows = pd.DataFrame(
        {
            "as_of": end,
            "store_id": "S01",
            "product_id": "PNEW",
            "date": days,
            "horizon": [(d - end).days for d in days],
            "model": "cold_start",
            "model_version": "3",
            "role": "champion",
            "yhat": 30.0,
            "yhat_lower": 12.0,
            "yhat_upper": 55.0,
            "components": "{}",
            "explanation": None,
            "fallback_reason": reason,
        }
    )
    rows["horizon"] = rows["horizon"].astype("int32")
    write_deltalake(
        str(settings.tables_dir / "gold" / "forecasts"),
        pa.Table.from_pandas(rows, schema=FORECAST_SCHEMA, preserve_index=False),
        mode="append",
    )
    product = pd.DataFrame(
        {"product_id": ["PNEW"], "name": ["Pan de espelta"], "category": ["bread"], "unit_price": [2.0]}
    )
    write_deltalake(
        str(settings.tables_dir / "silver" / "products"),
        pa.Table.from_pandas(product, preserve_index=False),
        mode="append",
    )
    ctx = build_context(settings)
    p = Principal("ana", "analyst", frozenset())
    _, tomorrow, _ = forecast_page.forecast_view(ctx, p, "en", "S01", "tomorrow", None)
    assert "Pan de espelta" not in _json(tomorrow)
    for view in ("week", "month"):
        _, table, _ = forecast_page.forecast_view(ctx, p, "en", "S01", view, None)
        text = _json(table)
        assert "Pan de espelta" in text and f"New product, on sale from {launch:%d/%m}" in text, view
    fig, _, _ = forecast_page.forecast_view(ctx, p, "es", "S01", "week", "PNEW")
    names = [tr["name"] for tr in fig["data"]]
    assert "Previsión" in names and "Ventas reales" not in names
    with_history = forecast_page.forecast_view(ctx, p, "es", "S01", "week", "P001")[0]
    assert "Ventas reales" in [tr["name"] for tr in with_history["data"]]
