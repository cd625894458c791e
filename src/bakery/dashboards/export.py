"""`bakery dashboards export --out DIR`: each dashboard as one self-contained HTML file (Plotly's script
inlined once, tables as HTML, data as text), to send to someone without the app or a workspace."""

from __future__ import annotations

import html
from pathlib import Path

import plotly.io as pio

from bakery.dashboards.engine import LocalEngine
from bakery.dashboards.model import Dashboard
from bakery.dashboards.render import Tile, render, title_of

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
.grid{display:grid;grid-template-columns:repeat(6,1fr);gap:12px}
.tile{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;overflow:auto}
.counter .v{font-size:2rem;font-weight:600}.error{border-color:#c33;color:#a00}.unsupported{color:#666}
table{border-collapse:collapse;font-size:.85rem}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left}
"""


def fmt(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def tile_html(t: Tile, first_figure: bool) -> str:
    pos = t.widget.position
    span = f"grid-column:span {max(1, min(6, int(pos.get('width', 6))))}"
    title = f"<h3>{html.escape(t.title)}</h3>" if t.title else ""
    if t.kind == "text":
        lines = [html.escape(line.lstrip("# ")) for line in t.message.splitlines()]
        body = "".join(f"<h2>{x}</h2>" if i == 0 else f"<p>{x}</p>" for i, x in enumerate(lines))
    elif t.kind == "counter":
        body = f'<div class="v">{html.escape(fmt(t.value))}</div>'
    elif t.kind == "table":
        head = "".join(f"<th>{html.escape(label)}</th>" for _, label in t.columns)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(fmt(r.get(k)))}</td>" for k, _ in t.columns) + "</tr>"
            for r in t.rows
        )
        body = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    elif t.kind == "figure" and t.figure is not None:
        body = pio.to_html(
            t.figure, full_html=False, include_plotlyjs=first_figure, config={"displaylogo": False}
        )
    else:
        body = f"<p>{html.escape(t.message)}</p>"
    return f'<section class="tile {t.kind}" style="{span}">{title}{body}</section>'


def dashboard_html(engine: LocalEngine, dash: Dashboard) -> str:
    parts, first = [], True
    for page, tiles in render(engine, dash):
        parts.append(f"<h2>{html.escape(page)}</h2><div class='grid'>")
        for t in tiles:
            parts.append(tile_html(t, first and t.kind == "figure"))
            first = first and t.kind != "figure"
        parts.append("</div>")
    title = html.escape(title_of(dash))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )


def export_all(engine: LocalEngine, dashboards: list[Dashboard], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for dash in dashboards:
        target = out / f"{dash.slug}.html"
        target.write_text(dashboard_html(engine, dash), encoding="utf-8")
        written.append(target)
    return written
