"""The analyst and admin pages as their users read them: Spanish words for codes, Spanish numbers and dates,
store ids checked, and nothing offered that would fail."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
from plotly.io.json import to_json_plotly

from bakery.app import audit
from bakery.app.accounts import list_users
from bakery.app.auth import Principal
from bakery.app.evaluation import data_cutoff
from bakery.app.pages import admin_audit as audit_page
from bakery.app.pages import admin_health, admin_users, metrics, models

USERS_OUT = [("users-message", "children"), ("users-list", "children")]


def _json(component) -> str:
    return json.dumps(json.loads(to_json_plotly(component)), ensure_ascii=False)


def _user_state(name: str, stores) -> list[tuple]:
    return [
        ("users-new-name", "value", name),
        ("users-new-role", "value", "manager"),
        ("users-new-stores", "value", stores),
        ("users-new-password", "value", "nuevo-pass-123"),
        ("users-edit-name", "value", None),
        ("users-edit-role", "value", None),
        ("users-edit-stores", "value", None),
        ("users-edit-active", "value", ["on"]),
        ("users-edit-password", "value", None),
    ]


def test_managers_get_stores_of_the_stores_table_and_the_audit_keeps_the_admins_address(
    browser_client, ctx, dash_app
):
    page = _json(admin_users.layout(ctx, None, "es", {}))
    assert '"multi": true' in page and "S001" in page and "S01,S02" not in page
    assert [o["value"] for o in admin_users.store_options(ctx)] == ["S01", "S02"]
    c = browser_client("admin")
    create = [("users-create", "n_clicks", 1), ("users-update", "n_clicks", 0)]
    r = c.call(USERS_OUT, create, _user_state("nuevo", ["S02"]))
    assert "users-ok" in r.get_data(as_text=True)
    assert {a.username: a.stores for a in list_users(ctx.db)}["nuevo"] == ["S02"]
    created = audit.query(ctx.db, audit.AuditQuery(action="user.created"))[0][0]
    assert created["target"] == "nuevo" and created["ip"] == "127.0.0.1"
    # a store missing from the stores table is refused in Spanish, and nobody is created
    r = c.call(USERS_OUT, create, _user_state("otro", ["S02", "S999"]))
    body = r.get_data(as_text=True)
    assert "users-error" in body and "S999" in body and "no existe en la tabla de tiendas" in body
    assert "--stores" not in body and "otro" not in {a.username for a in list_users(ctx.db)}
    r = c.call(USERS_OUT, create, _user_state("otro", []))
    assert "Un gerente necesita al menos una tienda" in r.get_data(as_text=True)
    # changing a user's stores is checked the same way, and audited with the address
    admin = Principal("admin", "admin", frozenset(), 1)
    with dash_app.server.test_request_context(environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        msg, _ = admin_users.update(ctx, admin, "es", "nuevo", None, ["S07"], ["on"], None)
        assert "no existe en la tabla de tiendas" in _json(msg)
        msg, _ = admin_users.update(ctx, admin, "es", "nuevo", None, ["S01"], ["on"], None)
        assert "users-ok" in _json(msg)
    changed = audit.query(ctx.db, audit.AuditQuery(action="user.role_changed"))[0][0]
    assert changed["ip"] == "10.1.2.3" and changed["detail"]["changes"]["stores"] == [["S02"], ["S01"]]


def test_metrics_speak_in_words_with_units_horizon_and_the_datas_cutoff(ctx):
    ana = Principal("ana", "analyst", frozenset(), 2)
    evaluated, _, glob, _, stores = metrics.metrics_view(ctx, ana, "es", "wmape", 7)
    last_sales = ctx.serving.latest_sales_date()
    cutoff = data_cutoff(ctx.serving, [])
    assert cutoff == last_sales - timedelta(days=7)  # the backtest's last scored day, not the day it ran
    assert evaluated.startswith(f"Evaluado con datos hasta el {cutoff:%d/%m/%Y}")
    assert f"calculado el {last_sales:%d/%m/%Y}" in evaluated
    glob, stores = _json(glob), _json(stores)
    assert "Referencia: mismo día de la semana anterior" in glob and "seasonal_naive" not in glob
    assert "Mejora vs referencia (puntos de wMAPE" in glob
    assert "Por tienda · horizonte D+7" in stores and "Prophet (tendencia y estacionalidad)" in stores
    assert '"400"' in glob and "400,00" not in glob + stores  # counts without decimals


def test_models_list_real_models_in_words_and_count_the_zero_days_apart(ctx):
    roles = pd.DataFrame(
        {
            "role": ["champion", "champion", "champion", "shadow"],
            "model": ["prophet", "not_offered", "closed", "lgbm"],
            "model_version": ["3", None, None, "lgbm-1"],
            "rows": [4602, 120, 30, 800],
        }
    )
    rows, _, zero = models.version_rows(roles, ctx.serving.metrics(), "es")
    assert [(r["role"], r["model"]) for r in rows] == [
        ("Modelo en servicio", "Prophet (tendencia y estacionalidad)"),
        ("Modelo en pruebas", "LightGBM (árboles de decisión)"),
    ]
    assert rows[0]["rows"] == "4.602" and zero == 150
    page = _json(models.layout(ctx, Principal("ana", "analyst", frozenset(), 2), "es", {}))
    assert "campeón" not in page and "Modelo en servicio" in page


def test_health_warns_in_plain_words_when_sales_are_old_and_speaks_spanish(ctx):
    admin = Principal("admin", "admin", frozenset(), 1)
    last = ctx.serving.latest_sales_date()
    fresh = _json(admin_health.health_view(ctx, admin, "es", today=last + timedelta(days=1)))
    assert "health-fresh" in fresh and "health-stale" not in fresh
    old = _json(admin_health.health_view(ctx, admin, "es", today=last + timedelta(days=13)))
    assert f"las últimas ventas son del {last:%d/%m/%Y}, hace 13 días" in old and "health-stale" in old
    assert "WARNING" not in old and "aviso" in old  # severity in Spanish
    assert "expect_column_values_to_not_be_null" not in old and "ningún valor vacío" in old
    assert "fuera de rango (quantity_sold)" in old and "range:quantity_sold" not in old
    assert " UTC" in old and "fallida" in old


def test_audit_rows_read_as_sentences_with_time_zone_and_the_admins_address(browser_client, ctx):
    c = browser_client("admin")
    create = [("users-create", "n_clicks", 1), ("users-update", "n_clicks", 0)]
    assert "users-ok" in c.call(USERS_OUT, create, _user_state("marta", ["S01"])).get_data(as_text=True)
    total, rows = audit_page.audit_view(
        ctx, Principal("admin", "admin", frozenset(), 1), "es", "user", None, 1
    )
    text = _json(rows)
    assert "Usuario creado" in text and "user.created" not in text
    assert "rol: Gerente de tienda · tiendas: S01" in text and r"\"role\"" not in text  # no raw JSON
    assert "127.0.0.1" in text and " UTC" in text
    change = audit_page.detail_text(
        {"changes": {"stores": [["S02"], ["S01"]], "role": ["manager", "admin"]}}, "es"
    )
    assert change == "tiendas: S02 → S01 · rol: Gerente de tienda → Administrador"
    assert audit_page.action_words("login.ok", "es") == "Inicio de sesión"
