"""Figure builders: pure functions from small frames to Plotly figure dicts (no IO, no Dash)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bakery.app.formatting import model_label
from bakery.app.i18n import TEXTS, t

COLORS = {
    "actual": "#37474f",
    "forecast": "#c2185b",
    "band": "rgba(194,24,91,0.15)",
    "baseline": "#9e9e9e",
    "champion": "#c2185b",
    "challenger": "#1565c0",
    "shadow": "#2e7d32",
    "ok": "#2e7d32",
    "bad": "#c62828",
}
_PALETTE = ["#c2185b", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#9e9e9e"]


def _layout(height: int = 320, **extra: Any) -> dict[str, Any]:
    base = {
        "height": height,
        "margin": {"l": 44, "r": 12, "t": 16, "b": 36},
        "autosize": True,
        "legend": {"orientation": "h", "y": -0.18, "x": 0},
        "hovermode": "x unified",
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#ffffff",
        "xaxis": {"gridcolor": "#eeeeee"},
        "yaxis": {"gridcolor": "#eeeeee", "rangemode": "tozero"},
        "font": {"size": 12},
    }
    base.update(extra)
    return base


def date_axis(lang: str) -> dict[str, Any]:
    """A date x-axis the Spanish way: "4 oct" ticks (month names come from the chart's locale, pages.common.graph)
    and dd/mm/aaaa on hover."""
    if lang != "es":
        return {"gridcolor": "#eeeeee"}
    return {"gridcolor": "#eeeeee", "tickformat": "%-d %b", "hoverformat": "%a %d/%m/%Y"}


def _vals(s: pd.Series, digits: int = 2) -> list[float | None]:
    """Numbers for JSON: rounded, with missing values as null (a gap in the line, never a zero)."""
    values = np.round(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float), digits).tolist()
    return [None if v != v else v for v in values]


def plain(value: object) -> str:
    """A data value as literal chart text: Plotly reads `<a href>`, `<b>` and entities in trace names and tick
    labels, so `&`, `<` and `>` are written as entities (shown as themselves)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _dates(s: pd.Series) -> list[str]:
    return pd.to_datetime(s).dt.strftime("%Y-%m-%d").tolist()


def empty_figure(message: str) -> dict[str, Any]:
    """A blank chart carrying a message, for 'no data yet' states."""
    return {
        "data": [],
        "layout": _layout(
            200,
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": message,
                    "showarrow": False,
                    "font": {"size": 14},
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                }
            ],
        ),
    }


def band_traces(x: list[str], lower: list[float], upper: list[float], name: str, color: str) -> list[dict]:
    """An interval as a filled band between two invisible lines."""
    return [
        {
            "type": "scatter",
            "x": x,
            "y": upper,
            "mode": "lines",
            "line": {"width": 0},
            "showlegend": False,
            "hoverinfo": "skip",
            "name": name,
        },
        {
            "type": "scatter",
            "x": x,
            "y": lower,
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": color,
            "name": name,
            "hoverinfo": "skip",
        },
    ]


def forecast_figure(history: pd.DataFrame, forecast: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Recent actuals (date, quantity_sold) then the forecast (date, yhat, yhat_lower, yhat_upper) with its band."""
    if forecast.empty and history.empty:
        return empty_figure(t("common.no_data", lang))
    data: list[dict] = []
    if not forecast.empty:
        x = _dates(forecast["date"])
        data += band_traces(
            x,
            _vals(forecast["yhat_lower"], 2),
            _vals(forecast["yhat_upper"], 2),
            t("fc.chart.interval", lang),
            COLORS["band"],
        )
        data.append(
            {
                "type": "scatter",
                "x": x,
                "y": _vals(forecast["yhat"], 2),
                "mode": "lines+markers",
                "name": t("fc.chart.forecast", lang),
                "line": {"color": COLORS["forecast"], "width": 2},
                "marker": {"size": 5},
            }
        )
    if not history.empty:
        data.append(
            {
                "type": "scatter",
                "x": _dates(history["date"]),
                "y": _vals(history["quantity_sold"]),
                "mode": "lines",
                "name": t("fc.chart.actual", lang),
                "line": {"color": COLORS["actual"], "width": 1.5},
                "connectgaps": False,
            }
        )
    return {"data": data, "layout": _layout(xaxis=date_axis(lang))}


def history_figure(
    actuals: pd.DataFrame, past: pd.DataFrame, horizon: int, lang: str, backtest: bool = False
) -> dict[str, Any]:
    """What sold (date, quantity_sold) against what was forecast `horizon` days before, with its interval
    (`backtest`: the backtest's out-of-sample forecasts, named as such)."""
    if actuals.empty and past.empty:
        return empty_figure(t("common.no_data", lang))
    data: list[dict] = []
    if not past.empty:
        x = _dates(past["date"])
        data += band_traces(
            x,
            _vals(past["yhat_lower"], 2),
            _vals(past["yhat_upper"], 2),
            t("fc.chart.interval", lang),
            COLORS["band"],
        )
        data.append(
            {
                "type": "scatter",
                "x": x,
                "y": _vals(past["yhat"], 2),
                "mode": "lines",
                "name": t("hist.predicted_bt" if backtest else "hist.predicted", lang, h=horizon),
                "line": {"color": COLORS["forecast"], "dash": "dot"},
            }
        )
    if not actuals.empty:
        data.append(
            {
                "type": "scatter",
                "x": _dates(actuals["date"]),
                "y": _vals(actuals["quantity_sold"]),
                "mode": "lines+markers",
                "name": t("hist.actual", lang),
                "marker": {"size": 4},
                "line": {"color": COLORS["actual"]},
            }
        )
    return {"data": data, "layout": _layout(340, xaxis=date_axis(lang))}


def metrics_figure(
    metrics: pd.DataFrame, metric: str, lang: str, baseline: str = "seasonal_naive"
) -> dict[str, Any]:
    """Global `metric` per horizon, one bar group per model, the baseline always shown in grey."""
    glob = metrics[metrics["store_id"].isna()] if "store_id" in metrics else metrics
    if glob.empty or metric not in glob:
        return empty_figure(t("met.none", lang))
    models = sorted(glob["model"].unique(), key=lambda m: (m == baseline, m))
    data = []
    for i, model in enumerate(models):
        rows = glob[glob["model"] == model].sort_values("horizon")
        color = COLORS["baseline"] if model == baseline else _PALETTE[i % len(_PALETTE)]
        name = plain(model_label(model, lang))
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": [f"D+{h}" for h in rows["horizon"]],
                "y": _vals(rows[metric], 3),
                "marker": {"color": color},
            }
        )
    return {"data": data, "layout": _layout(300, barmode="group", hovermode="closest")}


def store_metric_figure(metrics: pd.DataFrame, metric: str, horizon: int, lang: str) -> dict[str, Any]:
    """Per-store `metric` at one horizon, sorted worst first, for every model."""
    per = metrics[metrics["store_id"].notna() & (metrics["horizon"] == horizon)]
    if per.empty:
        return empty_figure(t("met.none", lang))
    order = per.groupby("store_id")[metric].max().sort_values(ascending=False).index.tolist()
    data = []
    for i, model in enumerate(sorted(per["model"].unique())):
        rows = per[per["model"] == model].set_index("store_id").reindex(order)
        data.append(
            {
                "type": "bar",
                "name": plain(model_label(model, lang)),
                "x": [plain(s) for s in order],
                "y": _vals(rows[metric], 3),
                "marker": {"color": COLORS["baseline"] if model == "seasonal_naive" else _PALETTE[i % 7]},
            }
        )
    return {"data": data, "layout": _layout(300, barmode="group", hovermode="closest")}


def models_figure(rows: pd.DataFrame, history: pd.DataFrame, lang: str) -> dict[str, Any]:
    """One series' forecasts by model role (date, role, model_version, yhat) over its recent actuals."""
    if rows.empty:
        return empty_figure(t("common.no_forecasts", lang))
    data: list[dict] = []
    if not history.empty:
        data.append(
            {
                "type": "scatter",
                "x": _dates(history["date"]),
                "y": _vals(history["quantity_sold"]),
                "mode": "lines",
                "name": t("fc.chart.actual", lang),
                "line": {"color": COLORS["actual"]},
            }
        )
    for role, g in rows.groupby("role", sort=False):
        g = g.sort_values("date")
        version = g["model_version"].iloc[0]
        data.append(
            {
                "type": "scatter",
                "x": _dates(g["date"]),
                "y": _vals(g["yhat"], 2),
                "mode": "lines",
                "name": f"{plain(model_label(role, lang))} · v{plain(version)}",
                "line": {
                    "color": COLORS.get(str(role), "#6a1b9a"),
                    "dash": "solid" if role == "champion" else "dash",
                },
            }
        )
    return {"data": data, "layout": _layout()}


def drivers_figure(drivers: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Horizontal bars: mean absolute contribution per factor (label, mean_abs, mean)."""
    if drivers.empty:
        return empty_figure(t("common.no_forecasts", lang))
    d = drivers.sort_values("mean_abs")
    colors = [COLORS["ok"] if m >= 0 else COLORS["bad"] for m in d["mean"]]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [plain(x) for x in d["label"]],
                "x": _vals(d["mean_abs"], 3),
                "marker": {"color": colors},
                "customdata": _vals(d["mean"], 3),
                "hovertemplate": "%{y}: %{x} (" + t("drv.mean", lang) + " %{customdata})<extra></extra>",
            }
        ],
        "layout": _layout(
            max(220, 28 * len(d) + 60), hovermode="closest", margin={"l": 150, "r": 12, "t": 10, "b": 30}
        ),
    }


def runs_figure(runs: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Duration of each run over time, one trace of markers per job (runs are separate events: no line joins
    them), failures in red."""
    if runs.empty:
        return empty_figure(t("common.no_data", lang))
    data = []
    for i, (job, g) in enumerate(runs.sort_values("started").groupby("job")):
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": plain(job),
                "x": [str(s) for s in g["started"]],
                "y": _vals(g["seconds"], 1),
                "text": [plain(t(f"hl.run.{s}", lang) if f"hl.run.{s}" in TEXTS else s) for s in g["status"]],
                "hovertemplate": "%{x}<br>%{y} s · %{text}<extra>" + plain(job) + "</extra>",
                "marker": {
                    "color": [
                        COLORS["bad"] if s != "success" else _PALETTE[i % len(_PALETTE)] for s in g["status"]
                    ],
                    "size": 9,
                },
            }
        )
    return {"data": data, "layout": _layout(260, hovermode="closest")}


def chain_figure(daily: pd.DataFrame, forecast: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Chain totals: actual units per day, then the summed forecast."""
    if daily.empty and forecast.empty:
        return empty_figure(t("common.no_data", lang))
    data = []
    if not forecast.empty:
        data.append(
            {
                "type": "scatter",
                "x": _dates(forecast["date"]),
                "y": _vals(forecast["yhat"], 1),
                "mode": "lines+markers",
                "name": t("fc.chart.forecast", lang),
                "line": {"color": COLORS["forecast"]},
            }
        )
    if not daily.empty:
        data.append(
            {
                "type": "scatter",
                "x": _dates(daily["date"]),
                "y": _vals(daily["quantity_sold"], 1),
                "mode": "lines",
                "name": t("fc.chart.actual", lang),
                "line": {"color": COLORS["actual"]},
            }
        )
    return {"data": data, "layout": _layout()}


def waste_figure(daily: pd.DataFrame, measure: str, lang: str) -> dict[str, Any]:
    """Per day, what was thrown away and what was missing (sales lost to stock-outs), in units or euros, as
    stacked bars: the two ways a bake goes wrong, side by side."""
    if daily.empty:
        return empty_figure(t("waste.none_range", lang))
    eur = measure == "eur"
    cols = ("wasted_eur", "lost_sales_eur") if eur else ("wasted", "lost_sales")
    names = (t("waste.kpi.waste", lang), t("waste.lost", lang))
    data = [
        {
            "type": "bar",
            "x": _dates(daily["date"]),
            "y": _vals(daily[col], 2 if eur else 1),
            "name": name,
            "marker": {"color": color},
        }
        for col, name, color in zip(cols, names, (COLORS["bad"], "#ef6c00"), strict=True)
    ]
    unit = "€" if eur else t("waste.units", lang)
    return {
        "data": data,
        "layout": _layout(
            barmode="stack", xaxis=date_axis(lang), yaxis={"title": {"text": unit}, "rangemode": "tozero"}
        ),
    }
