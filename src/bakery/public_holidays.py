"""The one resolution of a store's public holidays: country + ISO 3166-2 subdivision -> {date: name}.

Gold's calendar (gold.features.is_holiday and the holiday levels), Prophet's holiday table and the days-around
features (bakery.models.calendar), and the import check of a store's subdivision (bakery.ingest.validate) all
go through here, so a store cannot get one set of holidays in its features and another in its model. What each
adds on top is its own and documented there: gold adds holiday events and city holidays, the models the
configured categories (e.g. Catholic days in Germany) and bakery days (models.yml `prophet.holiday_categories`,
`extra_days`). Spark-free: model code runs it inside pandas UDFs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

import holidays

log = logging.getLogger(__name__)


def _warn(warnings: list[str] | None, message: str, quiet: bool) -> None:
    if not quiet:
        log.warning("%s", message)
    if warnings is not None:
        warnings.append(message)


def subdivision_problem(country: str, subdivision: str) -> str | None:
    """What is wrong with a store's subdivision for its country (None when it is an ISO 3166-2 code of it). One
    the holidays package has no regional holidays for (FR-IDF) is fine: the store gets its national holidays."""
    if not subdivision.upper().startswith(f"{country.upper()}-"):
        return f"is not a subdivision of country {country!r} (an ISO 3166-2 code starting with '{country}-')"
    return None


def subdivision_code(
    country: str,
    subdivision: str | None,
    known: Iterable[str],
    aliases: dict[str, str],
    warnings: list[str] | None = None,
    quiet: bool = False,
) -> str | None:
    """Map ISO 3166-2 (`ES-MD`), a bare code (`MD`) or a name alias (`Madrid`) to the package's code."""
    if not subdivision or not str(subdivision).strip():
        return None
    text = str(subdivision).strip()
    code = text.upper()
    if code.startswith(f"{country}-"):
        code = code[len(country) + 1 :]
    by_upper = {k.upper(): k for k in known}
    if code in by_upper:
        return by_upper[code]
    alias = {k.upper(): v for k, v in aliases.items()}.get(text.upper())
    if alias:
        return alias
    _warn(
        warnings,
        f"holidays: subdivision {subdivision!r} is not known for country {country}; using national holidays only",
        quiet,
    )
    return None


def public_holidays(
    country: str | None,
    subdivision: str | None,
    years: Iterable[int],
    warnings: list[str] | None = None,
    *,
    categories: tuple[str, ...] | None = None,
    native_names: bool = True,
    quiet: bool = False,
) -> tuple[dict[date, str], set[date]]:
    """A store's public holidays {date: name} (national + its subdivision's) and which dates are national.

    categories: the holidays package's categories (None = its default, public holidays); a category the country
    does not have falls back to the default with a warning. native_names: names in the country's own language
    (else the package's English). An unknown or missing country gives no holidays and a warning, never an error;
    quiet collects warnings without logging them (a model fitting every series would repeat them)."""
    years = list(years)
    code = str(country or "").strip().upper()
    extra = {} if categories is None else {"categories": tuple(categories)}
    try:
        national = holidays.country_holidays(code, years=years, **extra) if code else None
    except NotImplementedError:
        national = None
    except (KeyError, ValueError) as exc:
        _warn(
            warnings,
            f"holidays: categories {categories} unknown for country {code} ({exc}); public only",
            quiet,
        )
        extra, national = {}, holidays.country_holidays(code, years=years)
    if national is None:
        _warn(
            warnings,
            f"holidays: country {country!r} is not supported by the holidays package; no public "
            "holidays for its stores (add them to silver.events with a holiday type)",
            quiet,
        )
        return {}, set()
    language = {"language": national.default_language} if native_names and national.default_language else {}
    if language:
        national = holidays.country_holidays(code, years=years, **extra, **language)
    aliases = getattr(national, "subdivisions_aliases", {}) or {}
    subdiv = subdivision_code(code, subdivision, national.subdivisions, aliases, warnings, quiet)
    regional = (
        holidays.country_holidays(code, subdiv=subdiv, years=years, **extra, **language)
        if subdiv
        else national
    )
    return dict(regional.items()), set(national.keys()) & set(regional.keys())
