"""`bakery dashboards export --out DIR`: one self-contained HTML file per dashboard (Plotly inlined, nothing
fetched from elsewhere), with its title, tiles and data; data is escaped, never read as markup."""

from __future__ import annotations

import json
import re


def test_export_writes_self_contained_html(bakery_cli, dash_settings, dash_dir, tmp_path):
    raw = json.loads((dash_dir / "stock_waste.lvdash.json").read_text())
    raw["pages"][0]["layout"][0]["widget"]["multilineTextboxSpec"]["lines"].append(
        "<script>alert(1)</script>"
    )
    (dash_dir / "stock_waste.lvdash.json").write_text(json.dumps(raw))
    out = tmp_path / "out"
    r = bakery_cli(dash_settings.home, "dashboards", "export", "--dir", str(dash_dir), "--out", str(out))
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        "data_quality.html",
        "forecast_accuracy.html",
        "sales_forecasts.html",
        "stock_waste.html",
        "waste_ledger.html",
    ]
    page = (out / "forecast_accuracy.html").read_text()
    assert "<title>Bakery · Forecast accuracy</title>" in page
    assert not re.search(r"<script[^>]+src=", page)  # plotly.js is inlined, nothing is fetched
    assert page.count("Plotly.newPlot") >= 2 and "seasonal_naive" in page and "<td>S01</td>" in page
    stock = (out / "stock_waste.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in stock and "<script>alert(1)" not in stock
