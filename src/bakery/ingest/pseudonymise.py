"""Pseudonymise personal data as a file enters bronze: personal columns keep only a keyed hash of each value.

A column is personal when its template column name, or (for a column no template column takes, which would
go to `_rescued_data`) its header, starts at a word with one of `privacy.personal_columns`, or when an
unmapped column holds a value shaped like an e-mail address or a phone number. Each of its values becomes
`pseudonym(value, key)`: `p_` and the first 16 hex digits of HMAC-SHA256(key, value with the spaces around it
trimmed). The same key and value always give the same pseudonym, so counts and joins on it still work, and
without the key it cannot be reversed or recomputed from a guess. In a malformed row, every value shaped like
an e-mail or phone number is replaced too, and so is every field of its raw text (`_raw`) that equals one of
the row's personal values or has such a shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from bakery.config import Settings, required
from bakery.ingest.readers import RawTable

log = logging.getLogger(__name__)

PREFIX = "p_"
DIGITS = 16
KEY_FILE = Path("secrets") / "pseudonym_key"
# Cheap linear pre-filters (RE2, run by Arrow) before the exact checks in Python.
_MAYBE_PHONE = r"[0-9][0-9 ().\-]{5,}[0-9]"
_PHONE_CHARS = frozenset("0123456789 +-.()")
_GLUE = frozenset("0123456789-")  # a run starting or ending with these, touching a letter, is part of a code
# Where a raw line of a malformed row is cut into fields (the separator is kept).
_FIELD_SEPARATORS = re.compile(r"([,;\t|:{}\[\]])")
_QUOTES_AND_SPACE = " \t\"'"
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_TOKEN_SEPARATORS = re.compile(r"[\s<>,;()\[\]{}\"'`|:]+")


class PseudonymKeyError(RuntimeError):
    """The pseudonym key cannot be loaded: a setup problem to fix, never a reason to refuse a file."""


@dataclass(frozen=True)
class PrivacyRules:
    """Which headers name personal columns: words compared at the start of a word of the header."""

    words: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> PrivacyRules:
        words = required(settings, "privacy.personal_columns") or []
        if not isinstance(words, list):
            raise ValueError(f"conf privacy.personal_columns must be a list of words, got {words!r}")
        return cls(tuple(w for w in ("".join(_parts(str(word))) for word in words) if w))


def _parts(name: str) -> list[str]:
    """A name's words, lower-case, without accents or punctuation: `Customer E-mail` -> customer, e, mail."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return [p for p in _NOT_ALNUM.split(text) if p]


def _word_starts(name: str, width: int) -> list[str]:
    """The text from each word of a name on, words joined, cut at `width` characters (linear in the name)."""
    parts = _parts(name)
    starts = []
    for i in range(len(parts)):
        text, j = "", i
        while len(text) < width and j < len(parts):
            text += parts[j]
            j += 1
        starts.append(text[:width])
    return starts


def is_personal_column(name: str, rules: PrivacyRules) -> bool:
    """Whether a header or column name starts, at one of its words, with a personal word (`CustomerID`,
    `e-mail`, `Loyalty card no.`); `discard` does not match `card`."""
    if not rules.words:
        return False
    starts = _word_starts(name, max(map(len, rules.words)))
    return any(start.startswith(w) for start in starts for w in rules.words)


def looks_like_email(text: str) -> bool:
    """`local@domain.tld` without spaces (checked by splitting, not by a pattern)."""
    local, at, domain = text.strip().rpartition("@")
    if not at or not local or "@" in local or any(c.isspace() for c in text.strip()):
        return False
    host, dot, tld = domain.rpartition(".")
    return bool(host and dot and len(tld) >= 2 and tld.isalpha())


def looks_like_phone(text: str) -> bool:
    """7 to 15 digits written as a phone number: with a leading `+` or `00`, or in groups split by spaces,
    dashes, dots or parentheses. Dates, decimals, thousands-grouped numbers and bare digit runs (barcodes,
    ticket numbers) are not phone numbers."""
    t = text.strip()
    if not t or not set(t) <= _PHONE_CHARS or t.count("+") > 1 or "+" in t[1:]:
        return False
    digits = sum(c.isdigit() for c in t)
    if not 7 <= digits <= 15:
        return False
    if t.startswith("+") or (t.startswith("00") and t.isdigit() and digits >= 10):
        return True
    groups = [g for g in re.split(r"[ ().\-]+", t) if g]
    if len(groups) < 2:
        return False
    sizes = [len(g) for g in groups]
    if len(groups) == 3 and sorted(sizes) == [2, 2, 4]:
        return False  # a date: 2026-01-31, 31.01.2026
    only_dots = "." in t and " " not in t and "-" not in t
    return not (only_dots and (len(groups) == 2 or all(s == 3 for s in sizes[1:])))  # 1234567.5, 12.345.678


def _phone_runs(text: str) -> list[str]:
    """Stretches of digits, spaces and `+-.()` holding 7 digits or more, in one pass over the text. A stretch
    glued to a letter (`SKU-123-4567`, a hex pseudonym) or joined to digits by `:` or `/` (a time, a date) is
    not a phone number."""
    runs, i, n = [], 0, len(text)
    while i < n:
        if text[i] not in _PHONE_CHARS:
            i += 1
            continue
        start, end = i, i
        while end < n and text[end] in _PHONE_CHARS:
            end += 1
        j = end
        while i < j and text[i] in " .-":
            i += 1
        while j > i and text[j - 1] in " .-":
            j -= 1
        glued = (start > 0 and _word_char(text[start - 1]) and text[start] in _GLUE) or (
            end < n and _word_char(text[end]) and text[end - 1] in _GLUE
        )
        before, after = text[max(i - 2, 0) : i], text[j : j + 2]
        timed = (before[-1:] in (":", "/") and before[:1].isdigit()) or (
            after[:1] in (":", "/") and after[1:2].isdigit()
        )
        if not glued and not timed and sum(c.isdigit() for c in text[i:j]) >= 7:
            runs.append(text[i:j])
        i = end
    return runs


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def looks_personal(text: str) -> bool:
    """Whether a text holds an e-mail address or a phone number anywhere (`Ana <ana@x.org>`, `tel. 6...`)."""
    if "@" in text and any(looks_like_email(t) for t in _TOKEN_SEPARATORS.split(text) if "@" in t):
        return True
    return any(looks_like_phone(run) for run in _phone_runs(text))


def pseudonym(value: str, key: bytes) -> str:
    """The pseudonym of one value: `p_` + 16 hex digits of HMAC-SHA256(key, value trimmed)."""
    digest = hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:DIGITS]


def is_pseudonym(text: str) -> bool:
    t = text.strip()
    return (
        len(t) == len(PREFIX) + DIGITS
        and t.startswith(PREFIX)
        and all(c in "0123456789abcdef" for c in t[len(PREFIX) :])
    )


def load_pseudonym_key(settings: Settings) -> bytes:
    """The pseudonym key: the env var `privacy.key_env`, else on Databricks (storage.mode databricks) the
    secret `privacy.databricks_secret`, else <home>/secrets/pseudonym_key, created once (mode 0600, never in
    the repository).

    PseudonymKeyError when it cannot be had (no secret, unreadable key file).
    """
    try:
        key = _load_key(settings)
    except PseudonymKeyError:
        raise
    except Exception as exc:  # any failure to get the secret is the same setup problem
        raise PseudonymKeyError(
            f"the pseudonym key could not be loaded: {type(exc).__name__}: {exc}"
        ) from exc
    if not key:
        raise PseudonymKeyError("the pseudonym key is empty")
    return key


def _load_key(settings: Settings) -> bytes:
    env_name = str(required(settings, "privacy.key_env"))
    if os.environ.get(env_name):
        return os.environ[env_name].encode("utf-8")
    if settings.get("storage.mode") == "databricks":
        from databricks.sdk import WorkspaceClient

        ref = required(settings, "privacy.databricks_secret")
        value = WorkspaceClient().secrets.get_secret(scope=ref["scope"], key=ref["key"]).value
        return base64.b64decode(value or "")
    path = settings.home / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use that one
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            log.warning(
                "%s is not set: generated a pseudonym key in %s; back it up with the home", env_name, path
            )
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


# ---- arrays and raw tables ---------------------------------------------------------------------------------
def pseudonymise_array(values: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """Every non-null value replaced by its pseudonym (one HMAC per distinct value)."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    distinct = pc.unique(values).drop_null()
    names = pa.array([pseudonym(v, key) for v in distinct.to_pylist()], pa.string())
    return pc.take(names, pc.index_in(values, value_set=distinct))


def _candidates(values: pa.Array | pa.ChunkedArray) -> list[str]:
    """Distinct values that may be an e-mail or a phone number (Arrow's pre-filter; Python checks them)."""
    maybe = pc.or_(pc.match_substring(values, "@"), pc.match_substring_regex(values, _MAYBE_PHONE))
    return pc.unique(pc.filter(values, pc.fill_null(maybe, False))).drop_null().to_pylist()


def holds_personal_values(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether any value of a text column looks like an e-mail address or a phone number."""
    return any(looks_personal(v) for v in _candidates(values))


def _shaped(values: pa.Array, key: bytes) -> pa.Array:
    """Only the values shaped like an e-mail or a phone number replaced by their pseudonym."""
    found = {v: pseudonym(v, key) for v in _candidates(values) if looks_personal(v)}
    return pa.array([found.get(v, v) if v is not None else None for v in values.to_pylist()], pa.string())


def scrub_line(line: str, personal: Iterable[str], key: bytes) -> str:
    """A raw line with each field equal to one of `personal` or shaped like an e-mail/phone pseudonymised."""
    known = {p.strip() for p in personal if p and p.strip()}
    pieces = _FIELD_SEPARATORS.split(line)
    for i in range(0, len(pieces), 2):
        core = pieces[i].strip(_QUOTES_AND_SPACE)
        if core and (core in known or looks_personal(core)):
            pieces[i] = pieces[i].replace(core, pseudonym(core, key))
    return "".join(pieces)


@dataclass
class Pseudonymised:
    """What pseudonymise_columns changed: personal columns (by name or values), malformed rows scrubbed."""

    columns: list[str]
    malformed_rows: int = 0


def pseudonymise_columns(
    headers: list[str],
    columns: list[pa.Array],
    malformed: pa.Array,
    raw: pa.Array,
    template_names: dict[int, str],
    rules: PrivacyRules,
    key: Callable[[], bytes],
) -> tuple[list[pa.Array], pa.Array, Pseudonymised]:
    """The file's text columns and raw lines with personal data replaced by pseudonyms.

    `template_names`: file column index -> the template column it feeds (the others go to `_rescued_data`).
    `key` is called only when something is to be replaced, so a file without personal data needs no key.
    """
    out = list(columns)
    done = Pseudonymised([])
    personal: list[int] = []
    for i, values in enumerate(columns):
        if values.null_count == len(values):
            continue
        name = template_names.get(i)
        if is_personal_column(name if name is not None else headers[i], rules) or (
            name is None and holds_personal_values(values)
        ):
            personal.append(i)
            out[i] = pseudonymise_array(values, key())
            done.columns.append(headers[i])
    bad_rows = pc.is_valid(malformed)
    if not pc.any(bad_rows).as_py():
        return out, raw, done
    rows = pc.indices_nonzero(bad_rows)
    for i, values in enumerate(out):
        if i not in personal and values.null_count < len(values) and holds_personal_values(values.take(rows)):
            shaped = _shaped(values.take(rows), key())
            full = values.to_pylist()
            for r, v in zip(rows.to_pylist(), shaped.to_pylist(), strict=True):
                full[r] = v
            out[i] = pa.array(full, pa.string())
    lines = raw.to_pylist()
    # the personal values of each malformed row, as the file had them (to find them in its raw text)
    originals = (
        list(zip(*(columns[i].take(rows).to_pylist() for i in personal), strict=True)) if personal else []
    )
    for k, r in enumerate(rows.to_pylist()):
        known = [v for v in originals[k] if v is not None] if originals else []
        if lines[r] is not None and (known or _maybe_personal(lines[r])):
            scrubbed = scrub_line(lines[r], known, key())
            if scrubbed != lines[r]:
                lines[r] = scrubbed
                done.malformed_rows += 1
    return out, pa.array(lines, pa.string()), done


def _maybe_personal(line: str) -> bool:
    return "@" in line or sum(c.isdigit() for c in line) >= 7


def pseudonymise_raw(
    raw: RawTable, template_names: dict[int, str], rules: PrivacyRules, key: Callable[[], bytes]
) -> tuple[RawTable, Pseudonymised]:
    """A readers.RawTable with its personal data pseudonymised (see pseudonymise_columns), and the changes."""
    columns = [raw.column(i).combine_chunks() for i in range(len(raw.headers))]
    cols, lines, done = pseudonymise_columns(
        list(raw.headers), columns, raw.malformed, raw.raw, template_names, rules, key
    )
    data = pa.table({f"c{i}": c for i, c in enumerate(cols)}) if cols else raw.data
    return replace(raw, data=data, raw=lines), done
