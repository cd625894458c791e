"""Plain-language forecast explanations from the model's additive components, in Spanish or English.

"+18 % vs. el martes pasado: festivo (+9), lluvia (−3)". The comparison is with the last observed
same weekday (or the same number of past days), so the weekly component is left out of the reasons.
The words always agree with the figure: a change of USUAL_CHANGE_PCT or more is never "in line with usual", and a
forecast without a reference is not compared with anything. A fallback's reason is worded from its fields
(gold.forecasts' reason_code, launched_on and reason_facts; bakery.models.reasons), never from or as its stored
English text.
"""

from __future__ import annotations

import math
from datetime import date

from bakery.app.i18n import fmt_num, t, weekday
from bakery.app.queries import CLOSED_MODEL, NOT_OFFERED_MODEL
from bakery.models.reasons import (
    ALL_ZERO,
    COLD_START,
    NO_HISTORY,
    NO_LEVEL,
    STALE,
    TOO_SHORT,
    TOO_SPARSE,
    Reason,
)

# Component name (or prefix) -> i18n key of its plain name.
_LABELS = {
    "holidays": "comp.holidays",
    "holiday": "comp.holidays",
    "school_holiday": "comp.school_holiday",
    "promo": "comp.promo",
    "promotion": "comp.promo",
    "event": "comp.event",
    "events": "comp.event",
    "precipitation": "comp.rain",
    "rain": "comp.rain",
    "temperature": "comp.temperature",
    "humidity": "comp.humidity",
    "wind_speed": "comp.wind",
    "weather_condition_code": "comp.weather",
    "yearly": "comp.yearly",
    "trend": "comp.trend",
    "weekly": "comp.weekly",
    "foot_traffic": "comp.traffic",
    "stockout": "comp.stockout",
}
# A change against the reference smaller than this (in %) is "in line with usual"; larger ones are not.
USUAL_CHANGE_PCT = 10.0
ZERO_DAY_TEXT = {CLOSED_MODEL: "explain.closed", NOT_OFFERED_MODEL: "explain.not_offered"}
_SKIP = {"weekly", "additive_terms", "multiplicative_terms", "yhat", "extra_regressors_additive"}


def component_label(name: str, lang: str) -> str:
    """The plain name of a component; unknown regressors are shown with their name humanized."""
    key = _LABELS.get(name)
    if key is None:
        for prefix, k in _LABELS.items():
            if name.startswith(prefix + "_") or name.startswith(prefix):
                key = k
                break
    return t(key, lang) if key else name.replace("_", " ")


def top_reasons(components: dict[str, float], yhat: float, limit: int = 3) -> list[tuple[str, float]]:
    """The components that move this forecast most, largest first (trend only if nothing else matters)."""
    floor = max(0.5, 0.03 * abs(yhat))
    ranked = sorted(
        ((k, v) for k, v in components.items() if k not in _SKIP and math.isfinite(v)),
        key=lambda kv: -abs(kv[1]),
    )
    strong = [(k, v) for k, v in ranked if abs(v) >= floor and k != "trend"]
    return strong[:limit]


def _signed(x: float, lang: str, digits: int = 0) -> str:
    return ("+" if x >= 0 else "\u2212") + fmt_num(abs(x), lang, digits)


def fallback_text(reason: Reason, lang: str) -> str:
    """Why the reference forecast stands in for the model, as a sentence for a store manager."""
    if reason.code == COLD_START and reason.launched_on is not None:
        return t("explain.cold_start", lang, day=reason.launched_on.strftime("%d/%m"))
    facts = reason.facts
    if reason.code == TOO_SHORT and facts:
        why = t("reason.too_short_gap" if facts.get("after_gap") else "reason.too_short", lang, **facts)
    elif reason.code in (STALE, TOO_SPARSE) and facts:
        why = t(f"reason.{reason.code}", lang, **facts)
    elif reason.code == ALL_ZERO:
        why = t("reason.all_zero", lang)
    elif reason.code in (NO_HISTORY, NO_LEVEL):
        why = t("reason.no_history", lang)
    else:  # model errors and unknown codes: the detail is for the data team, not the shop
        why = t("reason.error", lang)
    return f"{t('reason.prefix', lang)}: {why}"


def explain(
    yhat: float,
    components: dict[str, float],
    lang: str,
    *,
    reference: float | None = None,
    reference_label: str | None = None,
    fallback: Reason | None = None,
    zero_day: str | None = None,
) -> str:
    """One sentence: the change against the reference (e.g. last Tuesday), then the main reasons in units;
    or, for a zero day (the model of every day of the forecast: serving.CLOSED_MODEL or NOT_OFFERED_MODEL), that
    the store is expected to be closed or the product off sale. fallback: the reason a simpler forecast stands in
    (Reason.of_row of the series' row)."""
    if zero_day:
        return t(ZERO_DAY_TEXT[zero_day], lang)
    if fallback is not None:
        return fallback_text(fallback, lang)
    reasons = top_reasons(components, yhat)
    because = ", ".join(f"{component_label(k, lang)} ({_signed(v, lang)})" for k, v in reasons)
    if reference is not None and reference > 0 and math.isfinite(yhat) and reference_label:
        change = 100.0 * (yhat - reference) / reference
        head = t("explain.pct_vs", lang, change=_signed(change, lang), ref=reference_label)
        if because:
            return f"{head}: {because}"
        usual = abs(change) < USUAL_CHANGE_PCT
        return f"{head}: {t('explain.usual' if usual else 'explain.no_driver', lang)}"
    if not math.isfinite(yhat) or round(yhat) <= 0:
        return t("explain.nothing", lang)
    head = t("explain.expected", lang, value=fmt_num(yhat, lang))
    return f"{head}: {because}" if because else head


def last_weekday_label(d: date, lang: str) -> str:
    """'last Tuesday' / 'el martes pasado'."""
    return t("explain.last_day", lang, day=weekday(d, lang))


def last_days_label(n: int, lang: str) -> str:
    return t("explain.last_days", lang, n=n)
