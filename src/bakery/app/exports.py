"""Files a user takes away: the bake plan as CSV for a spreadsheet, and as a one-page PDF for the bakery wall."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fpdf import FPDF

from bakery.app.formatting import fmt_day
from bakery.app.i18n import fmt_num, long_date, t

COLUMNS = {
    "product_id": "producto",
    "name": "nombre",
    "quantity": "hornear",
    "batches": "bandejas",
    "batch_size": "unidades_por_bandeja",
    "forecast": "prevision",
    "quantile_level": "cobertura",
    "reason": "motivo",
    "degraded_reason": "aviso",
    "override_quantity": "cambio",
    "override_reason": "cambio_motivo",
    "override_by": "cambio_por",
    "override_note": "cambio_nota",
}
# A cell a spreadsheet would read as a formula (a product named "=HYPERLINK(...)", a reason "+5 ..."): kept as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _as_text(value: object) -> object:
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _plan_rows(
    plan: pd.DataFrame, names: dict[str, str], overrides: dict[str, dict[str, Any]]
) -> pd.DataFrame:
    """The plan with each product's name and any manager change beside it, the biggest quantity first."""

    def pick(key: str) -> pd.Series:
        return plan["product_id"].map(lambda p: (overrides.get(p) or {}).get(key))

    return plan.assign(
        name=plan["product_id"].map(names),
        override_quantity=pick("quantity"),
        override_reason=pick("reason_code"),
        override_by=pick("by"),
        override_note=pick("note"),
    ).sort_values(["quantity", "product_id"], ascending=[False, True])


def bake_plan_csv(
    plan: pd.DataFrame, names: dict[str, str], overrides: dict[str, dict[str, Any]] | None = None
) -> bytes:
    """One row per product, the biggest quantity first, in Spanish column names; UTF-8 with a BOM. A product a
    manager changed carries the new quantity, its reason code, who and the note in the `cambio*` columns."""
    out = _plan_rows(plan, names, overrides or {})
    out = out[list(COLUMNS)].rename(columns=COLUMNS)
    for col in ("nombre", "motivo", "aviso", "cambio_por", "cambio_nota"):
        out[col] = out[col].map(_as_text)
    return out.to_csv(index=False).encode("utf-8-sig")


# The PDF's built-in font (Helvetica) has the Latin-1 characters, enough for Spanish; the few others a plan's
# text uses are spelt out, anything else becomes "?".
_LATIN1 = str.maketrans(
    {
        "\u2212": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u20ac": "EUR",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2192": "->",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
    }
)
# Landscape A4 (mm): the columns' widths and how each is aligned; the reason takes what is left.
_PAGE_W, _PAGE_H, _MARGIN = 297.0, 210.0, 12.0
_COLUMNS = (
    ("product", 70.0, "L"),
    ("qty", 24.0, "R"),
    ("trays", 28.0, "R"),
    ("forecast", 24.0, "R"),
    ("change", 42.0, "L"),
)
_ROW_MAX, _ROW_MIN = 9.0, 4.5  # row height: as tall as fits one page, never below what reads on a wall


def _latin1(text: object) -> str:
    return str(text).translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text cut, with an ellipsis, to what fits the cell."""
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "...") > width - 2:
        text = text[:-1]
    return text.rstrip() + "..."


def bake_plan_pdf(
    plan: pd.DataFrame,
    names: dict[str, str],
    store: str,
    lang: str,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> bytes:
    """The plan as one landscape A4 page: per product, the biggest first, how many to bake (a manager's change in
    its own column), in how many trays, the forecast behind it and why they differ; a warning when the plan was
    made from incomplete data. Rows shrink to keep a store's plan on one page; a very long one runs on."""
    rows = _plan_rows(plan, names, overrides or {})
    day = pd.Timestamp(plan["date"].iloc[0]).date()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, margin=_MARGIN + 6)
    pdf.set_title(_latin1(f"{t('bake.title', lang)} - {store} - {day}"))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 10, _latin1(f"{t('bake.title', lang)} · {store}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 13)
    pdf.cell(0, 8, _latin1(t("bake.for_day", lang, day=long_date(day, lang))), new_x="LMARGIN", new_y="NEXT")
    if rows["degraded"].any():
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, _latin1(t("bake.degraded", lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    reason_w = _PAGE_W - 2 * _MARGIN - sum(w for _, w, _ in _COLUMNS)
    columns = [*_COLUMNS, ("reason", reason_w, "L")]
    left = pdf.page_break_trigger - pdf.get_y() - 0.01
    height = max(_ROW_MIN, min(_ROW_MAX, left / (len(rows) + 1)))
    size = max(8.0, min(12.0, height * 1.45))

    def header() -> None:
        pdf.set_font("Helvetica", "B", size)
        for key, width, align in columns:
            pdf.cell(width, height, _latin1(t(f"bake.pdf.{key}", lang)), border="B", align=align)
        pdf.ln(height)
        pdf.set_font("Helvetica", "", size)

    header()
    for r in rows.itertuples():
        if pdf.will_page_break(height):
            pdf.add_page()
            header()
        trays = (
            t("bake.pdf.trays_of", lang, n=int(r.batches), size=fmt_num(r.batch_size, lang))
            if r.batch_size and r.batch_size > 1
            else ""
        )
        change = ""
        if pd.notna(r.override_quantity):
            reason = t(f"bake.ov.reason.{r.override_reason}", lang) if r.override_reason else ""
            change = " · ".join(x for x in (fmt_num(r.override_quantity, lang), reason, r.override_by) if x)
        cells = {
            "product": r.name or r.product_id,
            "qty": fmt_num(r.quantity, lang),
            "trays": trays,
            "forecast": fmt_num(r.forecast, lang),
            "change": change,
            "reason": r.reason or "",
        }
        for key, width, align in columns:
            pdf.set_font("Helvetica", "B" if key in ("qty", "change") else "", size)
            pdf.cell(width, height, _fit(pdf, _latin1(cells[key]), width), border="B", align=align)
        pdf.ln(height)
    pdf.set_auto_page_break(False)  # the footer sits in the bottom margin
    pdf.set_y(-_MARGIN - 4)
    pdf.set_font("Helvetica", "", 8)
    as_of = pd.Timestamp(rows["as_of"].iloc[0]).date() if "as_of" in rows else day
    footer = t(
        "bake.pdf.footer", lang, as_of=fmt_day(as_of, lang), version=rows["model_version"].iloc[0] or "-"
    )
    pdf.cell(0, 4, _latin1(footer))
    return bytes(pdf.output())
