"""Pure functions: figure builders, explanations, forecast tables, stock alerts, accuracy, translations."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from bakery.app import figures
from bakery.app.explain import explain, top_reasons
from bakery.app.i18n import TEXTS, fmt_num, t
from bakery.app.summaries import (
    StockRules,
    accuracy,
    combine_interval,
    drivers,
    forecast_lines,
    lines_by_store,
    model_versions,
    stock_alerts,
)
from bakery.models import reasons


def _fc(days=3, store="S01", product="P1", base=10.0, comps=None):
    d = pd.date_range("2026-05-01", periods=days)
    return pd.DataFrame(
        {
            "store_id": store,
            "product_id": product,
            "date": d,
            "horizon": range(1, days + 1),
            "yhat": base,
            "yhat_lower": base - 2,
            "yhat_upper": base + 3,
            "model_version": "3",
            "role": "champion",
            "fallback_reason": None,
            "components": json.dumps(comps or {"trend": base, "holidays": 2.0, "precipitation": -1.0}),
        }
    )


def test_forecast_figure_has_band_forecast_and_actuals():
    hist = pd.DataFrame({"date": pd.date_range("2026-04-25", periods=3), "quantity_sold": [1.0, None, 3.0]})
    fig = figures.forecast_figure(hist, _fc(), "en")
    names = [tr["name"] for tr in fig["data"]]
    assert names == ["Interval", "Interval", "Forecast", "Actual sales"]
    assert fig["data"][1]["fill"] == "tonexty" and fig["data"][2]["y"] == [10.0] * 3
    assert fig["data"][3]["y"][1] is None  # a closed day stays a gap, not a zero
    json.dumps(fig)  # serializable as is


def test_empty_states_carry_a_message():
    fig = figures.forecast_figure(pd.DataFrame(), pd.DataFrame(), "es")
    assert fig["data"] == [] and "Sin datos" in fig["layout"]["annotations"][0]["text"]
    assert (
        "No metrics yet"
        in figures.metrics_figure(pd.DataFrame({"store_id": []}), "wmape", "en")["layout"]["annotations"][0][
            "text"
        ]
    )


def test_metrics_figure_always_shows_the_baseline_last_in_grey():
    m = pd.DataFrame(
        {
            "model": ["prophet", "seasonal_naive"] * 2,
            "horizon": [1, 1, 7, 7],
            "store_id": None,
            "wmape": [10.0, 14.0, 12.0, 16.0],
        }
    )
    fig = figures.metrics_figure(m, "wmape", "en")
    assert [tr["name"] for tr in fig["data"]] == [
        "Prophet (trend and seasonality)",
        "Baseline: same day last week",
    ]
    names = [tr["name"] for tr in figures.metrics_figure(m, "wmape", "es")["data"]]
    assert names == ["Prophet (tendencia y estacionalidad)", "Referencia: mismo día de la semana anterior"]
    assert fig["data"][1]["marker"]["color"] == figures.COLORS["baseline"]
    assert fig["data"][0]["x"] == ["D+1", "D+7"]


def test_other_builders_return_plain_dicts():
    runs = pd.DataFrame(
        {
            "job": ["pipeline", "pipeline"],
            "started": pd.to_datetime(["2026-01-01", "2026-01-02"]),
            "seconds": [10.0, 12.0],
            "status": ["success", "failed"],
        }
    )
    trace = figures.runs_figure(runs, "es")["data"][0]
    assert trace["marker"]["color"][1] == figures.COLORS["bad"]
    assert trace["mode"] == "markers" and trace["text"] == ["correcta", "fallida"]  # no line joins two runs
    drv = pd.DataFrame({"label": ["rain", "holiday"], "mean_abs": [1.0, 3.0], "mean": [-1.0, 3.0]})
    assert figures.drivers_figure(drv, "en")["data"][0]["y"] == ["rain", "holiday"]
    rows = _fc().assign(role=["champion", "challenger", "champion"])
    assert len(figures.models_figure(rows, pd.DataFrame(), "en")["data"]) == 2
    past = _fc().assign(as_of=pd.Timestamp("2026-04-30"))
    assert figures.history_figure(pd.DataFrame({"date": past["date"], "quantity_sold": 9.0}), past, 1, "es")[
        "data"
    ]


def test_explanation_names_change_and_reasons_in_both_languages():
    comps = {"trend": 50.0, "weekly": 8.0, "holidays": 9.0, "precipitation": -3.0, "temperature": 0.1}
    en = explain(61.0, comps, "en", reference=52.0, reference_label="last Tuesday")
    assert en == "+17% vs last Tuesday: public holiday (+9), rain (\u22123)"
    es = explain(61.0, comps, "es", reference=52.0, reference_label="el martes pasado")
    assert es == "+17 % vs. el martes pasado: festivo (+9), lluvia (\u22123)"
    assert explain(5.0, {"trend": 5.0}, "en") == "5 units expected"
    launch = reasons.cold_start(date(2026, 3, 5), "the median of this store's 3 other pastry")
    assert (
        explain(20.0, {}, "en", fallback=launch)
        == "New product, on sale from 05/03: forecast from similar products"
    )
    assert explain(20.0, {}, "es", fallback=launch).startswith("Producto nuevo, a la venta desde el 05/03")
    assert [k for k, _ in top_reasons({"promo_2x1": 4.0, "weekly": 30.0, "trend": 40.0}, 40.0)] == [
        "promo_2x1"
    ]


def test_explanation_agrees_with_its_figure():
    """A big change is never "in line with usual", and nothing expected is not compared with anything."""
    es = explain(141.0, {"trend": 140.0}, "es", reference=100.0, reference_label="el martes pasado")
    assert es == "+41 % vs. el martes pasado: sin un motivo especial (festivo, promoción, tiempo)"
    small = explain(104.0, {}, "es", reference=100.0, reference_label="el martes pasado")
    assert small == "+4 % vs. el martes pasado: en línea con lo habitual"
    assert explain(0.2, {}, "es") == "No se esperan ventas"
    assert explain(1234.0, {}, "es") == "1.234 uds. previstas"


@pytest.mark.parametrize(
    ("stored", "es", "en"),
    [
        (
            reasons.too_short(20, 56, True).text(),
            "solo hay 20 días con ventas desde una interrupción y el modelo necesita 56",
            "only 20 days with sales since a break and the model needs 56",
        ),
        (
            reasons.too_short(40, 56, False).text(),
            "solo hay 40 días con ventas y el modelo necesita 56",
            "only 40 days with sales and the model needs 56",
        ),
        (
            reasons.stale(322, 28).text(),
            "la última venta registrada es de hace 322 días",
            "the last recorded sale was 322 days ago",
        ),
        (
            reasons.too_sparse(0.12, 0.3).text(),
            "solo se vende el 12 % de los días",
            "it sells on only 12% of days",
        ),
        ("all_zero: every observed day sold 0", "no consta ninguna venta", "its history has no sale"),
        ("no_history: no observed day up to the as-of date", "aún no hay ventas", "no sales recorded yet"),
        ("fit_error: RuntimeError: boom", "el modelo no pudo calcularse", "the model could not be computed"),
        ("something odd", "el modelo no pudo calcularse", "the model could not be computed"),
    ],
)
def test_fallback_reasons_are_sentences_not_codes(stored, es, en):
    """Worded the same from a row's reason columns and from the text of a row written before them."""
    reason = reasons.Reason.parse(stored)
    for fields in (reason.columns(), {"fallback_reason": stored}):
        for lang, expected in (("es", es), ("en", en)):
            text = explain(5.0, {}, lang, fallback=reasons.Reason.of_row(fields))
            assert expected in text and text.startswith(t("reason.prefix", lang))
            assert stored.split(":")[0] not in text and "observed" not in text and "boom" not in text


def test_a_forecast_line_words_its_fallback_from_the_reason_columns_not_the_text():
    hist = pd.DataFrame(
        {"product_id": "P1", "date": pd.date_range("2026-04-17", "2026-04-30"), "quantity_sold": 8.0}
    )
    fields = reasons.too_short(40, 56, False).columns()
    fc = _fc().assign(**{**fields, "fallback_reason": "too_short: worded some other way (was 40 < 56)"})
    line = forecast_lines(fc, hist, {}, "tomorrow", "en")[0]
    assert "only 40 days with sales and the model needs 56" in line.explanation
    launch = _fc().assign(**reasons.cold_start(date(2026, 4, 28), "similar products").columns())
    assert forecast_lines(launch, hist, {}, "tomorrow", "es")[0].explanation.startswith(
        "Producto nuevo, a la venta desde el 28/04"
    )
    # A table written before the reason columns: the text alone still explains the fallback.
    old = _fc().assign(fallback_reason=reasons.stale(322, 28).text())
    assert (
        "the last recorded sale was 322 days ago"
        in forecast_lines(old, hist, {}, "tomorrow", "en")[0].explanation
    )


def test_forecast_lines_tomorrow_compares_with_the_same_weekday():
    fc = _fc(days=7)
    hist = pd.DataFrame(
        {"product_id": "P1", "date": pd.date_range("2026-04-17", "2026-04-30"), "quantity_sold": 8.0}
    )
    lines = forecast_lines(fc, hist, {"P1": "Baguette"}, "tomorrow", "en")
    assert len(lines) == 1 and lines[0].product == "Baguette" and lines[0].forecast == 10.0
    assert lines[0].explanation.startswith("+25% vs last Friday")  # 2026-05-01 is a Friday; 2026-04-24 sold 8
    week = forecast_lines(fc, hist, {}, "week", "en")[0]
    assert week.forecast == 70.0 and week.explanation.startswith("+25% vs the last 7 days")
    assert week.lower == pytest.approx(70 - 2 * 7**0.5) and week.upper == pytest.approx(70 + 3 * 7**0.5)


def test_combine_interval_and_reference():
    total, lo, hi = combine_interval(
        pd.DataFrame({"yhat": [1.0, 1.0], "yhat_lower": [0.0, 0.0], "yhat_upper": [2.0, 2.0]})
    )
    assert (total, round(lo, 4), round(hi, 4)) == (2.0, round(2 - 2**0.5, 4), round(2 + 2**0.5, 4))
    # the reference is the last observed same weekday, up to four weeks back
    hist = pd.DataFrame(
        {
            "store_id": "S01",
            "product_id": "P1",
            "date": pd.to_datetime(["2026-04-10", "2026-04-17"]),
            "quantity_sold": [4.0, None],
        }
    )
    lines = lines_by_store(_fc(days=1), hist, {}, "tomorrow", "en")
    assert lines["S01"][0].reference == 4.0 and "vs last Friday" in lines["S01"][0].explanation
    assert lines_by_store(_fc(days=1), hist.iloc[:0], {}, "tomorrow", "en")["S01"][0].reference is None


def test_a_day_the_store_is_expected_closed_says_so_instead_of_a_change():
    shut = _fc(days=1, base=0.0, comps={"trend": 0.0}).assign(model="closed")
    hist = pd.DataFrame(
        {
            "store_id": "S01",
            "product_id": "P1",
            "date": pd.to_datetime(["2026-04-24"]),
            "quantity_sold": [4.0],
        }
    )
    line = lines_by_store(shut, hist, {}, "tomorrow", "es")["S01"][0]
    assert (line.forecast, line.explanation) == (0.0, "Tienda cerrada previsiblemente (suele cerrar ese día)")
    week = _fc(days=7).assign(model=["closed"] + ["ensemble"] * 6)
    assert "closed" not in lines_by_store(week, hist, {}, "week", "en")["S01"][0].explanation
    off = _fc(days=7, product="P0", base=0.0, comps={"trend": 0.0}).assign(
        model=["closed"] + ["not_offered"] * 6
    )
    lines = lines_by_store(pd.concat([off, _fc(days=7).assign(model="ensemble")]), hist, {}, "week", "en")[
        "S01"
    ]
    assert [ln.product_id for ln in lines] == ["P1", "P0"]  # off sale goes last, whatever its id
    assert lines[1].explanation == "Not expected on sale (not sold for weeks)"


def test_stock_alerts_only_what_needs_action():
    """Running out on most days is urgent, on two days a warning, once nothing; a short stock matters only for a
    product that is not replenished every day (a loaf baked each morning starts from its delivery, not from
    yesterday's leftovers)."""
    days = pd.date_range("2026-04-24", "2026-04-30")
    rows = []
    for product, outs, delivered, closing in (
        ("OFTEN_OUT", 5, True, 0.0),
        ("TWICE_OUT", 2, True, 0.0),
        ("ONCE_OUT", 1, True, 0.0),
        ("BAKED_DAILY_LOW", 0, True, 1.0),
        ("KEPT_LOW", 0, False, 2.0),
        ("KEPT_SHORT", 0, False, 9.0),
        ("KEPT_FINE", 0, False, 50.0),
    ):
        for i, d in enumerate(days):
            rows.append(
                {
                    "store_id": "S01",
                    "product_id": product,
                    "date": d,
                    "closing_stock": closing,
                    "delivered": 20.0 if delivered or i == 0 else 0.0,
                    "stockout": i < outs,
                }
            )
    inv = pd.DataFrame(rows)
    products = inv["product_id"].unique()
    tomorrow = pd.DataFrame({"store_id": "S01", "product_id": products, "yhat": 10.0, "yhat_lower": 8.0})
    alerts = stock_alerts(inv, tomorrow, StockRules(lookback_days=7))
    assert alerts[["product_id", "severity", "reason", "stockouts"]].values.tolist() == [
        ["OFTEN_OUT", "CRITICAL", "stockouts", 5],
        ["KEPT_LOW", "CRITICAL", "below_lower", 0],
        ["TWICE_OUT", "WARNING", "stockouts", 2],
        ["KEPT_SHORT", "WARNING", "below", 0],
    ]
    assert stock_alerts(inv.iloc[:0], tomorrow, StockRules()).empty


def test_accuracy_uses_only_observed_days():
    past = pd.DataFrame(
        {
            "date": pd.date_range("2026-04-01", periods=3),
            "yhat": [10.0, 10.0, 10.0],
            "yhat_lower": [8.0] * 3,
            "yhat_upper": [12.0] * 3,
        }
    )
    actual = pd.DataFrame(
        {"date": pd.date_range("2026-04-01", periods=3), "quantity_sold": [8.0, None, 12.0]}
    )
    acc = accuracy(actual, past)
    assert acc == {"n": 2, "mae": 2.0, "wmape": 20.0, "bias": 0.0, "coverage": 100.0}
    assert accuracy(actual.iloc[:0], past)["n"] == 0


def test_drivers_and_model_versions():
    d = drivers(pd.concat([_fc(), _fc(comps={"trend": 1, "holidays": -2.0})]), "es")
    assert d.iloc[0]["label"] == "festivo" and "trend" not in set(d["component"])
    roles = pd.DataFrame(
        {
            "role": ["shadow", "champion"],
            "model": ["lgbm", "prophet"],
            "model_version": ["1", "3"],
            "rows": [5, 5],
        }
    )
    m = pd.DataFrame({"model": ["prophet"], "horizon": [1], "store_id": [None], "wmape": [11.0]})
    out = model_versions(roles, m)
    assert out["role"].tolist() == ["champion", "shadow"] and out["wmape_D+1"].tolist()[0] == 11.0


def test_every_text_key_used_in_the_app_exists_in_both_languages():
    src = Path(__file__).resolve().parents[2] / "src" / "bakery" / "app"
    used = set()
    for path in src.rglob("*.py"):
        used |= set(
            re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", path.read_text(encoding="utf-8"))
        )
    missing = sorted(k for k in used if k not in TEXTS and not k.endswith("."))  # prefixes of f-strings
    assert missing == []
    assert all(es and en for es, en in TEXTS.values())
    assert t("nav.forecast", "es") == "Previsión" and t("nav.forecast", "en") == "Forecast"
    assert fmt_num(1234.5, "es", 1) == "1.234,5" and fmt_num(1234.5, "en", 1) == "1,234.5"
