"""The store manager's pages as a manager reads them: dated horizons, the stale banner, the headline of the chosen
product in its unit, products by the quantity to bake, Spanish charts, and a history that shows something on a new
installation."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from plotly.io.json import to_json_plotly

from bakery.app.app import build_context
from bakery.app.auth import Principal
from bakery.app.freshness import run_date
from bakery.app.pages import forecast as forecast_page
from bakery.app.pages import history as history_page
from tests.app.sample_tables import write_sample_tables

MGR = Principal("mgr", "manager", frozenset({"S01"}))


def _text(component) -> str:
    return json.dumps(json.loads(to_json_plotly(component)), ensure_ascii=False)


@pytest.fixture
def stale_ctx(settings):
    """Sample data ending 2026-04-30: long before the run date, so the forecast is stale."""
    write_sample_tables(settings.tables_dir, stores=2, products=4, days=70, past_as_of=0)
    return build_context(settings)


@pytest.fixture
def fresh_ctx(tmp_path):
    """Sample data ending on the run date's eve: the forecast is today's."""
    from bakery.config import load_settings

    settings = load_settings(home=tmp_path / "fresh")
    write_sample_tables(
        settings.tables_dir, stores=1, products=3, days=40, end=run_date() - timedelta(days=1)
    )
    return build_context(settings)


def test_a_stale_forecast_says_so_and_shows_its_own_dates(stale_ctx):
    _, _, summary = forecast_page.forecast_view(stale_ctx, MGR, "es", "S01", "tomorrow", "P001")
    text = _text(summary)
    days = (run_date() - date(2026, 4, 30)).days
    assert f"Se calculó con ventas hasta el 30/04/2026 (hace {days} días)" in text
    assert "forecast-stale" in text
    # D+1 is the day after the data, named with its weekday and year, never called "mañana"
    assert "Previsión para el viernes 1 de mayo de 2026" in text and "Previsión para mañana" not in text
    _, _, week = forecast_page.forecast_view(stale_ctx, MGR, "es", "S01", "week", "P001")
    assert "Previsión del viernes 1 de mayo al jueves 7 de mayo de 2026" in _text(week)
    layout = _text(forecast_page.layout(stale_ctx, MGR, "es", {}))
    assert '"1 día"' in layout and '"Mañana"' not in layout
    _, _, en = forecast_page.forecast_view(stale_ctx, MGR, "en", "S01", "tomorrow", "P001")
    assert "Forecast for Friday 1 May 2026" in _text(en) and "not current" in _text(en)


def test_a_current_forecast_names_its_day_and_has_no_banner(fresh_ctx):
    """Data up to the run date's eve: D+1 is the run date itself, "hoy"; a forecast made today starts tomorrow."""
    today = run_date()
    weekdays = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
    months = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ]
    _, _, summary = forecast_page.forecast_view(fresh_ctx, MGR, "es", "S01", "tomorrow", "P001")
    text = _text(summary)
    assert f"Previsión para hoy, {weekdays[today.weekday()]} {today.day} de {months[today.month - 1]}" in text
    assert "forecast-stale" not in text and "forecast-degraded" not in text
    assert '"Hoy"' in _text(forecast_page.layout(fresh_ctx, MGR, "es", {}))
    tomorrow = today + timedelta(days=1)
    assert forecast_page.horizon_text(today, "tomorrow", today, "es") == (
        f"Previsión para mañana, {weekdays[tomorrow.weekday()]} {tomorrow.day} de {months[tomorrow.month - 1]}"
    )
    assert forecast_page.horizon_text(date(2026, 12, 7), "week", date(2026, 12, 7), "es") == (
        "Previsión de mañana, martes 8 de diciembre, al lunes 14 de diciembre"
    )


def test_headline_adds_products_up_only_in_one_unit(stale_ctx, settings):
    """Every sample product is bread, sold by the piece (conf/app.yml `units`): the headline gives the chosen
    product's total and the all-products total. One product sold by the kilo: no grand total, and a line saying
    the total shown is the chosen product's and asking to pick another."""
    from bakery.app.appconf import load_app_config

    lines = forecast_page.all_lines(stale_ctx, "week", "es")["S01"]
    chosen = lines[-1]
    _, _, summary = forecast_page.forecast_view(stale_ctx, MGR, "es", "S01", "week", chosen.product_id)
    text = _text(summary)
    assert f"Total de {chosen.product} · 7 días" in text  # the horizon's own label (stale: not "next week")
    assert f'"{round(chosen.forecast):,} uds."'.replace(",", ".") in text
    total = round(sum(ln.forecast for ln in lines))
    assert "Total de todos los productos (uds.) · 7 días" in text
    assert f'"{total:,} uds."'.replace(",", ".") in text and "forecast-units-note" not in text

    by_kilo = build_context(settings, conf=load_app_config(settings, {"units": {"products": {"P002": "kg"}}}))
    kilo = next(ln for ln in lines if ln.product_id == "P002")
    _, _, summary = forecast_page.forecast_view(by_kilo, MGR, "es", "S01", "week", "P002")
    text = _text(summary)
    assert "Total de todos los productos" not in text and "forecast-units-note" in text
    assert f'"{round(kilo.forecast):,} kg"'.replace(",", ".") in text
    assert "unidades distintas (kg, uds.). El total es el de Croissant; elija otro producto" in text
    _, _, english = forecast_page.forecast_view(by_kilo, MGR, "en", "S01", "week", chosen.product_id)
    assert f"The total shown is {chosen.product}'s; pick another product" in _text(english)
    assert "units" in _text(english) and "uds." not in _text(english)


def test_products_go_by_the_quantity_to_bake(stale_ctx):
    """The product table leads with what to bake most of (gold.bake_plan), each with its bake quantity; the
    picker starts on that product. Without a plan made from these forecasts, the order is the forecast's."""
    from deltalake import DeltaTable

    by_forecast = [ln.product_id for ln in forecast_page.all_lines(stale_ctx, "week", "es")["S01"]]
    last = by_forecast[-1]
    plan = DeltaTable(str(stale_ctx.settings.tables_dir / "gold" / "bake_plan"))
    plan.update(predicate=f"store_id = 'S01' AND product_id = '{last}'", updates={"quantity": "500.0"})
    order = [ln.product_id for ln in forecast_page.ordered_lines(stale_ctx, "S01", "week", "es")]
    assert order[0] == last and order[1:] == [p for p in by_forecast if p != last]
    assert forecast_page.product_choices(stale_ctx, "S01", None, "es")[1] == last
    names = stale_ctx.serving.product_names()
    _, table, _ = forecast_page.forecast_view(stale_ctx, MGR, "es", "S01", "week", last)
    rows = _text(table)
    positions = [rows.index(names[p]) for p in order]
    assert positions == sorted(positions) and "Hornear 500" in rows
    assert "Intervalo" not in rows  # three columns: the interval sits under the forecast
    # a plan left from older forecasts does not order today's table
    plan.update(predicate="store_id = 'S01'", updates={"as_of": "CAST('2026-04-29' AS DATE)"})
    later = build_context(stale_ctx.settings)  # a new server: no cached table version
    order = [ln.product_id for ln in forecast_page.ordered_lines(later, "S01", "week", "es")]
    assert order == by_forecast
    _, table, _ = forecast_page.forecast_view(later, MGR, "es", "S01", "week", last)
    assert "Hornear" not in _text(table)


def test_charts_speak_spanish(stale_ctx):
    layout = forecast_page.layout(stale_ctx, MGR, "es", {})
    config = json.loads(to_json_plotly(layout))
    text = json.dumps(config, ensure_ascii=False)
    assert '"locale": "es"' in text and '"shortMonths": ["ene"' in text and '"decimal": ","' in text
    assert '"locale": "en"' in _text(forecast_page.layout(stale_ctx, MGR, "en", {}))


def test_history_falls_back_to_the_backtest_labelled_as_such(stale_ctx):
    """No served forecast is older than the latest run (past_as_of=0): the backtest's out-of-sample forecasts
    fill the page, and it says so."""
    fig, kpis = history_page.history_view(stale_ctx, MGR, "es", "S01", "P001", 1, 13)
    names = [tr["name"] for tr in fig["data"]]
    assert "Previsto con 1+ días de antelación (backtest)" in names and "Vendido" in names
    text = _text(kpis)
    assert "history-backtest" in text and "fuera de muestra" in text and "history-nopast" not in text
    assert "Del 30/01/2026 al 30/04/2026" in text


def test_history_uses_served_forecasts_when_there_are_some(tmp_path):
    from bakery.config import load_settings

    settings = load_settings(home=tmp_path / "served")
    write_sample_tables(settings.tables_dir, stores=1, products=2, days=70, past_as_of=14)
    ctx = build_context(settings)
    fig, kpis = history_page.history_view(ctx, MGR, "es", "S01", "P001", 1, 4)
    assert "Previsto D+1" in [tr["name"] for tr in fig["data"]]
    text = _text(kpis)
    assert "history-backtest" not in text and "Días comparados" in text and " %" in text


def test_stock_alerts_are_cards_and_name_the_store_only_for_several(stale_ctx):
    """P002 sold out on the last four days in both stores: an urgent card, worded, with its figures."""
    from deltalake import DeltaTable

    from bakery.app.pages import stock as stock_page

    inventory = DeltaTable(str(stale_ctx.settings.tables_dir / "silver" / "inventory_daily"))
    inventory.update(predicate="product_id = 'P002' AND date > '2026-04-26'", updates={"stockout": "true"})
    view = stock_page.alerts_view(stale_ctx, MGR, "es", "S01")
    text = _text(view)
    assert "alert-card" in text and "<table" not in text and "Tabla" not in text
    assert "Panadería" not in text  # one store: no store line on the cards
    assert "productos necesitan atención" in text and "CRITICAL" not in text and "WARNING" not in text
    assert "Urgente" in text and "Se agotó 4 de los últimos 7 días: se pierden ventas, hornee más" in text
    analyst = Principal("ana", "analyst", frozenset())
    every = _text(stock_page.alerts_view(stale_ctx, analyst, "es", None))
    assert "Panadería" in every


def test_incomplete_data_is_named_in_plain_words(stale_ctx):
    """A store whose sales stop early, and one with no recent sales at all, each get an orange banner by name."""
    from bakery.app.freshness import forecast_status

    status = forecast_status(date(2026, 4, 30), {"S01": date(2026, 4, 26)}, ["S01", "S02"], date(2026, 5, 1))
    assert status.degraded and not status.stale
    text = _text(forecast_page.status_notices(stale_ctx, status, "es"))
    assert "las ventas de Panadería Madrid 1 llegan solo hasta el 26/04/2026" in text
    assert "no hay ventas recientes de Panadería" in text and "forecast-stale" not in text
    # one closing day of grace: a store whose last sale is the day before the data date is complete
    assert not forecast_status(
        date(2026, 4, 30), {"S01": date(2026, 4, 29)}, ["S01"], date(2026, 5, 1)
    ).degraded


def test_a_unit_in_the_products_data_wins_over_the_configuration():
    """silver.products' own `unit` first, then conf/app.yml per product, per category, default; known codes read
    in the user's language, any other unit as written."""
    import pandas as pd

    from bakery.app.units import resolve_units, same_unit, unit_label

    products = pd.DataFrame(
        {"product_id": ["P1", "P2", "P3"], "category": ["bread", "cakes", "bread"], "unit": ["kg", None, ""]}
    )
    conf = {"default": "unit", "categories": {"cakes": "portion"}, "products": {"P1": "unit", "P3": "kg"}}
    assert resolve_units(products, conf) == {"P1": "kg", "P2": "portion", "P3": "kg"}
    assert resolve_units(products.drop(columns="unit"), None) == {"P1": "unit", "P2": "unit", "P3": "unit"}
    assert unit_label("portion", "es") == "porciones" and unit_label("ud.", "es") == "ud."
    assert unit_label(None, "en") == "units" and unit_label("kg", "en") == "kg"
    assert same_unit(["kg", "KG "]) and not same_unit(["kg", "unit"]) and not same_unit([None, None])
