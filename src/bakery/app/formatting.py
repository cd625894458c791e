"""How the analyst and admin pages show counts, percentages and instants: in the reader's language (Spanish
1.234 and 12,5 %, dd/mm/aaaa) and with the time zone named, so that no figure or time is read two ways."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from bakery.app.i18n import TEXTS, fmt_date, fmt_num, t


def fmt_count(x: Any, lang: str) -> str:
    """A count: whole, with the language's thousands separator ("4.602", never "4.602,0")."""
    if x is None or (isinstance(x, float) and x != x):
        return "\u2013"
    return fmt_num(round(float(x)), lang, 0)


def fmt_pct(share: float | None, lang: str, digits: int = 1) -> str:
    """A share (0.0123) as a percentage with the language's decimal mark ("1,2 %" / "1.2%")."""
    if share is None or share != share:
        return "\u2013"
    text = fmt_num(100 * float(share), lang, digits)
    return f"{text}\u00a0%" if lang == "es" else f"{text}%"


def as_utc(value: Any) -> datetime | None:
    """A stored instant (datetime, ISO text, pandas Timestamp; naive means UTC) as an aware UTC datetime."""
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return None
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        return None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime().astimezone(UTC)


def fmt_instant(value: Any, lang: str) -> str:
    """An instant as day and minute with its time zone: "07/12/2026 13:21 UTC" (es)."""
    when = as_utc(value)
    if when is None:
        return ""
    return f"{fmt_date(when.date(), lang)} {when:%H:%M} UTC"


def fmt_day(value: Any, lang: str) -> str:
    """A calendar day (date, ISO text or Timestamp) as dd/mm/aaaa (es) or yyyy-mm-dd (en); '–' when missing."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return "\u2013"
    if isinstance(value, datetime):
        return fmt_date(value.date(), lang)
    if isinstance(value, date):
        return fmt_date(value, lang)
    return fmt_date(pd.Timestamp(value).date(), lang)


def model_label(code: Any, lang: str) -> str:
    """A model or role as words ("Referencia: mismo día de la semana anterior" for seasonal_naive); a model the app has
    no words for keeps its name."""
    key = f"model.{code}"
    return t(key, lang) if key in TEXTS else str(code)


def code_words(prefix: str, code: Any, lang: str) -> str:
    """A code (a severity, a data-quality check, a run status…) as the app's words `<prefix>.<code>`; the code
    itself when the app has no words for it, so a new code is still shown."""
    text = "" if code is None or (isinstance(code, float) and code != code) else str(code)
    key = f"{prefix}.{text}"
    return t(key, lang) if key in TEXTS else text


def rule_words(rule: Any, lang: str, with_column: bool = True) -> str:
    """A row rule `<check>:<column>` (quarantine, upload validation) as words: "fuera de rango
    (quantity_sold)", or without the column where a table shows it beside."""
    check, _, column = ("" if rule is None else str(rule)).partition(":")
    words = code_words("rule", check, lang)
    return f"{words} ({column})" if column and with_column else words


def fmt_eur(x: Any, lang: str, digits: int = 2) -> str:
    """Euros the language's way: "1.234,50 €" (es) or "€1,234.50" (en); '–' when missing."""
    if x is None or (isinstance(x, float) and x != x):
        return "\u2013"
    text = fmt_num(float(x), lang, digits)
    return f"{text}\u00a0€" if lang == "es" else f"€{text}"
