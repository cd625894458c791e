"""Column mapping: which file column feeds which template column (explicit mapping, then name, then synonym)."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bakery.config import Settings, SourceSpec, resolve_conf_dir

SYNONYMS_FILE = "mapping_synonyms.yml"


def normalize_header(name: str) -> str:
    """Header identity for matching: case, accents, spaces and punctuation do not count."""
    text = unicodedata.normalize("NFKD", name.replace("\ufeff", "").replace("ß", "ss"))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


@dataclass(frozen=True)
class Synonyms:
    """Synonyms per template column, for all kinds and per kind, already normalized."""

    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kinds: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def for_column(self, kind: str, column: str) -> tuple[str, ...]:
        return self.kinds.get(kind, {}).get(column, ()) + self.columns.get(column, ())


def _normalized(body: Mapping[str, list[str]] | None) -> dict[str, tuple[str, ...]]:
    return {
        col: tuple(normalize_header(str(s)) for s in (names or [])) for col, names in (body or {}).items()
    }


@functools.lru_cache(maxsize=8)
def _load(path: Path) -> Synonyms:
    if not path.exists():
        return Synonyms()
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Synonyms(
        columns=_normalized(raw.get("columns")),
        kinds={k: _normalized(v) for k, v in (raw.get("kinds") or {}).items()},
    )


def load_synonyms(settings: Settings | None = None) -> Synonyms:
    """mapping_synonyms.yml of the settings' conf dir, or of the default one (empty if the file is absent)."""
    conf_dir = Path(settings.conf_dir) if settings is not None else resolve_conf_dir()
    return _load(conf_dir / SYNONYMS_FILE)


@dataclass
class ColumnMapping:
    """The outcome of mapping one file's headers onto a template."""

    headers: list[str]
    assigned: dict[str, int]
    how: dict[str, str]
    missing_required: list[str]
    problems: list[str]

    @property
    def unmapped(self) -> list[int]:
        used = set(self.assigned.values())
        return [i for i in range(len(self.headers)) if i not in used]

    def source_names(self) -> dict[str, str]:
        """Template column -> file header, for reports."""
        return {col: self.headers[i] for col, i in self.assigned.items()}

    def describe_missing(self) -> str:
        found = ", ".join(repr(h) for h in self.headers) or "none"
        return (
            f"missing required column(s) {', '.join(self.missing_required)} (file columns: {found}); "
            "rename them or pass a mapping"
        )


def _find_header(headers: list[str], wanted: str) -> int | None:
    if wanted in headers:
        return headers.index(wanted)
    norm = normalize_header(wanted)
    return next((i for i, h in enumerate(headers) if normalize_header(h) == norm), None)


def map_columns(
    headers: list[str], spec: SourceSpec, synonyms: Synonyms, explicit: Mapping[str, str | None] | None = None
) -> ColumnMapping:
    """Assign each template column a file column: the explicit mapping first, then exact name, then synonyms.

    An explicit `{"col": null}` keeps that template column unmapped. Each file column feeds at most one
    template column; the first file column that matches wins.
    """
    assigned: dict[str, int] = {}
    how: dict[str, str] = {}
    problems: list[str] = []
    skip: set[str] = set()
    for col, source in (explicit or {}).items():
        if col not in spec.column_names:
            problems.append(
                f"mapping names {str(col)!r:.80}, which is not a column of the {spec.kind} "
                f"template (columns: {', '.join(spec.column_names)})"
            )
        elif source is None or source == "":
            skip.add(col)
        elif (idx := _find_header(headers, str(source))) is None:
            problems.append(
                f"mapping says {col} <- {str(source)!r:.80}, but the file has no such column "
                f"(file columns: {', '.join(repr(h) for h in headers)})"
            )
        elif idx in assigned.values():
            problems.append(f"mapping uses file column {str(source)!r:.80} for more than one template column")
        else:
            assigned[col], how[col] = idx, "mapping"
    normalized = [normalize_header(h) for h in headers]
    for stage in ("name", "synonym"):
        for col in spec.column_names:
            if col in assigned or col in skip:
                continue
            names = (normalize_header(col),) if stage == "name" else synonyms.for_column(spec.kind, col)
            used = set(assigned.values())
            idx = next(
                (i for name in names for i, h in enumerate(normalized) if h == name and i not in used), None
            )
            if idx is not None:
                assigned[col], how[col] = idx, stage
    missing = [c for c in spec.required if c not in assigned]
    ordered = {c: assigned[c] for c in spec.column_names if c in assigned}
    return ColumnMapping(list(headers), ordered, how, missing, problems)
