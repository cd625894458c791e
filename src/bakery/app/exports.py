"""Files a user takes away: the bake plan as CSV for a spreadsheet or the bakery wall."""

from __future__ import annotations

from typing import Any

import pandas as pd

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


def bake_plan_csv(
    plan: pd.DataFrame, names: dict[str, str], overrides: dict[str, dict[str, Any]] | None = None
) -> bytes:
    """One row per product, the biggest quantity first, in Spanish column names; UTF-8 with a BOM. A product a
    manager changed carries the new quantity, its reason code, who and the note in the `cambio*` columns."""
    overrides = overrides or {}

    def pick(key: str) -> pd.Series:
        return plan["product_id"].map(lambda p: (overrides.get(p) or {}).get(key))

    out = plan.assign(
        name=plan["product_id"].map(names),
        override_quantity=pick("quantity"),
        override_reason=pick("reason_code"),
        override_by=pick("by"),
        override_note=pick("note"),
    ).sort_values(["quantity", "product_id"], ascending=[False, True])
    out = out[list(COLUMNS)].rename(columns=COLUMNS)
    for col in ("nombre", "motivo", "aviso", "cambio_por", "cambio_nota"):
        out[col] = out[col].map(_as_text)
    return out.to_csv(index=False).encode("utf-8-sig")
