"""Plain-language forecast explanations from the model's additive components, in Spanish or English.

"+18% vs last Tuesday: public holiday (+9), rain (-3)". The comparison is with the last observed
same weekday (or the same number of past days), so the weekly component is left out of the reasons.
"""

from __future__ import annotations

import math
from datetime import date

from bakery.app.i18n import t, weekday
from bakery.app.queries import CLOSED_MODEL, NOT_OFFERED_MODEL
from bakery.models.reasons import COLD_START, Reason

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
    text = f"{abs(x):.{digits}f}"
    if lang == "es":
        text = text.replace(".", ",")
    return ("+" if x >= 0 else "\u2212") + text


def explain(
    yhat: float,
    components: dict[str, float],
    lang: str,
    *,
    reference: float | None = None,
    reference_label: str | None = None,
    fallback_reason: str | None = None,
    zero_day: str | None = None,
) -> str:
    """One sentence: the change against the reference (e.g. last Tuesday), then the main reasons in units;
    or, for a zero day (the model of every day of the forecast: serving.CLOSED_MODEL or NOT_OFFERED_MODEL), that
    the store is expected to be closed or the product off sale."""
    if zero_day:
        return t(ZERO_DAY_TEXT[zero_day], lang)
    if fallback_reason:
        reason = Reason.parse(fallback_reason)
        if reason is not None and reason.code == COLD_START and reason.launched_on is not None:
            return t("explain.cold_start", lang, day=reason.launched_on.strftime("%d/%m"))
        return t("explain.fallback", lang, reason=fallback_reason)
    if reference is not None and reference > 0 and math.isfinite(yhat) and reference_label:
        head = t(
            "explain.vs",
            lang,
            change=_signed(100.0 * (yhat - reference) / reference, lang),
            ref=reference_label,
        )
    else:
        head = t("explain.expected", lang, value=f"{yhat:.0f}")
    reasons = top_reasons(components, yhat)
    if not reasons:
        return f"{head}: {t('explain.usual', lang)}"
    return f"{head}: " + ", ".join(f"{component_label(k, lang)} ({_signed(v, lang)})" for k, v in reasons)


def last_weekday_label(d: date, lang: str) -> str:
    """'last Tuesday' / 'el martes pasado'."""
    return t("explain.last_day", lang, day=weekday(d, lang))


def last_days_label(n: int, lang: str) -> str:
    return t("explain.last_days", lang, n=n)
