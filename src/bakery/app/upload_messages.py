"""Upload problems in the user's language. The ingest checks (bakery.ingest) word their reasons in English for the
command line, the logs and the bad-rows files; the upload page shows a Spanish user the same facts in Spanish,
rebuilt from the rule code, the column, the value and the figures the English reason states. English users keep the
original wording."""

from __future__ import annotations

import re
from typing import Any

from bakery.app.i18n import t
from bakery.ingest.readers import FileRejected
from bakery.ingest.reshape import ReshapeError

_LIMIT = re.compile(r"(?:limit is|limit) [a-z_.]*=?(\d+)")
_MIB = re.compile(r"(\d+) MiB")
_LINE = re.compile(r"near line (\d+)")
_MISSING = re.compile(r"missing required column\(s\) (.+?) \(file columns: (.*)\)")
_SUFFIX = re.compile(r"unsupported file type '([^']*)'")
_RANGE = re.compile(r"outside the allowed range \[([^,\]]+), ([^\]]+)\]")
_ONE_OF = re.compile(r"is not one of (.+)$")
_FORMAT = re.compile(r"expected format (.+)$")
_CHARS = re.compile(r"of (\d+) characters is longer than the limit of (\d+)")
_FIELDS = re.compile(r"expected (\d+) fields?, (?:found|got) (\d+)")
_QUOTED = re.compile(r"'([^']{1,80})'")
_COUNT = re.compile(r"^(\d+) (?:rows|columns)")


def file_message(exc: Exception, lang: str) -> str:
    """Why a whole file (or the upload itself) was refused, as one sentence without the "File rejected:" lead."""
    text = exc.reason if isinstance(exc, FileRejected) else str(exc)
    if lang != "es":
        return text
    if isinstance(exc, FileRejected):
        return _file_rule(exc.rule, text)
    if isinstance(exc, ReshapeError):
        if "not valid JSON" in text or "expected a JSON object" in text:
            return t("upmsg.shape_json", lang)
        name = _QUOTED.search(text)
        return t("upmsg.shape_name", lang, name=name.group(1)) if name else t("upmsg.shape", lang)
    if "MiB limit" in text:
        mib = _MIB.search(text)
        return t("upmsg.too_large", lang, mib=mib.group(1) if mib else "?")
    if text.startswith("replaces:"):
        return t("upmsg.replaces", lang)
    if text.startswith("kind "):
        return t("upmsg.kind", lang)
    return t("upmsg.other", lang)


def fatal_message(text: str, lang: str) -> str:
    """Why the dry run checked no row (the report's `fatal`: missing columns, a bad mapping, no data rows)."""
    if lang != "es" or not text:
        return text
    if text.startswith("missing required column"):
        return _file_rule("file:missing_columns", text)
    if text == "the file has no data rows":
        return t("upmsg.no_rows", lang)
    return t("upmsg.mapping", lang)


def _file_rule(rule: str, reason: str) -> str:
    check = rule.partition(":")[2]
    if check == "missing_columns":
        m = _MISSING.search(reason)
        if m:
            found = m.group(2) if m.group(2) != "none" else t("upmsg.none", "es")
            return t("upmsg.missing_columns", "es", missing=m.group(1), found=found)
    if check == "unsupported_format":
        m = _SUFFIX.search(reason)
        return t("upmsg.unsupported_format", "es", suffix=m.group(1) if m else "")
    if check == "unreadable" and (m := _LINE.search(reason)):
        return t("upmsg.unreadable_line", "es", line=m.group(1))
    if check in ("too_many_rows", "too_many_columns", "too_large_decoded", "too_large"):
        limit = _LIMIT.search(reason)
        count = _COUNT.search(reason)
        return t(
            f"upmsg.{check}",
            "es",
            limit=limit.group(1) if limit else "?",
            count=count.group(1) if count else "?",
        )
    if reason.startswith("the file is UTF-16"):
        return t("upmsg.utf16", "es")
    if reason == "the file has no header line":
        return t("upmsg.no_header", "es")
    key = f"upmsg.{check}"
    words = t(key, "es")
    return words if words != key else t("upmsg.other", "es")


def row_detail(error: dict[str, Any], lang: str) -> str:
    """The detail of one row's problem (a validation error of the report: rule, column, value, reason)."""
    reason = str(error.get("reason") or "")
    if lang != "es":
        return reason
    check = str(error.get("rule") or "").partition(":")[0]
    value = error.get("value")
    shown = "" if value is None else repr(str(value)[:60])
    args: dict[str, Any] = {"value": shown}
    if check == "range" and (m := _RANGE.search(reason)):
        args.update(low=_number(m.group(1)), high=_number(m.group(2)))
    elif check == "values" and (m := _ONE_OF.search(reason)):
        args.update(allowed=m.group(1))
    elif check == "pattern" and (m := _FORMAT.search(reason)):
        args.update(pattern=m.group(1))
    elif check == "too_long" and (m := _CHARS.search(reason)):
        args.update(length=m.group(1), limit=m.group(2))
    elif check == "malformed_row" and (m := _FIELDS.search(reason)):
        args.update(expected=m.group(1), found=m.group(2))
        check = "malformed_fields"
    elif check == "type":
        args.update(kind=t(f"upmsg.type.{_type_of(reason)}", "es"))
    elif check == "duplicate" or reason.startswith("duplicate key of"):
        check = "duplicate"
    key = f"upmsg.row.{check}"
    try:
        words = t(key, "es", **args)
    except (KeyError, IndexError):  # a reason whose figures could not be read: the rule in words, the value
        words = key
    if words == key:
        return t("upmsg.row.other", "es", value=shown) if shown else ""
    return words


def _number(text: str) -> str:
    """ "0.0" -> "0", "1000000.0" -> "1000000": bounds as a person writes them."""
    text = text.strip()
    return text[:-2] if text.endswith(".0") else text


def _type_of(reason: str) -> str:
    for key, words in (
        ("date", "a date as"),
        ("timestamp", "timestamp"),
        ("double", "a number"),
        ("long", "a whole number"),
        ("boolean", "true or false"),
    ):
        if words in reason:
            return key
    return "other"
